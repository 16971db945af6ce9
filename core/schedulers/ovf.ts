import type { RealServer } from '../server.ts';
import { ListScheduler } from './list.ts';
import { heaviest } from './load.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/**
 * ovf's rule (IPVS ip_vs_ovf.c): the available server with the highest weight whose active connections do not exceed
 * its weight (the kernel skips a server only when active > weight); none when every one has overflowed. O(n).
 */
export function pickOvf(servers: readonly RealServer[]): RealServer | undefined {
  return heaviest(servers, true);
}

/** Creates an overflow-connection scheduler: weight is each server's connection budget, spent heaviest first. */
export function createOvf(_options: SchedulerOptions): Scheduler {
  return new ListScheduler('ovf', pickOvf);
}
