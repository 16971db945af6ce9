import type { RealServer } from '../server.ts';
import { ListScheduler } from './list.ts';
import { pickSed } from './sed.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/** nq's rule (IPVS ip_vs_nq.c): the first available idle server (no active connections), else sed's choice. O(n). */
export function pickNq(servers: readonly RealServer[]): RealServer | undefined {
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i]!;
    if (s.available && s.activeConns === 0) return s;
  }
  // The kernel does both in one pass; two passes keep sed's rule in one place and cost the same order.
  return pickSed(servers);
}

/** Creates a never-queue scheduler. */
export function createNq(_options: SchedulerOptions): Scheduler {
  return new ListScheduler('nq', pickNq);
}
