// Processes the harness starts: pinned with taskset, remembered by pid (bench/out/pids, for bench/run's trap),
// stopped only by those pids. Also reads their CPU ticks and RSS from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One started process: its pid is the program's own (taskset execs it). */
export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Everything written to stdout so far, when captured. */
  stdout(): string;
  stderr(): string;
}

export interface SpawnOptions {
  /** CPU list for taskset, e.g. "0" or "1". */
  readonly core: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Send stdout and stderr to this file instead of capturing them. */
  readonly logFile?: string;
}

const started = new Map<number, Proc>();
/** Pids of processes started by code the harness imports (test/helpers/slapd.ts's slapd), listed in the pid file too. */
const adopted = new Set<number>();
let pidFile: string | undefined;

/** Keep the pids still running in this file, one a line, so a shell trap can stop them if the harness dies. */
export function setPidFile(path: string): void {
  pidFile = path;
  writePids();
}

function writePids(): void {
  if (pidFile !== undefined) writeFileSync(pidFile, [...started.keys(), ...adopted].map((p) => `${p}\n`).join(''));
}

/**
 * A process another module started and stops itself (test/helpers/slapd.ts's slapd): its pid goes in the pid file, so
 * bench/run's trap can stop it if the harness dies, until `forget`.
 */
export function adopt(pid: number): void {
  adopted.add(pid);
  writePids();
}

export function forget(pid: number): void {
  adopted.delete(pid);
  writePids();
}

/** Starts `cmd args` pinned to `opts.core`. */
export function spawnPinned(name: string, cmd: string, args: readonly string[], opts: SpawnOptions): Proc {
  const out = opts.logFile === undefined ? 'pipe' : openSync(opts.logFile, 'a');
  const child = spawn('taskset', ['-c', opts.core, cmd, ...args], {
    cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', out, out],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  const pid = child.pid;
  let so = '';
  let se = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { so += d; });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { se += d; });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => {
    started.delete(pid);
    writePids();
    resolve(code ?? sig ?? 'unknown');
  }));
  const p: Proc = { name, pid, child, exited, stdout: () => so, stderr: () => se };
  started.set(pid, p);
  writePids();
  return p;
}

/** Runs a command to its end, bounded by `timeoutMs` (then SIGKILL by pid). */
export async function runPinned(name: string, cmd: string, args: readonly string[], opts: SpawnOptions & { timeoutMs: number }): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = spawnPinned(name, cmd, args, opts);
  const timer = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }, opts.timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** SIGTERM, then SIGKILL after `graceMs` if still alive. */
export async function stop(p: Proc, graceMs = 5000): Promise<void> {
  if (!started.has(p.pid)) return;
  try { process.kill(p.pid, 'SIGTERM'); } catch { return; }
  const t = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
  await p.exited;
  clearTimeout(t);
}

/** Stops every process this harness started and that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...started.values()].map((p) => stop(p, 3000)));
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every started pid. */
export function killAllNow(): void {
  for (const pid of started.keys()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
}

/** The pid and its direct children (nginx's master and workers). */
function family(pid: number): number[] {
  const pids = [pid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(d));
    } catch { /* raced with an exit */ }
  }
  return pids;
}

/** utime+stime in clock ticks of the process (all its threads) and its direct children. */
export function cpuTicks(pid: number): number {
  let ticks = 0;
  for (const p of family(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after "(comm)": state is field 3, utime 14, stime 15.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* raced with an exit */ }
  }
  return ticks;
}

/** VmRSS in KiB of the process and its direct children. */
export function rssKiB(pid: number): number {
  let kib = 0;
  for (const p of family(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kib += Number(m?.[1] ?? 0);
    } catch { /* raced with an exit */ }
  }
  return kib;
}

/** Waits until something accepts TCP connections on 127.0.0.1:port. */
export async function waitTcp(port: number, p: Proc, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!started.has(p.pid)) throw new Error(`${p.name} exited before listening on ${port}: ${p.stderr() || p.stdout()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${p.name} did not listen on tcp ${port} within ${timeoutMs} ms`);
}

/** Waits until a UDP socket is bound to 127.0.0.1:port (seen in /proc/net/udp). */
export async function waitUdp(port: number, p: Proc, timeoutMs = 30_000): Promise<void> {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!started.has(p.pid)) throw new Error(`${p.name} exited before binding udp ${port}: ${p.stderr() || p.stdout()}`);
    if (readFileSync('/proc/net/udp', 'utf8').includes(` ${want} `)) return;
    await sleep(100);
  }
  throw new Error(`${p.name} did not bind udp ${port} within ${timeoutMs} ms`);
}

/** True when nothing listens on 127.0.0.1:port (TCP) so the harness may use it. */
export function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
