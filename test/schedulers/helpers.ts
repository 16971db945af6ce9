import { parseEndpoint } from '../../core/address.ts';
import { RealServer } from '../../core/server.ts';
import type { PickContext, Scheduler } from '../../core/schedulers/types.ts';

/** A real server at 127.0.0.1:<9000 + n> with a weight and no thresholds; tests set counts and flags directly. */
export function server(n: number, weight = 1): RealServer {
  return new RealServer({ address: parseEndpoint(`127.0.0.1:${9000 + n}`), weight, maxConns: 0, minConns: 0 });
}

/** A list whose first five servers the compiler knows are there, so `const [a, b] = servers(1, 1)` needs no casts. */
export type Servers = RealServer[] & { 0: RealServer; 1: RealServer; 2: RealServer; 3: RealServer; 4: RealServer };

/** Servers named by position: servers(3, 1, 1) is A(weight 3), B(1), C(1). */
export function servers(...weights: number[]): Servers {
  return weights.map((w, i) => server(i + 1, w)) as Servers;
}

/** A scheduler already updated with servers of the given weights. */
export function ready(s: Scheduler, ...weights: number[]): [Scheduler, Servers] {
  const list = servers(...weights);
  s.update(list);
  return [s, list];
}

/** The letter a test calls a server by: A for 127.0.0.1:9001, B for :9002, ... */
export function letter(s: RealServer | undefined): string {
  return s === undefined ? '-' : String.fromCharCode(64 + s.address.port - 9000);
}

/** A pick context, reusable as the data plane reuses one. */
export function ctx(key?: string, now = 0, client = '192.0.2.1', clientPort = 40000): PickContext {
  return { client, clientPort, key, now };
}

/** Picks `n` times, returning the letters. */
export function trace(s: Scheduler, n: number, c: PickContext = ctx()): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(letter(s.pick(c)));
  return out.join(' ');
}

/** A small seeded PRNG (mulberry32), so distribution tests are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random IPv4-looking keys from a seeded PRNG. */
export function randomKeys(n: number, seed = 1): string[] {
  const r = seeded(seed);
  const keys: string[] = [];
  for (let i = 0; i < n; i++) keys.push(`10.${(r() * 256) | 0}.${(r() * 256) | 0}.${(r() * 256) | 0}`);
  return keys;
}

/** `n` picks with one context, as a run of new connections from one client. */
export function pickMany(s: Scheduler, n: number, c: PickContext = ctx()): (RealServer | undefined)[] {
  return Array.from({ length: n }, () => s.pick(c));
}

/** The server each key is sent to. */
export function mapKeys(s: Scheduler, keys: readonly string[]): (RealServer | undefined)[] {
  return keys.map((k) => s.pick(ctx(k)));
}

/** Share of positions where two mappings differ: the keys that moved. */
export function movedShare(a: readonly unknown[], b: readonly unknown[]): number {
  let moved = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) moved++;
  return moved / a.length;
}

/** Share of picks per server, in list order. */
export function shares(list: readonly RealServer[], picks: readonly (RealServer | undefined)[]): number[] {
  return list.map((s) => picks.filter((p) => p === s).length / picks.length);
}
