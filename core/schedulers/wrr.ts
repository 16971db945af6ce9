import type { RealServer } from '../server.ts';
import { weightSpan } from './gcd.ts';
import { isMember } from './load.ts';
import type { PickContext, Scheduler, SchedulerOptions } from './types.ts';

/**
 * Weighted round robin, IPVS's interleaved form (ip_vs_wrr.c). Passes over the list ask for a current weight cw that
 * starts at the top weight mw and drops by di (the gcd of the weights) at the end of each pass, back to mw after 1;
 * a pass takes every available server whose weight >= cw. Weights 3,1,1 give A A A B C: A alone at cw 3 and 2,
 * everyone at cw 1. As in the kernel, mw is max - (di - 1) so that the last pass asks for weight >= 1.
 * O(1) amortised; O(n) when it must skip unavailable servers.
 */
class WeightedRoundRobin implements Scheduler {
  readonly name = 'wrr';
  #servers: readonly RealServer[] = [];
  #cursor = -1;
  #cw = 0;
  #mw = 0;
  #di = 1;

  update(servers: readonly RealServer[]): void {
    this.#servers = servers.slice();
    // gcd and max over the servers that can take connections; down ones would only add empty passes.
    const { gcd, max } = weightSpan(servers.filter(isMember));
    this.#di = gcd > 0 ? gcd : 1;
    this.#mw = max > 0 ? max - (this.#di - 1) : 0;
    // As the kernel: restart from the head, keep cw if still in range, else snap it onto the new step grid.
    this.#cursor = -1;
    if (this.#cw > this.#mw || this.#cw <= 0) this.#cw = this.#mw;
    else if (this.#di > 1) this.#cw = Math.floor(this.#cw / this.#di) * this.#di + 1;
  }

  pick(_ctx: PickContext): RealServer | undefined {
    const list = this.#servers;
    const n = list.length;
    const di = this.#di;
    const mw = this.#mw;
    if (mw <= 0) return undefined;
    let i = this.#cursor;
    let cw = this.#cw;
    let seen = 0;
    let best = 0;
    for (;;) {
      i++;
      if (i >= n) {
        i = -1;
        cw -= di;
        if (cw <= 0) cw = mw;
        if (seen >= n) {
          // Every server has been looked at in this pick, so availability is known: stop if none, else skip the
          // passes that could find nobody (cw above the heaviest available weight) instead of walking them.
          if (best === 0) {
            this.#cursor = -1;
            this.#cw = cw;
            return undefined;
          }
          while (cw > best) cw -= di;
        }
        continue;
      }
      const s = list[i]!;
      seen++;
      if (!s.available) continue;
      if (s.weight > best) best = s.weight;
      if (s.weight >= cw) {
        this.#cursor = i;
        this.#cw = cw;
        return s;
      }
    }
  }
}

/** Creates an IPVS weighted round-robin scheduler. */
export function createWrr(_options: SchedulerOptions): Scheduler {
  return new WeightedRoundRobin();
}
