// The candidate shape and the A B A B … loop every scenario uses.
import type { Ctx } from '../ctx.ts';
import type { Proc } from '../proc.ts';
import type { Row } from '../report.ts';

export interface Candidate {
  readonly name: string;
  /** Where the load generator points: the proxy's port, or the real server's for direct. */
  readonly port: number;
  /** The proxy process whose CPU is measured; undefined for direct. */
  readonly proc: Proc | undefined;
  /** Warm-up seconds under this scenario's load before the first measured round. */
  readonly warm: number;
}

/** Warms each candidate (a discarded measurement of `warm` seconds), then `rounds` rounds of A B A B … */
export async function alternate(ctx: Ctx, id: string, cands: readonly Candidate[], measure: (c: Candidate, seconds: number) => Promise<Row>): Promise<Record<string, Row[]>> {
  for (const c of cands) {
    ctx.log(`${id}: warming ${c.name} for ${c.warm} s`);
    await measure(c, c.warm);
  }
  const raw: Record<string, Row[]> = Object.fromEntries(cands.map((c) => [c.name, []]));
  for (let r = 1; r <= ctx.plan.rounds; r++) {
    for (const c of cands) {
      const row = await measure(c, ctx.plan.seconds);
      raw[c.name]!.push(row);
      ctx.log(`${id}: round ${r}/${ctx.plan.rounds} ${c.name}: ${JSON.stringify(row, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v))}`);
    }
  }
  return raw;
}

/** CPU seconds a process spent between two tick readings. */
export function cpuSeconds(ctx: Ctx, ticks: number): number {
  return ticks / ctx.clkTck;
}
