import type { RealServer } from '../server.ts';
import type { PickContext, Scheduler, SchedulerOptions } from './types.ts';

/**
 * Round robin (IPVS ip_vs_rr.c): a cursor on the last server picked; each pick takes the next available one after it,
 * wrapping. O(1) while servers are available, O(n) when it must skip a run of unavailable ones.
 */
class RoundRobin implements Scheduler {
  readonly name = 'rr';
  #servers: readonly RealServer[] = [];
  /** Index of the last pick; -1 stands before the first server, as the kernel's list head. */
  #cursor = -1;

  update(servers: readonly RealServer[]): void {
    const next = servers.slice();
    const last = this.#servers[this.#cursor];
    let at = last === undefined ? -1 : next.indexOf(last);
    // The last pick was removed: step back one, as IPVS's del_dest does, so the server now in its place is next.
    if (at < 0 && this.#cursor >= 0) at = Math.min(this.#cursor, next.length) - 1;
    this.#servers = next;
    this.#cursor = at;
  }

  pick(_ctx: PickContext): RealServer | undefined {
    const list = this.#servers;
    const n = list.length;
    let i = this.#cursor;
    for (let k = 0; k < n; k++) {
      i = i + 1 >= n ? 0 : i + 1;
      const s = list[i]!;
      if (s.available) {
        this.#cursor = i;
        return s;
      }
    }
    return undefined;
  }
}

/** Creates a round-robin scheduler. */
export function createRr(_options: SchedulerOptions): Scheduler {
  return new RoundRobin();
}
