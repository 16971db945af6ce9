// Scheduler benchmark: ns per pick at 10, 1,000 and 10,000 servers, table build times, and the share of keys moved
// when k of N servers go. Run: node bench/schedulers.ts  (prints markdown to stdout; docs/schedulers.md keeps a run).
import os from 'node:os';
import { parseEndpoint } from '../core/address.ts';
import { createScheduler } from '../core/schedulers/registry.ts';
import { SCHEDULER_NAMES, type PickContext, type Scheduler, type SchedulerName } from '../core/schedulers/types.ts';
import { RealServer } from '../core/server.ts';
// The tests' seeded PRNG, so every run measures the same servers and keys.
import { seeded } from '../test/schedulers/helpers.ts';

const SIZES = [10, 1_000, 10_000] as const;
const WARMUP_MS = 200;
const MEASURE_MS = 300;
const KEY_COUNT = 4_096;
const MOVE_KEYS = 100_000;
const MOVE_N = 100;
const MOVE_K = [1, 5, 10, 25] as const;

/** n servers with weights 1..5 and some connections, on distinct addresses. */
function pool(n: number, random: () => number): RealServer[] {
  return Array.from({ length: n }, (_, i) => {
    const s = new RealServer({ address: parseEndpoint(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80`), weight: 1 + (i % 5), maxConns: 0, minConns: 0 });
    // Light loads, so that ovf (active <= weight) still has servers to pick.
    s.activeConns = Math.floor(random() * 8);
    s.inactiveConns = Math.floor(random() * 64);
    return s;
  });
}

function keys(n: number, random: () => number): string[] {
  return Array.from({ length: n }, () => `172.${(random() * 32) | 0}.${(random() * 256) | 0}.${(random() * 256) | 0}`);
}

/**
 * Runs picks for about `ms` (and at least one pass over the keys, so lblc/lblcr have learnt them all before timing),
 * one reused context refilled per pick as the data plane does; returns ns per pick.
 */
function timePicks(s: Scheduler, ks: readonly string[], ms: number): number {
  const ctx: PickContext = { client: '192.0.2.1', clientPort: 40000, key: undefined, now: 0 };
  let picks = 0;
  let none = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget || picks < KEY_COUNT) {
    for (let i = 0; i < 1024; i++) {
      ctx.key = ks[(picks + i) & (KEY_COUNT - 1)];
      ctx.clientPort = 1024 + (i & 1023);
      ctx.now += 1;
      if (s.pick(ctx) === undefined) none++;
    }
    picks += 1024;
    elapsed = process.hrtime.bigint() - start;
  }
  if (none === picks) throw new Error(`${s.name} picked nothing`);
  return Number(elapsed) / picks;
}

/** Median time of `runs` update() calls, in ms. */
function timeBuild(name: SchedulerName, list: RealServer[], runs: number): number {
  const s = createScheduler(name);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    s.update(list);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Share of keys whose server changes when the first k servers of N leave the pool (removed) or are marked down. */
function moved(name: SchedulerName, k: number, how: 'removed' | 'down'): number {
  const random = seeded(11);
  const list = pool(MOVE_N, random);
  for (const s of list) s.weight = 1;
  const ks = keys(MOVE_KEYS, random);
  const s = createScheduler(name);
  s.update(list);
  const at = (key: string) => s.pick({ client: key, clientPort: 0, key, now: 0 });
  const before = ks.map(at);
  if (how === 'removed') s.update(list.slice(k));
  else {
    for (const x of list.slice(0, k)) x.health = 'down';
    s.update(list);
  }
  let n = 0;
  ks.forEach((key, i) => { if (at(key) !== before[i]) n++; });
  return n / ks.length;
}

/** A trivial loop, for calibrate. */
function addLoop(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x + i) | 0;
  return x;
}

/** ns per iteration of a trivial loop once optimised: compares this machine with others, as every time below depends on it. */
function calibrate(): number {
  for (let r = 0; r < 50; r++) addLoop(1_000_000);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    addLoop(20_000_000);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 20_000_000);
  }
  return best;
}

/** The 1-minute load average: other work on the machine (it is shared) shows up in every time below. */
const loadavg = () => fmt(os.loadavg()[0] ?? 0, 2);

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const random = seeded(7);
const ks = keys(KEY_COUNT, random);
const pools = new Map(SIZES.map((n) => [n, pool(n, random)]));

console.log(`## Scheduler benchmark\n`);
console.log(`Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.release()}\n`);
console.log(`Calibration: an optimised integer add loop runs at ${fmt(calibrate(), 2)} ns per iteration; load average ${loadavg()} at the start.\n`);
console.log(`### ns per pick (warm-up ${WARMUP_MS} ms, then ${MEASURE_MS} ms of picks; ${KEY_COUNT} keys cycled)\n`);
console.log(`| scheduler | ${SIZES.map((n) => `${fmt(n)} servers`).join(' | ')} |`);
console.log(`|---|${SIZES.map(() => '---:').join('|')}|`);
for (const name of SCHEDULER_NAMES) {
  const cells: string[] = [];
  for (const n of SIZES) {
    const s = createScheduler(name, { random: seeded(3), buckets: name === 'sh' || name === 'dh' ? 256 : undefined });
    s.update(pools.get(n)!);
    timePicks(s, ks, WARMUP_MS);
    cells.push(fmt(timePicks(s, ks, MEASURE_MS), 1));
  }
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}

console.log(`\n### Table build time, ms (median of update() calls)\n`);
console.log(`| table | ${SIZES.map((n) => `${fmt(n)} servers`).join(' | ')} |`);
console.log(`|---|${SIZES.map(() => '---:').join('|')}|`);
for (const [name, label] of [['mh', 'mh (Maglev, M = 65521)'], ['sh', 'sh (256 buckets)']] as const) {
  console.log(`| ${label} | ${SIZES.map((n) => fmt(timeBuild(name, pools.get(n)!, n >= 10_000 ? 5 : 21), 3)).join(' | ')} |`);
}

console.log(`\n### Share of ${fmt(MOVE_KEYS)} keys moved when k of N = ${MOVE_N} servers go (equal weights)\n`);
console.log(`| k | ideal k/N | ${(['sh', 'dh', 'mh'] as const).flatMap((n) => [`${n} removed`, `${n} down`]).join(' | ')} |`);
console.log(`|---:|---:|${['sh', 'dh', 'mh'].flatMap(() => ['---:', '---:']).join('|')}|`);
for (const k of MOVE_K) {
  const cells = (['sh', 'dh', 'mh'] as const).flatMap((n) => [moved(n, k, 'removed'), moved(n, k, 'down')]).map((x) => fmt(x, 4));
  console.log(`| ${k} | ${fmt(k / MOVE_N, 4)} | ${cells.join(' | ')} |`);
}

console.log(`\nLoad average ${loadavg()} at the end.`);
console.log(`Not measured here: allocation per pick (test/schedulers/conformance.test.ts guards it), picks while connections`);
console.log(`bind and end (loads are fixed while timing), and lblc/lblcr learning new keys (one O(n) wlc scan per new key;`);
console.log(`timing starts after all ${fmt(KEY_COUNT)} keys are learnt).`);
