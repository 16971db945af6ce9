import type { RealServer } from '../server.ts';
import { ListScheduler } from './list.ts';
import { heaviest } from './load.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/** fo's rule (IPVS ip_vs_fo.c): the available server with the highest weight, the first on ties. O(n). */
export function pickFo(servers: readonly RealServer[]): RealServer | undefined {
  return heaviest(servers, false);
}

/** Creates a weighted fail-over scheduler: all new connections go to one server until it fails or is outweighed. */
export function createFo(_options: SchedulerOptions): Scheduler {
  return new ListScheduler('fo', pickFo);
}
