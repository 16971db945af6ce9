import type { RealServer } from '../server.ts';
import { ListScheduler } from './list.ts';
import { leastLoaded } from './load.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/** wlc's rule (IPVS ip_vs_wlc.c): the available server with the least (active*256 + inactive)/weight. O(n). */
export function pickWlc(servers: readonly RealServer[]): RealServer | undefined {
  return leastLoaded(servers, 'wlc');
}

/** Creates a weighted least-connection scheduler (IPVS's default). */
export function createWlc(_options: SchedulerOptions): Scheduler {
  return new ListScheduler('wlc', pickWlc);
}
