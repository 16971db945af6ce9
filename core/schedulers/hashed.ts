import type { RealServer } from '../server.ts';
import { hashString, mixInt } from './hash.ts';
import type { PickContext, Scheduler, SchedulerName } from './types.ts';

/** Rehashed probes a fallback tries before walking the member list: each lands on a server with probability ~ its share. */
const PROBES = 32;

/** Builds a lookup table for members: slot = index into members, -1 = empty. */
export type TableBuilder = (members: readonly RealServer[]) => Int32Array;

/**
 * The server in `table` for `hash`, or with `fallback`, when that one is unavailable, another chosen only by the hash:
 * up to PROBES rehashed slots (the unavailable server's keys spread over the others by their table share, where
 * IPVS's sh-fallback and mh-fallback walk on through the table), then the first available member from a hashed
 * start. The same key therefore keeps its fallback while availability is unchanged. O(1) expected; O(n) worst.
 */
export function lookup(table: Int32Array, members: readonly RealServer[], hash: number, fallback: boolean): RealServer | undefined {
  const size = table.length;
  if (size === 0) return undefined;
  const home = members[table[hash % size]!];
  if (home === undefined) return undefined;
  if (home.available || !fallback) return home.available ? home : undefined;
  for (let p = 1; p <= PROBES; p++) {
    const s = members[table[mixInt(hash, p) % size]!];
    if (s !== undefined && s.available) return s;
  }
  const n = members.length;
  for (let k = 0, j = hash % n; k < n; k++, j = j + 1 === n ? 0 : j + 1) {
    const s = members[j]!;
    if (s.available) return s;
  }
  return undefined;
}

/** What distinguishes sh, dh and mh: who is in the table, how the table is built, and what is hashed. */
export interface HashedSpec {
  readonly name: SchedulerName;
  /** Servers given table slots; the others are never picked, even by a fallback. */
  readonly member: (s: RealServer) => boolean;
  readonly build: TableBuilder;
  /** Fold ctx.clientPort into the hash (IPVS sh-port/mh-port). */
  readonly hashPort: boolean;
  readonly fallback: boolean;
}

/** A scheduler that hashes ctx.key (ctx.client when absent) into a table built on update: sh, dh and mh. O(1) per pick. */
export class HashedScheduler implements Scheduler {
  readonly name: SchedulerName;
  readonly #spec: HashedSpec;
  #members: readonly RealServer[] = [];
  #table: Int32Array = new Int32Array(0);

  constructor(spec: HashedSpec) {
    this.name = spec.name;
    this.#spec = spec;
  }

  update(servers: readonly RealServer[]): void {
    const members = servers.filter(this.#spec.member);
    // Build first, then swap both: a pick never sees a table built for another member list.
    const table = this.#spec.build(members);
    this.#members = members;
    this.#table = table;
  }

  pick(ctx: PickContext): RealServer | undefined {
    let h = hashString(ctx.key ?? ctx.client);
    if (this.#spec.hashPort) h = mixInt(h, ctx.clientPort);
    return lookup(this.#table, this.#members, h, this.#spec.fallback);
  }
}
