import { HashedScheduler } from './hashed.ts';
import { isMember } from './load.ts';
import { buildMaglevTable, checkMaglevSize, DEFAULT_MAGLEV_SIZE } from './maglev.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/**
 * Creates a Maglev-hashing scheduler (IPVS ip_vs_mh.c): ctx.key ?? ctx.client (plus ctx.clientPort with hashPort)
 * into a Maglev table of tableSize slots (a prime, default 65521) built from the members with weight > 0 that are
 * alive. A health change rebuilds the table, and Maglev moves little more than the leaving server's own keys; overload,
 * which changes between updates, goes to the fallback (default true, IPVS mh-fallback). O(1) per pick.
 * Throws E_CONFIG_INVALID for a size that is not prime.
 */
export function createMh(options: SchedulerOptions): Scheduler {
  const size = options.tableSize ?? DEFAULT_MAGLEV_SIZE;
  checkMaglevSize(size);
  return new HashedScheduler({
    name: 'mh',
    member: isMember,
    build: (members) => buildMaglevTable(members, size),
    hashPort: options.hashPort ?? false,
    fallback: options.fallback ?? true,
  });
}
