import type { RealServer } from '../server.ts';
import { DEFAULT_EXPIRE_MS, DEFAULT_MAX_ENTRIES, KeyTable } from './keytable.ts';
import { busyWithSpareElsewhere, leastLoaded, mostLoadedIndex } from './load.ts';
import type { PickContext, Scheduler, SchedulerOptions } from './types.ts';

interface Entry {
  /** The servers this key is replicated on, oldest first. */
  set: RealServer[];
  /** When the set last gained or lost a server. */
  lastMod: number;
  lastUse: number;
}

/**
 * Locality-based least-connection with replication (IPVS ip_vs_lblcr.c): each key has a set of servers, for an object
 * too hot for one cache. A pick takes the set's least loaded available server (wlc's measure); if there is none or it
 * is busy in lblc's sense, the pool's wlc choice joins the set and is used. A set of more than one that has not changed
 * for shrinkMs loses its most loaded server. O(n) per pick; allocates only when a key or a set member is learnt.
 */
class Lblcr implements Scheduler {
  readonly name = 'lblcr';
  readonly #table: KeyTable<Entry>;
  readonly #shrinkMs: number;
  #servers: readonly RealServer[] = [];

  constructor(expireMs: number, maxEntries: number, shrinkMs: number) {
    this.#table = new KeyTable(expireMs, maxEntries);
    this.#shrinkMs = shrinkMs;
  }

  update(servers: readonly RealServer[]): void {
    this.#servers = servers.slice();
    const present = new Set(servers);
    this.#table.retain((e) => {
      e.set = e.set.filter((s) => present.has(s));
      return e.set.length > 0;
    });
  }

  pick(ctx: PickContext): RealServer | undefined {
    const key = ctx.key ?? ctx.client;
    const now = ctx.now;
    this.#table.sweep(now);
    const e = this.#table.get(key, now);
    if (e === undefined) {
      const d = leastLoaded(this.#servers, 'wlc');
      if (d !== undefined) this.#table.add(key, { set: [d], lastMod: now, lastUse: now });
      return d;
    }
    e.lastUse = now;
    const set = e.set;
    const d = leastLoaded(set, 'wlc');
    // As the kernel: the shrink happens after the choice, so the server dropped may still take this connection.
    if (set.length > 1 && now - e.lastMod > this.#shrinkMs) {
      removeAt(set, mostLoadedIndex(set));
      e.lastMod = now;
    }
    if (d !== undefined && !busyWithSpareElsewhere(d, this.#servers)) return d;
    const n = leastLoaded(this.#servers, 'wlc');
    if (n === undefined) return undefined;
    if (!set.includes(n)) {
      set.push(n);
      e.lastMod = now;
    }
    return n;
  }
}

/** Removes list[i] in place, keeping order (splice would allocate the removed-items array). */
function removeAt(list: RealServer[], i: number): void {
  if (i < 0) return;
  for (let j = i + 1; j < list.length; j++) list[j - 1] = list[j]!;
  list.length--;
}

/**
 * Creates an lblcr scheduler; options.expireMs (default 24 h) and maxEntries (default 16384) bound its key table, and
 * shrinkMs (default expireMs, as IPVS, which uses lblcr_expiration for both) is how long a set must stay unchanged
 * before it loses a server.
 */
export function createLblcr(options: SchedulerOptions): Scheduler {
  const expireMs = options.expireMs ?? DEFAULT_EXPIRE_MS;
  return new Lblcr(expireMs, options.maxEntries ?? DEFAULT_MAX_ENTRIES, options.shrinkMs ?? expireMs);
}
