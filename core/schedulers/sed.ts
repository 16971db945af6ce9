import type { RealServer } from '../server.ts';
import { ListScheduler } from './list.ts';
import { leastLoaded } from './load.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/**
 * sed's rule (IPVS ip_vs_sed.c): the available server with the least (active + 1)/weight. Counting the incoming
 * connection sends it to a heavy idle server rather than a light idle one, which wlc cannot tell apart. O(n).
 */
export function pickSed(servers: readonly RealServer[]): RealServer | undefined {
  return leastLoaded(servers, 'sed');
}

/** Creates a shortest-expected-delay scheduler. */
export function createSed(_options: SchedulerOptions): Scheduler {
  return new ListScheduler('sed', pickSed);
}
