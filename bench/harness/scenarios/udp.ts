// Scenario (d) UDP round trips: bench/peers/udp-load.ts keeps datagrams in flight through each relay to a
// UDP echo real server; round trips per second, latency (HDR histogram), and the relay's CPU per round trip.
import { join } from 'node:path';
import * as configs from '../configs.ts';
import { freePort, startNginx, startNode, startYoke, waitUdp, type Ctx } from '../ctx.ts';
import { cpuTicks, runPinned, stop } from '../proc.ts';
import { byRound, fmt, medians, ratio, table, type Row, type Section } from '../report.ts';
import { alternate, cpuSeconds, type Candidate } from './common.ts';

const SOCKETS = 4;
const WINDOW = 32;
const SIZE = 64;

interface LoadResult { received: number; lost: number; seconds: number; p50_us: number; p99_us: number; p999_us: number }

async function udpLoad(ctx: Ctx, port: number, seconds: number): Promise<LoadResult> {
  const r = await runPinned('udp-load', process.execPath,
    ['--disable-warning=ExperimentalWarning', join(ctx.root, 'bench', 'peers', 'udp-load.ts'), String(port), String(seconds), String(SOCKETS), String(WINDOW), String(SIZE)],
    { core: ctx.loadCore, timeoutMs: (seconds + 30) * 1000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`udp-load printed no result (exit ${r.code}): ${r.stdout}${r.stderr}`);
  return JSON.parse(line) as LoadResult;
}

export async function udpScenario(ctx: Ctx): Promise<Section> {
  const [ep, np, yp, rp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const echo = startNode(ctx, 'udp-echo', 'peers/udp-echo.ts', [ep], ctx.loadCore);
  await waitUdp(ep, echo);
  const ng = startNginx(ctx, 'nginx-udp', configs.nginxStream(ctx.dir, 'nginx-udp', { udpPort: np, udpTarget: ep }), ctx.proxyCore);
  const yk = startYoke(ctx, 'yoke-udp', configs.yoke(ctx.dir, 'yoke-udp', 'udp', yp, ep));
  const bare = startNode(ctx, 'bare-udp', 'bare-udp-relay.ts', [rp, ep], ctx.proxyCore);
  await Promise.all([waitUdp(np, ng), waitUdp(yp, yk), waitUdp(rp, bare)]);
  const { warmNode, warmC, warmDirect } = ctx.plan;
  const cands: Candidate[] = [
    { name: 'direct', port: ep, proc: undefined, warm: warmDirect },
    { name: 'nginx-stream', port: np, proc: ng, warm: warmC },
    { name: 'yoke', port: yp, proc: yk, warm: warmNode },
    { name: 'bare-udp-relay', port: rp, proc: bare, warm: warmNode },
  ];
  const measure = async (c: Candidate, seconds: number): Promise<Row> => {
    const t0 = c.proc ? cpuTicks(c.proc.pid) : NaN;
    const r = await udpLoad(ctx, c.port, seconds);
    const cpu = c.proc ? cpuSeconds(ctx, cpuTicks(c.proc.pid) - t0) : NaN;
    return {
      rt_s: r.received / r.seconds, p50_ms: r.p50_us / 1000, p99_ms: r.p99_us / 1000, p999_ms: r.p999_us / 1000,
      proxy_cpu_pct: (cpu / r.seconds) * 100, cpu_us_per_rt: (cpu * 1e6) / r.received, lost: r.lost,
    };
  };
  let raw: Record<string, Row[]>;
  try {
    raw = await alternate(ctx, 'udp', cands, measure);
  } finally {
    await Promise.all([ng, yk, bare, echo].map((p) => stop(p)));
  }
  const meds = new Map(Object.entries(raw).map(([k, rows]) => [k, medians(rows)]));
  const ng_ = meds.get('nginx-stream');
  const yk_ = meds.get('yoke');
  const markdown = [
    '### (d) UDP datagram round trips',
    '',
    `${SOCKETS} client sockets × ${WINDOW} datagrams of ${SIZE} bytes in flight (bench/peers/udp-load.ts, hdr-histogram-js), Node UDP echo real server; ${ctx.plan.rounds} rounds × ${ctx.plan.seconds} s, medians.`,
    '',
    table([
      { title: 'round trips/s', cell: (m) => fmt(m.rt_s) },
      { title: 'p50 ms', cell: (m) => fmt(m.p50_ms) },
      { title: 'p99 ms', cell: (m) => fmt(m.p99_ms) },
      { title: 'p99.9 ms', cell: (m) => fmt(m.p999_ms) },
      { title: 'relay CPU %', cell: (m) => fmt(m.proxy_cpu_pct) },
      { title: 'CPU µs/round trip', cell: (m) => fmt(m.cpu_us_per_rt) },
      { title: 'CPU/rt ÷ nginx', cell: (m) => ratio(m.cpu_us_per_rt, ng_?.cpu_us_per_rt) },
      { title: 'CPU µs/rt by round', cell: (_m, name) => byRound(raw[name], 'cpu_us_per_rt') },
      { title: 'lost', cell: (m) => fmt(m.lost) },
    ], meds),
    '',
    `- yoke ÷ nginx stream, round trips/s: **${ratio(yk_?.rt_s, ng_?.rt_s)}** (target ≥ 0.8×); CPU per round trip ${ratio(yk_?.cpu_us_per_rt, ng_?.cpu_us_per_rt)}`,
    `- yoke ÷ bare Node relay, CPU per round trip: ${ratio(yk_?.cpu_us_per_rt, meds.get('bare-udp-relay')?.cpu_us_per_rt)}; yoke ÷ direct, round trips/s: ${ratio(yk_?.rt_s, meds.get('direct')?.rt_s)}`,
  ].join('\n');
  return { id: 'udp', markdown, raw };
}
