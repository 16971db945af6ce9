import { request } from 'undici';
import { killGroup, spawnShell } from './shell.ts';
import type { NotifySpec } from './spec.ts';

/** A change worth telling the operator's tools about. */
export interface HealthEvent {
  readonly event: 'up' | 'down' | 'quorum_up' | 'quorum_down';
  readonly service: string;
  /** The server (`host:port`) for up and down. */
  readonly server?: string | undefined;
  readonly reason: string;
  /** Epoch milliseconds. */
  readonly at: number;
}

/** The hooks that apply to one event: the service's, with a server's own up/down command in place of the service's. */
export type Hooks = Pick<NotifySpec, 'webhook' | 'timeoutMs'> & { readonly command: string | undefined };

/** Where the notifier reports a hook that failed (a non-zero exit, a timeout, an HTTP error). */
export type HookFailure = (event: HealthEvent, hook: string, problem: string) => void;

/**
 * Runs notify hooks off the data path: a command under /bin/sh with the event in its environment (YOKE_EVENT,
 * YOKE_SERVICE, YOKE_SERVER, YOKE_REASON) and a JSON POST to the webhook. Hooks of one service run one event at a
 * time, in order, so a script never sees "up" before the "down" that preceded it; a hook that outlives its timeout
 * is killed (or its request aborted) and reported.
 */
export class Notifier {
  readonly #queues = new Map<string, Promise<void>>();
  readonly #failed: HookFailure;

  constructor(failed: HookFailure) {
    this.#failed = failed;
  }

  notify(event: HealthEvent, hooks: Hooks): void {
    if (hooks.command === undefined && hooks.webhook === undefined) return;
    const prev = this.#queues.get(event.service) ?? Promise.resolve();
    const next = prev.then(() => this.#run(event, hooks));
    this.#queues.set(event.service, next);
    void next.then(() => { if (this.#queues.get(event.service) === next) this.#queues.delete(event.service); });
  }

  /** Resolves when every queued hook has finished (shutdown waits for the omega notifications). */
  async idle(): Promise<void> {
    while (this.#queues.size > 0) await Promise.all(this.#queues.values());
  }

  async #run(event: HealthEvent, hooks: Hooks): Promise<void> {
    await Promise.all([
      hooks.command === undefined ? undefined : this.#command(event, hooks.command, hooks.timeoutMs),
      hooks.webhook === undefined ? undefined : this.#webhook(event, hooks.webhook, hooks.timeoutMs),
    ]);
  }

  #command(event: HealthEvent, command: string, timeoutMs: number): Promise<void> {
    const env = { ...process.env, YOKE_EVENT: event.event, YOKE_SERVICE: event.service, YOKE_SERVER: event.server ?? '', YOKE_REASON: event.reason };
    return new Promise((resolve) => {
      const child = spawnShell(command, env, 'ignore');
      const timer = setTimeout(() => killGroup(child), timeoutMs);
      child.on('error', (err) => { clearTimeout(timer); this.#failed(event, command, err.message); resolve(); });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (signal !== null) this.#failed(event, command, `killed by ${signal} (timeout ${timeoutMs}ms)`);
        else if (code !== 0) this.#failed(event, command, `exit ${code}`);
        resolve();
      });
    });
  }

  async #webhook(event: HealthEvent, url: string, timeoutMs: number): Promise<void> {
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body.dump();
      if (res.statusCode >= 300) this.#failed(event, url, `HTTP ${res.statusCode}`);
    } catch (err) {
      this.#failed(event, url, err instanceof Error ? err.message : String(err));
    }
  }
}
