/** A millisecond clock; injected wherever timing matters so tests can drive it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: Date.now };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #t: number;
  constructor(start = 1_000_000) { this.#t = start; }
  now(): number { return this.#t; }
  advance(ms: number): void { this.#t += ms; }
}

/**
 * A clock read on every chunk of every connection (to push idle deadlines), so it must be cheaper than
 * Date.now(): a value refreshed every 100 ms by one unref'd timer. Good enough for timeouts measured in seconds.
 */
export function coarseClock(resolutionMs = 100): Clock {
  let t = Date.now();
  setInterval(() => { t = Date.now(); }, resolutionMs).unref();
  return { now: () => t };
}
