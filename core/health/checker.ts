import type { Endpoint } from '../address.ts';

/** What one check found. `detail` says it in a few words for `yoke ctl` and the logs ("HTTP 500 on /healthz"). */
export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
  /** A new weight for the server (exec checks with dynamic weights); undefined = leave it. */
  readonly weight?: number | undefined;
}

/**
 * One kind of health check, bound to its settings. `check` probes one target and always resolves: a refused
 * connection, a wrong answer or an abort are results, not exceptions. When `signal` aborts (the check's timeout)
 * it gives up at once, releasing its socket or killing its process, and resolves with ok false.
 */
export interface Checker {
  check(target: Endpoint, signal: AbortSignal): Promise<CheckResult>;
}
