import type { RealServer } from '../server.ts';
import type { PickContext, Scheduler, SchedulerName } from './types.ts';

/** A rule that picks from the whole server list with no state of its own. */
export type ListRule = (servers: readonly RealServer[]) => RealServer | undefined;

/** A scheduler whose only state is the server list, each pick applying its rule to it (lc, wlc, sed, nq, fo, ovf). */
export class ListScheduler implements Scheduler {
  readonly name: SchedulerName;
  readonly #rule: ListRule;
  #servers: readonly RealServer[] = [];

  constructor(name: SchedulerName, rule: ListRule) {
    this.name = name;
    this.#rule = rule;
  }

  update(servers: readonly RealServer[]): void {
    // A copy: the caller may reuse its array while this one is being scanned.
    this.#servers = servers.slice();
  }

  pick(_ctx: PickContext): RealServer | undefined {
    return this.#rule(this.#servers);
  }
}
