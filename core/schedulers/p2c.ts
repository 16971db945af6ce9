import type { RealServer } from '../server.ts';
import { HASH_RANGE, mixInt } from './hash.ts';
import { connOverhead, isMember } from './load.ts';
import type { PickContext, Scheduler, SchedulerOptions } from './types.ts';

/** Random draws before p2c gives up guessing and walks the list: enough when most servers are available. */
const DRAWS = 8;

/**
 * Power of two choices (beyond IPVS; Mitzenmacher): draw two distinct available servers at random and take the one
 * with less (active*256 + inactive)/weight, compared cross-multiplied; the first drawn on ties. Near least-connection
 * balance at O(1) per pick, and no herd onto one server when counts lag. Candidates are the members (weight > 0,
 * alive) from update; overload is checked at pick time, falling back to an O(n) walk when draws keep missing.
 */
class PowerOfTwo implements Scheduler {
  readonly name = 'p2c';
  /** Injected for tests; when undefined, draws come from #seed and #counter. */
  readonly #random: (() => number) | undefined;
  /**
   * The default source: a hash of a counter (as SplitMix). Every value stays a 30-bit integer, which V8 never boxes;
   * Math.random's doubles are boxed on the heap in the lower JIT tiers, an allocation per draw.
   */
  readonly #seed = Math.floor(Math.random() * HASH_RANGE);
  #counter = 0;
  #members: readonly RealServer[] = [];

  constructor(random: (() => number) | undefined) {
    this.#random = random;
  }

  update(servers: readonly RealServer[]): void {
    this.#members = servers.filter(isMember);
  }

  pick(_ctx: PickContext): RealServer | undefined {
    const a = this.#draw(undefined);
    if (a === undefined) return undefined;
    const b = this.#draw(a);
    if (b === undefined) return a;
    return connOverhead(b) * a.weight < connOverhead(a) * b.weight ? b : a;
  }

  /** A random available member other than `not`. */
  #draw(not: RealServer | undefined): RealServer | undefined {
    const list = this.#members;
    const n = list.length;
    if (n === 0) return undefined;
    for (let t = 0; t < DRAWS; t++) {
      const s = list[this.#index(n)]!;
      if (s !== not && s.available) return s;
    }
    const start = this.#index(n);
    for (let k = 0; k < n; k++) {
      const s = list[(start + k) % n]!;
      if (s !== not && s.available) return s;
    }
    return undefined;
  }

  /** A random index below n; an injected random() that misbehaves (1, NaN) cannot index out of range. */
  #index(n: number): number {
    if (this.#random === undefined) {
      this.#counter = (this.#counter + 1) & (HASH_RANGE - 1);
      // Modulo bias is below n / 2^30: nothing for any pool.
      return mixInt(this.#seed, this.#counter) % n;
    }
    const i = Math.floor(this.#random() * n);
    return i >= 0 && i < n ? i : 0;
  }
}

/** Creates a power-of-two-choices scheduler; options.random (returning [0, 1)) replaces its own random source in tests. */
export function createP2c(options: SchedulerOptions): Scheduler {
  return new PowerOfTwo(options.random);
}
