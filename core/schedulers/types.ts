import type { RealServer } from '../server.ts';

/**
 * What a pick may look at. The caller owns one PickContext per service and refills it per pick,
 * so the data plane allocates nothing. `key` is what hashing and locality schedulers hash:
 * the client IP for L4 services (sh) or the destination (dh, lblc, lblcr); L7 puts a URL, user, file or cookie there.
 */
export interface PickContext {
  /** Client IP address as text. */
  client: string;
  /** Client port (sh/mh with hashPort). */
  clientPort: number;
  /** The hash/locality key; when absent, hashing schedulers use `client`. */
  key: string | undefined;
  /** Milliseconds, from the service's clock (lblc/lblcr expiry). */
  now: number;
}

/** A scheduling algorithm over one pool of real servers. One file per algorithm, as IPVS's ip_vs_*.c. */
export interface Scheduler {
  readonly name: SchedulerName;
  /** Control plane: the server set, a weight or a health state changed. May allocate and rebuild tables. */
  update(servers: readonly RealServer[]): void;
  /** Data plane: no allocation, never throws; undefined = no server may take a new connection. */
  pick(ctx: PickContext): RealServer | undefined;
}

/** Options a service may give its scheduler; each scheduler reads only its own. */
export interface SchedulerOptions {
  /** sh, dh, mh: when the hashed server is unavailable, try another live one (default true; IPVS sh-fallback/mh-fallback). */
  readonly fallback?: boolean;
  /** sh, mh: hash the client port too (IPVS sh-port/mh-port). */
  readonly hashPort?: boolean;
  /** mh: lookup table size, a prime (default 65521). */
  readonly tableSize?: number;
  /** lblc, lblcr: idle time after which a key's entry is forgotten, ms (default 24 h, IPVS lblc_expiration/lblcr_expiration). */
  readonly expireMs?: number;
  /** lblc, lblcr: most keys remembered (default 16384, IPVS's 1024 buckets * 16); past it new keys are scheduled unremembered. */
  readonly maxEntries?: number;
  /** lblcr: how long a key's server set must stay unchanged before its most loaded server is dropped, ms (default expireMs, as IPVS). */
  readonly shrinkMs?: number;
  /** sh, dh: bucket count (default 256, IPVS CONFIG_IP_VS_SH_TAB_BITS=8); raise it for pools of more than a few dozen servers. */
  readonly buckets?: number;
  /** Random source for p2c, injectable for tests; returns [0, 1). */
  readonly random?: () => number;
}

export const SCHEDULER_NAMES = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'sh', 'dh', 'lblc', 'lblcr', 'mh', 'fo', 'ovf', 'p2c'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

export type SchedulerFactory = (options: SchedulerOptions) => Scheduler;
