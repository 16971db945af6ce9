// Scenario (c) large transfer: curl fetches a 1 GiB file (nginx, sendfile) through each TCP candidate,
// one transfer after another for the window; MB/s and the proxy's CPU seconds per GiB carried.
import type { Ctx } from '../ctx.ts';
import { cpuTicks, runPinned } from '../proc.ts';
import { byRound, fmt, medians, ratio, table, type Row, type Section } from '../report.ts';
import { alternate, cpuSeconds, type Candidate } from './common.ts';
import { BIG_BYTES, type TcpSet } from './tcp-set.ts';

const MAX_TRANSFERS_PER_WINDOW = 50;

async function curlBig(ctx: Ctx, port: number): Promise<{ bytes: number; seconds: number }> {
  const r = await runPinned('curl', 'curl', ['-s', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', `http://127.0.0.1:${port}/big`],
    { core: ctx.loadCore, timeoutMs: 120_000 });
  const [bytes = NaN, seconds = NaN] = r.stdout.trim().split(' ').map(Number);
  if (r.code !== 0 || bytes !== BIG_BYTES) throw new Error(`curl through port ${port}: exit ${r.code}, ${bytes} bytes of ${BIG_BYTES}`);
  return { bytes, seconds };
}

export async function transferScenario(ctx: Ctx, set: TcpSet): Promise<Section> {
  const measure = async (c: Candidate, seconds: number): Promise<Row> => {
    const t0 = c.proc ? cpuTicks(c.proc.pid) : NaN;
    const deadline = Date.now() + seconds * 1000;
    let bytes = 0;
    let busy = 0;
    let n = 0;
    // At least one whole transfer, then more until the window is used (bounded in count).
    do {
      const r = await curlBig(ctx, c.port);
      bytes += r.bytes;
      busy += r.seconds;
      n++;
    } while (Date.now() < deadline && n < MAX_TRANSFERS_PER_WINDOW);
    const cpu = c.proc ? cpuSeconds(ctx, cpuTicks(c.proc.pid) - t0) : NaN;
    return { mb_s: bytes / 1e6 / busy, proxy_cpu_pct: (cpu / busy) * 100, cpu_s_per_gib: cpu / (bytes / BIG_BYTES), transfers: n };
  };
  const cands = set.candidates.map((c) => ({ ...c, warm: Math.min(c.warm, ctx.plan.quick ? 1 : 10) }));
  const raw = await alternate(ctx, 'transfer', cands, measure);
  const meds = new Map(Object.entries(raw).map(([k, rows]) => [k, medians(rows)]));
  const ha = meds.get('haproxy');
  const yk = meds.get('yoke');
  const markdown = [
    '### (c) Large transfer: 1 GiB responses, one after another (curl ← nginx sendfile)',
    '',
    `${ctx.plan.rounds} rounds × ≥${ctx.plan.seconds} s of back-to-back 1 GiB transfers per candidate, medians. MB/s = 10⁶ bytes/s over curl's transfer time.`,
    '',
    table([
      { title: 'MB/s', cell: (m) => fmt(m.mb_s) },
      { title: 'proxy CPU %', cell: (m) => fmt(m.proxy_cpu_pct) },
      { title: 'proxy CPU s/GiB', cell: (m) => fmt(m.cpu_s_per_gib) },
      { title: 'CPU/GiB ÷ HAProxy', cell: (m) => ratio(m.cpu_s_per_gib, ha?.cpu_s_per_gib) },
      { title: 'CPU s/GiB by round', cell: (_m, name) => byRound(raw[name], 'cpu_s_per_gib') },
      { title: 'transfers/window', cell: (m) => fmt(m.transfers) },
    ], meds),
    '',
    `- yoke ÷ HAProxy: MB/s ${ratio(yk?.mb_s, ha?.mb_s)}, CPU per GiB ${ratio(yk?.cpu_s_per_gib, ha?.cpu_s_per_gib)}; yoke ÷ bare pipe, CPU per GiB ${ratio(yk?.cpu_s_per_gib, meds.get('bare-pipe')?.cpu_s_per_gib)}`,
  ].join('\n');
  return { id: 'transfer', markdown, raw };
}
