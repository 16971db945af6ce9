import { createBucketScheduler } from './buckets.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/**
 * Creates a destination-hashing scheduler (IPVS ip_vs_dh.c): sh's table keyed by the destination, ctx.key ?? ctx.client
 * (L4 puts the destination IP in key; L7 a URL or file, for cache farms). Beyond IPVS, whose dh gives each server one
 * bucket in turn and never falls back: buckets are dealt by weight and fallback (default true) works as sh's. O(1).
 */
export function createDh(options: SchedulerOptions): Scheduler {
  return createBucketScheduler('dh', options, false);
}
