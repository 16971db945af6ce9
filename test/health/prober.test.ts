import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Checker, CheckResult } from '../../core/health/checker.ts';
import { Prober } from '../../core/health/prober.ts';
import { fastCheck, until } from '../helpers/health.ts';

const TARGET = { host: '127.0.0.1', port: 1, family: 4 as const };

/** A prober over a checker whose answers come from `answer`, recording results and changes with their times. */
function probe(answer: (n: number, signal: AbortSignal) => Promise<CheckResult>, up = true, spec = fastCheck()) {
  let n = 0;
  const checker: Checker = { check: (_t, signal) => answer(n++, signal) };
  const log: string[] = [];
  const times: number[] = [];
  const p = new Prober(checker, spec, TARGET, up, {
    result: (r) => { log.push(r.ok ? 'ok' : `fail ${r.detail}`); times.push(Date.now()); },
    change: (isUp, reason) => log.push(`${isUp ? 'UP' : 'DOWN'} ${reason}`),
  });
  return { p, log, times, checks: () => n };
}

const ok: CheckResult = { ok: true, detail: 'fine' };
const bad: CheckResult = { ok: false, detail: 'refused' };

describe('the prober turns check results into a verdict', () => {
  it('fall failures in a row go down; rise successes in a row come back; a lone result against the verdict changes nothing', async () => {
    const script = [ok, bad, ok, bad, bad, ok, bad, ok, ok];
    const t = probe((i) => Promise.resolve(script[i] ?? ok));
    t.p.start();
    await until(() => t.checks() >= script.length, 'the script');
    t.p.stop();
    assert.deepEqual(t.log.slice(0, 11), [
      'ok', 'fail refused', 'ok', 'fail refused', 'fail refused', 'DOWN 2 failed checks: refused', 'ok', 'fail refused', 'ok', 'ok', 'UP 2 good checks',
    ]);
  });

  it('while a verdict is in doubt the next check comes after retry_delay, otherwise after the interval', async () => {
    const t = probe((i) => Promise.resolve(i === 1 ? bad : ok), true, fastCheck({ intervalMs: 120, retryDelayMs: 10 }));
    t.p.start();
    await until(() => t.times.length >= 4, 'four checks');
    t.p.stop();
    const gaps = t.times.slice(1).map((x, i) => x - (t.times[i] as number));
    assert.ok((gaps[0] as number) >= 100, `after an agreeing check: the interval (${gaps[0]} ms)`);
    assert.ok((gaps[1] as number) < 60, `after a doubting check: retry_delay (${gaps[1]} ms)`);
    assert.ok((gaps[2] as number) >= 100, `doubt cleared: the interval again (${gaps[2]} ms)`);
  });

  it('a checker that hangs is aborted at the timeout; one that throws counts as a failed check, not a crash', async () => {
    const t = probe((i, signal) => (i === 0
      ? new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, detail: 'timeout' })))
      : Promise.reject(new Error('bug'))), true, fastCheck({ timeoutMs: 30, fall: 2 }));
    const started = Date.now();
    t.p.start();
    await until(() => t.log.length >= 3, 'two checks and a verdict');
    t.p.stop();
    assert.deepEqual(t.log.slice(0, 3), ['fail timeout', 'fail checker error: bug', 'DOWN 2 failed checks: checker error: bug']);
    assert.ok(Date.now() - started < 1000);
  });

  it('stop aborts a running check and nothing is reported after it; a passive failure goes down at once', async () => {
    let aborted = false;
    const t = probe((_i, signal) => new Promise((resolve) => signal.addEventListener('abort', () => { aborted = true; resolve(bad); })), true, fastCheck({ timeoutMs: 10_000 }));
    t.p.start();
    await until(() => t.checks() === 1, 'a running check');
    t.p.fail('passive: 3 connect failures or resets in a row');
    t.p.stop();
    await until(() => aborted, 'the abort');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(t.log, ['DOWN passive: 3 connect failures or resets in a row']);
    assert.equal(t.p.up, false);
  });
});
