import type { RealServer } from '../server.ts';
import { DEFAULT_EXPIRE_MS, DEFAULT_MAX_ENTRIES, KeyTable } from './keytable.ts';
import { busyWithSpareElsewhere, leastLoaded } from './load.ts';
import type { PickContext, Scheduler, SchedulerOptions } from './types.ts';

interface Entry {
  server: RealServer;
  lastUse: number;
}

/**
 * Locality-based least-connection (IPVS ip_vs_lblc.c), for cache farms: each key (ctx.key ?? ctx.client: a
 * destination, a URL) stays on the server it was given, so that server's cache holds it, unless that server is
 * unavailable or busy in lblc's sense (active > weight while another has active*2 < weight). Then the key is moved to
 * the wlc choice. O(n) per pick (the busy test and wlc scan the list); allocates only when it learns a new key.
 */
class Lblc implements Scheduler {
  readonly name = 'lblc';
  readonly #table: KeyTable<Entry>;
  #servers: readonly RealServer[] = [];

  constructor(expireMs: number, maxEntries: number) {
    this.#table = new KeyTable(expireMs, maxEntries);
  }

  update(servers: readonly RealServer[]): void {
    this.#servers = servers.slice();
    // A removed server object may still look available; forget the keys that point at it.
    const present = new Set(servers);
    this.#table.retain((e) => present.has(e.server));
  }

  pick(ctx: PickContext): RealServer | undefined {
    const key = ctx.key ?? ctx.client;
    const now = ctx.now;
    this.#table.sweep(now);
    const e = this.#table.get(key, now);
    if (e !== undefined) {
      e.lastUse = now;
      if (e.server.available && !busyWithSpareElsewhere(e.server, this.#servers)) return e.server;
    }
    const d = leastLoaded(this.#servers, 'wlc');
    if (d === undefined) return undefined;
    if (e !== undefined) e.server = d;
    else this.#table.add(key, { server: d, lastUse: now });
    return d;
  }
}

/** Creates an lblc scheduler; options.expireMs (default 24 h) and maxEntries (default 16384) bound its key table. */
export function createLblc(options: SchedulerOptions): Scheduler {
  return new Lblc(options.expireMs ?? DEFAULT_EXPIRE_MS, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
}
