import type { Clock } from './clock.ts';

/** Something with a deadline that may move later without being rescheduled (lazy expiry). */
export interface Expiring {
  /** Milliseconds since the epoch; Infinity = not now. Owners push it forward freely. */
  expiresAt: number;
  /** Set when the owner has already removed it; the wheel drops it silently. */
  gone: boolean;
  /** The bucket the wheel filed it under, and its place there (owned by the wheel; slot 0 = not filed). */
  slot?: number;
  index?: number;
}

/**
 * A coarse timer wheel: entries sit in buckets of `resolutionMs`. When a bucket comes due, each entry is
 * checked against its current deadline: expired ones go to `onExpire`, the others move to their new bucket.
 * So activity costs a field write, never a timer; the owner calls tick() from its one interval timer.
 */
export class TimerWheel<T extends Expiring> {
  readonly #buckets = new Map<number, T[]>();
  readonly #resolutionMs: number;
  readonly #clock: Clock;
  readonly #onExpire: (entry: T) => void;
  #nextDue = Infinity;

  constructor(resolutionMs: number, clock: Clock, onExpire: (entry: T) => void) {
    this.#resolutionMs = resolutionMs;
    this.#clock = clock;
    this.#onExpire = onExpire;
  }

  /**
   * Files an entry under its current deadline. Call it again when a deadline moves EARLIER (a shorter timeout);
   * a later deadline needs nothing. An entry is in one bucket at a time: filing it again moves it.
   */
  schedule(entry: T): void {
    if (entry.expiresAt === Infinity) return;
    const slot = Math.ceil(entry.expiresAt / this.#resolutionMs);
    if (entry.slot === slot) return;
    this.cancel(entry);
    entry.slot = slot;
    const bucket = this.#buckets.get(slot);
    if (bucket) { entry.index = bucket.length; bucket.push(entry); }
    else { entry.index = 0; this.#buckets.set(slot, [entry]); }
    if (slot < this.#nextDue) this.#nextDue = slot;
  }

  /**
   * Takes an entry out now (O(1): the last entry of its bucket takes its place). Owners call it when a connection
   * ends, so the wheel never holds ended connections (and their sockets) until their old deadline.
   */
  cancel(entry: T): void {
    const slot = entry.slot;
    if (slot === undefined || slot === 0) return;
    entry.slot = 0;
    const bucket = this.#buckets.get(slot);
    const i = entry.index as number;
    if (bucket === undefined || bucket[i] !== entry) return; // its bucket is being swept right now
    const last = bucket.pop() as T;
    if (last !== entry) { bucket[i] = last; last.index = i; }
    if (bucket.length === 0) this.#buckets.delete(slot);
  }

  /** Expires everything due by now: the owner's timer calls it, tests call it after moving a ManualClock. */
  tick(): void {
    const now = this.#clock.now();
    const nowSlot = Math.floor(now / this.#resolutionMs);
    if (this.#nextDue > nowSlot) return;
    let next = Infinity;
    const due: number[] = [];
    for (const slot of this.#buckets.keys()) {
      if (slot <= nowSlot) due.push(slot);
      else if (slot < next) next = slot;
    }
    this.#nextDue = next;
    for (const slot of due) {
      const bucket = this.#buckets.get(slot) as T[];
      this.#buckets.delete(slot);
      for (const entry of bucket) {
        if (entry.gone || entry.slot !== slot) continue;
        entry.slot = 0;
        if (entry.expiresAt <= now) this.#onExpire(entry);
        else this.schedule(entry);
      }
    }
  }

  /** Entries filed (for tests and stats). */
  get size(): number {
    let n = 0;
    for (const b of this.#buckets.values()) n += b.length;
    return n;
  }
}
