import type { Endpoint } from '../address.ts';
import type { Checker, CheckResult } from './checker.ts';
import type { CheckCommon } from './spec.ts';

/** What a prober tells its owner: every result, and each change of verdict with the reason. */
export interface ProbeListener {
  result(result: CheckResult, at: number): void;
  change(up: boolean, reason: string): void;
}

/**
 * Checks one server again and again with one checker and turns results into a verdict: `fall` failures in a row
 * take an up server down, `rise` successes in a row bring a down server up. While a verdict is in doubt (a failure
 * seen on an up server, a success on a down one) the next check comes after `retryDelayMs` instead of the
 * interval. So a server that stops answering leaves fall × timeout + (fall - 1) × retryDelay after the first check
 * that meets it dead (sooner when refused at once), and a healed one returns (rise - 1) × retryDelay after its first
 * good check. One timer per prober, unref'd; a check is never started while another runs.
 */
export class Prober {
  readonly #checker: Checker;
  readonly #spec: CheckCommon;
  readonly #target: Endpoint;
  readonly #listener: ProbeListener;
  #up: boolean;
  /** Results in a row that disagree with the verdict. */
  #streak = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: AbortController | undefined;
  #stopped = false;

  constructor(checker: Checker, spec: CheckCommon, target: Endpoint, up: boolean, listener: ProbeListener) {
    this.#checker = checker;
    this.#spec = spec;
    this.#target = target;
    this.#up = up;
    this.#listener = listener;
  }

  get up(): boolean { return this.#up; }

  /** Starts checking: the first check after a random part of `warmupMs` (at once when 0). */
  start(): void {
    this.#later(this.#spec.warmupMs > 0 ? Math.floor(Math.random() * this.#spec.warmupMs) : 0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#running?.abort();
  }

  /** Passive checks saw the server fail: down now, and back only after `rise` good active checks. */
  fail(reason: string): void {
    if (!this.#up) return;
    this.#up = false;
    this.#streak = 0;
    this.#listener.change(false, reason);
  }

  #later(ms: number): void {
    this.#timer = setTimeout(() => void this.#run(), ms);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    const running = new AbortController();
    this.#running = running;
    const timer = setTimeout(() => running.abort(), this.#spec.timeoutMs);
    let result: CheckResult;
    try {
      result = await this.#checker.check(this.#target, running.signal);
    } catch (err) {
      // Checkers resolve every outcome; a throw is a bug, and it must cost a failed check, not the process.
      result = { ok: false, detail: `checker error: ${err instanceof Error ? err.message : String(err)}` };
    } finally {
      clearTimeout(timer);
    }
    if (this.#stopped) return;
    this.#running = undefined;
    this.#listener.result(result, Date.now());
    this.#judge(result);
  }

  #judge(result: CheckResult): void {
    const { rise, fall, intervalMs, retryDelayMs } = this.#spec;
    if (result.ok === this.#up) {
      this.#streak = 0;
      this.#later(intervalMs);
      return;
    }
    this.#streak++;
    const needed = this.#up ? fall : rise;
    if (this.#streak < needed) {
      this.#later(retryDelayMs);
      return;
    }
    this.#up = result.ok;
    this.#streak = 0;
    const runs = needed === 1 ? '' : `${needed} `;
    this.#listener.change(this.#up, this.#up ? `${runs}good check${needed === 1 ? '' : 's'}` : `${runs}failed check${needed === 1 ? '' : 's'}: ${result.detail}`);
    this.#later(intervalMs);
  }
}
