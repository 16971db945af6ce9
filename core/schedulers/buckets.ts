import { YokeError } from '../errors.ts';
import { HashedScheduler } from './hashed.ts';
import type { Scheduler, SchedulerOptions } from './types.ts';

/** IPVS sh/dh's table size (CONFIG_IP_VS_SH_TAB_BITS = 8). */
export const DEFAULT_BUCKETS = 256;

/**
 * Deals `size` buckets to members in proportion to weight (sh and dh's table; slot = index into members, -1 when no
 * member has weight). IPVS gives each server `weight` consecutive buckets in list order, round and round; when the
 * weights don't divide the table that skews shares (three servers of weight 100 get 100, 100 and 56 of 256 buckets).
 * yoke deals them by smooth weighted round robin instead, so each share is within one bucket of size*weight/sum and
 * servers are interleaved. O(size * n); the control plane calls it on update.
 */
export function buildBuckets(members: readonly { readonly weight: number }[], size: number = DEFAULT_BUCKETS): Int32Array {
  const table = new Int32Array(size).fill(-1);
  let total = 0;
  for (const m of members) if (m.weight > 0) total += m.weight;
  if (total === 0) return table;
  const credit = new Float64Array(members.length);
  for (let b = 0; b < size; b++) {
    let best = -1;
    for (let i = 0; i < members.length; i++) {
      const w = members[i]!.weight;
      if (w <= 0) continue;
      credit[i]! += w;
      if (best < 0 || credit[i]! > credit[best]!) best = i;
    }
    credit[best]! -= total;
    table[b] = best;
  }
  return table;
}

/**
 * sh and dh: servers with weight > 0 hold buckets whatever their health, as in IPVS. A server that goes down keeps
 * them, so only its own keys move (to their fallback), and they come back with it.
 */
export function createBucketScheduler(name: 'sh' | 'dh', options: SchedulerOptions, hashPort: boolean): Scheduler {
  const size = options.buckets ?? DEFAULT_BUCKETS;
  if (!Number.isInteger(size) || size < 1) throw new YokeError('E_CONFIG_INVALID', `${name} buckets must be a whole number above 0, not ${size}`);
  return new HashedScheduler({
    name,
    member: (s) => s.weight > 0,
    build: (members) => buildBuckets(members, size),
    hashPort,
    fallback: options.fallback ?? true,
  });
}
