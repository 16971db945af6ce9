// Runs the real `yoke` command line (cli.ts under this Node) as a child process, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = new URL('../../cli.ts', import.meta.url).pathname;
const SCRIPT = new URL('../../yoke', import.meta.url).pathname;

/** Free loopback TCP ports (bound, read, released); UDP uses the same numbers, which are free in practice. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => r(s)); })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function writeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'yoke-test-')), 'yoke.yaml');
  writeFileSync(file, yaml);
  return file;
}

export interface Running {
  child: ChildProcess;
  logs: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `yoke run -c file` and resolves once it logged that its admin API (or last service) is up. */
export async function startYoke(file: string, env: Record<string, string> = {}, readyText = 'admin API up'): Promise<Running> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, 'run', '-c', file], {
    env: { ...process.env, YOKE_LOG_PRETTY: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      logs.push(...d.toString().split('\n').filter(Boolean));
      if (logs.some((l) => l.includes(readyText))) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    void exited.then((code) => reject(new Error(`yoke exited ${code} before ready:\n${logs.join('\n')}`)));
  });
  return { child, logs, exited };
}

/**
 * Runs the CLI to completion: its exit code and output. `via: 'script'` runs ./yoke as the README does
 * (Node 24 check, dependencies, the type-stripped build in .build/); the default runs cli.ts under this Node.
 */
export function yoke(args: string[], env: Record<string, string> = {}, via: 'source' | 'script' = 'source'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = via === 'script' ? [SCRIPT, args] : [process.execPath, ['--disable-warning=ExperimentalWarning', CLI, ...args]];
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
