// The end-to-end bench: yoke against direct, HAProxy, nginx stream and bare Node proxies, in one run.
// Started by bench/run (which installs the peers and raises the open-file limit); see bench/README.md.
//   node bench/harness/main.ts [--quick] [--rounds N] [--seconds S] [--warm S] [SCENARIO…]
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL, QUICK, freePort, type Ctx, type Plan } from './ctx.ts';
import { killAllNow, setPidFile, stopAll } from './proc.ts';
import type { Section } from './report.ts';
import { healthScenario } from './scenarios/health.ts';
import { httpScenario } from './scenarios/http.ts';
import { mailScenario } from './scenarios/mail.ts';
import { memoryScenario } from './scenarios/memory.ts';
import { httpProfileScenario, profileScenario } from './scenarios/profile.ts';
import { syscallsScenario } from './scenarios/syscalls.ts';
import { startTcpSet, type TcpSet } from './scenarios/tcp-set.ts';
import { transferScenario } from './scenarios/transfer.ts';
import { udpScenario } from './scenarios/udp.ts';
import { tlsPassScenario, webHttpPacedScenario, webHttpScenario } from './scenarios/web.ts';

const SCENARIOS = ['keepalive', 'short', 'transfer', 'syscalls', 'udp', 'memory', 'profile', 'health', 'http', 'httppaced', 'tlspass', 'httpprofile', 'mail'] as const;
type Scenario = (typeof SCENARIOS)[number];
const TCP_SCENARIOS: readonly Scenario[] = ['keepalive', 'short', 'transfer', 'syscalls'];

function parseArgs(argv: string[]): { plan: Plan; scenarios: Scenario[] } {
  let plan: Plan = argv.includes('--quick') ? QUICK : FULL;
  const picked: Scenario[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!(v > 0)) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--quick') continue;
    else if (a === '--rounds') plan = { ...plan, rounds: num() };
    else if (a === '--seconds') plan = { ...plan, seconds: num() };
    else if (a === '--warm') plan = { ...plan, warmNode: num() };
    else if (a === 'all') picked.push(...SCENARIOS);
    else if ((SCENARIOS as readonly string[]).includes(a)) picked.push(a as Scenario);
    else throw new Error(`unknown argument "${a}"; scenarios: ${SCENARIOS.join(' ')} (or all); options: --quick --rounds N --seconds S --warm S`);
  }
  const scenarios = picked.length === 0 ? [...SCENARIOS] : SCENARIOS.filter((s) => picked.includes(s));
  return { plan, scenarios };
}

/** stdout and stderr of a short command (nginx -v writes to stderr; wrk -v exits 1). */
function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
}

