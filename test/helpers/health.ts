// Health settings for tests: fast checks, and a checker the test scripts (which servers pass) for the supervisor's rules.
import type { Endpoint } from '../../core/address.ts';
import type { Checker, CheckResult } from '../../core/health/checker.ts';
import type { CheckSpec, NotifySpec, ServerHealthSpec, ServiceHealthSpec, TcpCheckSpec } from '../../core/health/spec.ts';

/** A tcp check with fast timings: every 30 ms, 100 ms timeout, rise 2, fall 2, retries after 10 ms. */
export function fastCheck(extra: Partial<TcpCheckSpec> = {}): TcpCheckSpec {
  return {
    type: 'tcp', intervalMs: 30, timeoutMs: 100, rise: 2, fall: 2, retryDelayMs: 10, warmupMs: 0, port: undefined, address: undefined,
    alpha: false, inhibitOnFailure: false, passiveFall: 0, send: undefined, expect: undefined, ...extra,
  };
}

export const NO_HOOKS: NotifySpec = {
  up: undefined, down: undefined, quorumUp: undefined, quorumDown: undefined, webhook: undefined, timeoutMs: 2000, atShutdown: false,
};

export function healthSpec(
  health: CheckSpec | undefined,
  extra: { quorum?: ServiceHealthSpec['quorum']; notify?: Partial<NotifySpec>; servers?: [string, ServerHealthSpec][] } = {},
): ServiceHealthSpec {
  return {
    health,
    quorum: extra.quorum ?? { weight: 1, hysteresis: 0 },
    notify: { ...NO_HOOKS, ...extra.notify },
    servers: new Map(extra.servers ?? []),
  };
}

/** A checker whose verdict the test sets per target port (`true` passes, a string fails with that detail); counts its checks. */
export class ScriptedChecker implements Checker {
  readonly verdicts = new Map<number, boolean | string>();
  readonly weights = new Map<number, number>();
  checks = 0;

  check(target: Endpoint): Promise<CheckResult> {
    this.checks++;
    const v = this.verdicts.get(target.port) ?? true;
    const weight = this.weights.get(target.port);
    return Promise.resolve(v === true ? { ok: true, detail: 'scripted ok', weight } : { ok: false, detail: v === false ? 'scripted failure' : v });
  }
}

/** Polls `cond` every 5 ms until it holds; fails after `ms` with `what`. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
