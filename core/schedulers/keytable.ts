/**
 * lblc and lblcr's table of keys (a destination, URL, file) with the time each was last used. Expiry is cheap, as
 * IPVS's: no timer per entry, but a sweep at most once a minute, driven by the picks' own clock (ctx.now).
 */

/** IPVS lblc_expiration / lblcr_expiration default: an entry unused for a day is forgotten. */
export const DEFAULT_EXPIRE_MS = 24 * 60 * 60 * 1000;
/** IPVS's table bound: 1024 buckets * 16 entries. */
export const DEFAULT_MAX_ENTRIES = 16 * 1024;
/** How often a sweep may run (IPVS CHECK_EXPIRE_INTERVAL). */
const SWEEP_EVERY_MS = 60 * 1000;
/** When the table is full, entries idle this long go early to make room (IPVS ENTRY_TIMEOUT). */
const FULL_IDLE_MS = 6 * 60 * 1000;

/** What every entry carries: when a pick last used it, in ctx.now milliseconds. */
export interface KeyEntry {
  lastUse: number;
}

/** A bounded map from key to entry whose idle entries expire; get and sweep allocate nothing. */
export class KeyTable<E extends KeyEntry> {
  readonly #map = new Map<string, E>();
  readonly #expireMs: number;
  readonly #max: number;
  #nextSweep = -Infinity;
  #sweepNow = 0;
  #sweepIdle = 0;
  /** One callback for all sweeps, made once: Map.forEach with it walks the map without an iterator object. */
  readonly #sweepOne = (e: E, key: string): void => {
    if (this.#sweepNow - e.lastUse >= this.#sweepIdle) this.#map.delete(key);
  };

  constructor(expireMs: number, maxEntries: number) {
    this.#expireMs = expireMs;
    this.#max = maxEntries;
  }

  /** Entries held now. */
  get size(): number {
    return this.#map.size;
  }

  /** The live entry for key; one idle for expireMs is dropped here, so expiry is exact even between sweeps. */
  get(key: string, now: number): E | undefined {
    const e = this.#map.get(key);
    if (e === undefined || now - e.lastUse < this.#expireMs) return e;
    this.#map.delete(key);
    return undefined;
  }

  /** Remembers a new entry unless the table is full (then the pick just goes unremembered, as in IPVS). */
  add(key: string, e: E): void {
    if (this.#map.size < this.#max) this.#map.set(key, e);
  }

  /** Drops idle entries at most once per SWEEP_EVERY_MS of ctx.now; O(entries) then, O(1) otherwise. */
  sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + SWEEP_EVERY_MS;
    this.#sweepNow = now;
    this.#sweepIdle = this.#map.size >= this.#max ? Math.min(FULL_IDLE_MS, this.#expireMs) : this.#expireMs;
    this.#map.forEach(this.#sweepOne);
  }

  /** Control plane: keeps only the entries `keep` accepts (after servers left the pool). */
  retain(keep: (e: E) => boolean): void {
    for (const [key, e] of this.#map) if (!keep(e)) this.#map.delete(key);
  }
}
