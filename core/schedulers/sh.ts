import { createBucketScheduler } from './buckets.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/**
 * Creates a source-hashing scheduler (IPVS ip_vs_sh.c): the hash of ctx.key ?? ctx.client (plus ctx.clientPort with
 * hashPort, IPVS sh-port) picks one of `buckets` (default 256) buckets dealt by weight; fallback (default true) as
 * IPVS sh-fallback. O(1) per pick.
 */
export function createSh(options: SchedulerOptions): Scheduler {
  return createBucketScheduler('sh', options, options.hashPort ?? false);
}