function machine(ctx: Ctx, command: string): string {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?';
  const commit = sh('git', ['-C', ctx.root, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', ctx.root, 'status', '--porcelain', '--', 'core', 'services', 'cli.ts']) === '' ? '' : ' (with uncommitted changes in core/ or services/)';
  const { plan } = ctx;
  return [
    `- Command: \`${command}\``,
    `- Date: ${new Date().toISOString()}; yoke commit ${commit}${dirty}`,
    `- Machine: ${os.cpus().length} cores, ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}; load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    `- Node ${process.version}; ${sh('haproxy', ['-v']).split('\n')[0]}; ${sh('nginx', ['-v'])}; ${sh('wrk', ['-v']).split('\n')[0]}; ${sh('curl', ['--version']).split('\n')[0]?.split(' ').slice(0, 2).join(' ')}`,
    `- Core layout (taskset): proxy under test alone on core ${ctx.proxyCore}; real server (nginx / Node echo / idle server) and load generator (wrk / curl / udp-load / idle-clients) on core ${ctx.loadCore}; the harness itself on core ${ctx.loadCore}`,
    `- Plan: warm-up ${plan.warmNode} s for Node candidates (yoke, bare Node proxies), ${plan.warmC} s for HAProxy/nginx, ${plan.warmDirect} s direct, under the scenario's own load; then ${plan.rounds} rounds of A B A B … × ${plan.seconds} s; medians. CPU = utime+stime of the proxy's process (all threads; nginx master + worker) from /proc/PID/stat over the window, in ticks of ${ctx.clkTck} Hz`,
  ].join('\n');
}

async function main(): Promise<void> {
  const command = `bench/run ${process.argv.slice(2).join(' ')}`.trim();
  const { plan, scenarios } = parseArgs(process.argv.slice(2));
  const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const dir = join(root, 'bench', 'out', stamp);
  mkdirSync(dir, { recursive: true });
  setPidFile(join(root, 'bench', 'out', 'pids'));
  const t0 = Date.now();
  const ctx: Ctx = {
    root, dir, plan,
    proxyCore: process.env.BENCH_PROXY_CORE ?? '1',
    loadCore: process.env.BENCH_LOAD_CORE ?? '0',
    clkTck: Number(sh('getconf', ['CLK_TCK'])) || 100,
    port: freePort,
    log: (msg) => {
      const line = `[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}`;
      process.stderr.write(line + '\n');
      appendFileSync(join(dir, 'harness.log'), line + '\n');
    },
  };
  ctx.log(`scenarios: ${scenarios.join(' ')}${plan.quick ? ' (quick)' : ''}; output in ${dir}`);
  const header = machine(ctx, command);

  const sections: Section[] = [];
  const failures: string[] = [];
  const attempt = async (id: string, f: () => Promise<Section>): Promise<void> => {
    try {
      sections.push(await f());
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      failures.push(`- ${id}: ${msg}`);
      ctx.log(`${id} FAILED: ${msg}`);
    }
  };

  const tcp = scenarios.filter((s) => TCP_SCENARIOS.includes(s));
  if (tcp.length > 0) {
    let set: TcpSet | undefined;
    try {
      set = await startTcpSet(ctx);
      const s = set;
      for (const id of tcp) {
        await attempt(id, () => {
          if (id === 'transfer') return transferScenario(ctx, s);
          // Warm for the syscall counts only when keep-alive and short connections have not already done it.
          if (id === 'syscalls') return syscallsScenario(ctx, s, !(tcp.includes('keepalive') && tcp.includes('short')));
          return httpScenario(ctx, s, id as 'keepalive' | 'short');
        });
      }
    } catch (e) {
      failures.push(`- tcp candidates: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await set?.stop();
    }
  }
  if (scenarios.includes('udp')) await attempt('udp', () => udpScenario(ctx));
  if (scenarios.includes('memory')) await attempt('memory', () => memoryScenario(ctx));
  if (scenarios.includes('profile')) await attempt('profile', () => profileScenario(ctx));
  if (scenarios.includes('health')) await attempt('health', () => healthScenario(ctx));
  if (scenarios.includes('http')) await attempt('http', () => webHttpScenario(ctx));
  if (scenarios.includes('httppaced')) await attempt('httppaced', () => webHttpPacedScenario(ctx));
  if (scenarios.includes('tlspass')) await attempt('tlspass', () => tlsPassScenario(ctx));
  if (scenarios.includes('httpprofile')) await attempt('httpprofile', () => httpProfileScenario(ctx));
  if (scenarios.includes('mail')) await attempt('mail', () => mailScenario(ctx));

  const md = [
    `## yoke end-to-end bench${plan.quick ? ' (--quick smoke run: numbers are not meaningful)' : ''}`,
    '', header, '',
    ...sections.flatMap((s) => [s.markdown, '']),
    ...(failures.length > 0 ? ['### Failures', '', ...failures, ''] : []),
    `Took ${((Date.now() - t0) / 60000).toFixed(1)} min; load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}. Raw rounds: \`bench/out/${stamp}/results.json\`; logs beside it.`,
  ].join('\n');
  writeFileSync(join(dir, 'results.md'), md + '\n');
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ command, plan, sections: sections.map((s) => ({ id: s.id, raw: s.raw })), failures }, null, 1));
  copyFileSync(join(dir, 'results.md'), join(root, 'bench', 'out', 'latest.md'));
  process.stdout.write(md + '\n');
  if (failures.length > 0) process.exitCode = 1;
}

const onSignal = (): void => { void stopAll().then(() => process.exit(130)); };
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
process.once('exit', killAllNow);
main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 2;
}).finally(() => stopAll());
