import type { RealServer } from '../server.ts';
import { ListScheduler } from './list.ts';
import { leastLoaded } from './load.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/** lc's rule (IPVS ip_vs_lc.c): the available server with the least active*256 + inactive; weights only quiesce (0). O(n). */
export function pickLc(servers: readonly RealServer[]): RealServer | undefined {
  return leastLoaded(servers, 'lc');
}

/** Creates a least-connection scheduler. */
export function createLc(_options: SchedulerOptions): Scheduler {
  return new ListScheduler('lc', pickLc);
}
