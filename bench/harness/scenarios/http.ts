// Scenarios (a) keep-alive and (b) short connections: wrk against the nginx real server through each TCP candidate.
// The key figure is the proxy's CPU time (utime+stime from /proc) over the window divided by the requests wrk carried.
import { join } from 'node:path';
import type { Ctx } from '../ctx.ts';
import { cpuTicks, runPinned, type Proc } from '../proc.ts';
import { fmt, loadColumns, medians, ratio, table, type Row, type Section } from '../report.ts';
import { alternate, cpuSeconds, type Candidate } from './common.ts';
import type { TcpSet } from './tcp-set.ts';

interface WrkResult { requests: number; duration_us: number; bytes: number; errors: number; p50_us: number; p99_us: number; p999_us: number }

/** One wrk run of `seconds` (one thread, plan.wrkConns connections) on the load core; `delayMs` paces each connection. */
export async function wrk(ctx: Ctx, port: number, seconds: number, close: boolean, delayMs?: number): Promise<WrkResult> {
  const args = ['-t1', `-c${ctx.plan.wrkConns}`, `-d${seconds}s`, '--timeout', '5s', '-s', join(ctx.root, 'bench', 'wrk-report.lua')];
  if (close) args.push('-H', 'Connection: close');
  args.push(`http://127.0.0.1:${port}/`);
  const env = delayMs === undefined ? undefined : { ...process.env, WRK_DELAY_MS: String(delayMs) };
  const r = await runPinned('wrk', 'wrk', args, { core: ctx.loadCore, env, timeoutMs: (seconds + 30) * 1000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('WRK '));
  if (line === undefined) throw new Error(`wrk printed no result (exit ${r.code}): ${r.stdout}${r.stderr}`);
  return JSON.parse(line.slice(4)) as WrkResult;
}

/** A measure for `alternate`: one wrk window against a candidate, with the proxy's and the real server's CPU over it. */
export function wrkMeasure(ctx: Ctx, backend: Proc, close: boolean, delayMs?: number): (c: Candidate, seconds: number) => Promise<Row> {
  return async (c, seconds) => {
    const t0 = c.proc ? cpuTicks(c.proc.pid) : NaN;
    const b0 = cpuTicks(backend.pid);
    const w = await wrk(ctx, c.port, seconds, close, delayMs);
    const cpu = c.proc ? cpuSeconds(ctx, cpuTicks(c.proc.pid) - t0) : NaN;
    const wall = w.duration_us / 1e6;
    return {
      rps: w.requests / wall,
      p50_ms: w.p50_us / 1000, p99_ms: w.p99_us / 1000, p999_ms: w.p999_us / 1000,
      proxy_cpu_pct: (cpu / wall) * 100,
      cpu_us_per_req: (cpu * 1e6) / w.requests,
      backend_cpu_pct: (cpuSeconds(ctx, cpuTicks(backend.pid) - b0) / wall) * 100,
      errors: w.errors,
      requests: w.requests,
    };
  };
}

export async function httpScenario(ctx: Ctx, set: TcpSet, kind: 'keepalive' | 'short'): Promise<Section> {
  const close = kind === 'short';
  const raw = await alternate(ctx, kind, set.candidates, wrkMeasure(ctx, set.backend, close));
  const meds = new Map(Object.entries(raw).map(([k, rows]) => [k, medians(rows)]));
  const ha = meds.get('haproxy');
  const yk = meds.get('yoke');
  const bare = meds.get('bare-pipe');
  const title = close
    ? '(b) Short connections: a new TCP connection per request (wrk `-H "Connection: close"`)'
    : '(a) Keep-alive throughput (wrk, HTTP/1.1 keep-alive)';
  const markdown = [
    `### ${title}`,
    '',
    `wrk -t1 -c${ctx.plan.wrkConns}, ${ctx.plan.rounds} rounds × ${ctx.plan.seconds} s per candidate, medians; latency from wrk.`,
    '',
    table([
      ...loadColumns(raw, ha, { rate: 'rps', rateTitle: 'req/s', cost: 'cpu_us_per_req', unit: 'req' }),
      { title: 'errors', cell: (m) => fmt(m.errors) },
    ], meds),
    '',
    `- yoke ÷ HAProxy, CPU per request: **${ratio(yk?.cpu_us_per_req, ha?.cpu_us_per_req)}** (target ≤ ${close ? '3' : '1.5'}×)`,
    `- yoke ÷ bare pipe proxy, CPU per request: **${ratio(yk?.cpu_us_per_req, bare?.cpu_us_per_req)}** (target ≤ 1×)`,
    `- yoke ÷ HAProxy, req/s: ${ratio(yk?.rps, ha?.rps)}; yoke ÷ direct, req/s: ${ratio(yk?.rps, meds.get('direct')?.rps)}`,
  ].join('\n');
  return { id: kind, markdown, raw };
}
