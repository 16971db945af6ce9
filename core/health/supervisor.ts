import type { Director } from '../director.ts';
import type { Health, RealServer } from '../server.ts';
import type { VirtualService } from '../service.ts';
import type { Checker, CheckResult } from './checker.ts';
import { createChecker } from './checkers/index.ts';
import { Notifier, type HealthEvent, type HookFailure, type Hooks } from './notifier.ts';
import { Prober } from './prober.ts';
import { liveWeight, quorumAfter } from './quorum.ts';
import type { CheckSpec, NotifySpec, QuorumSpec, ServerHealthSpec } from './spec.ts';

/** Where the supervisor reports what it did: every change of a server or a quorum, and failed hooks. */
export interface HealthLog {
  change(event: HealthEvent): void;
  hookFailed: HookFailure;
}

export interface SupervisorOptions {
  readonly log: HealthLog;
  /** The checker for a spec; tests may script one. */
  readonly createChecker?: (spec: CheckSpec) => Checker;
}

interface Watch {
  readonly prober: Prober;
  /** The check as configured, to see whether a reload changed it. */
  readonly key: string;
  readonly spec: CheckSpec;
}

const QUORUM_OF_ONE: QuorumSpec = { weight: 1, hysteresis: 0 };

/**
 * Runs the health checks of every service in the director and applies their verdicts to the live model through
 * its operations: a failed server goes down (or, with inhibit_on_failure, is kept for its existing and persistent
 * clients only), a healed one comes back; passive failures from the data plane take a server down before its next
 * check; the quorum is kept per service; notify hooks are told. It reads the checks from each service's spec, so
 * config load, reload and the admin API all reach it through `sync`, which the director calls after every change.
 */
export class HealthSupervisor {
  readonly #director: Director;
  readonly #log: HealthLog;
  readonly #createChecker: (spec: CheckSpec) => Checker;
  readonly #notifier: Notifier;
  readonly #watches = new Map<RealServer, Watch>();
  /** Services that had at least one check at the last sync: only they keep a quorum. */
  readonly #checked = new Set<VirtualService>();
  /** Servers seen by an earlier sync: alpha applies to the others only (a server already carrying traffic is not taken down by a reload). */
  readonly #known = new WeakSet<RealServer>();

  constructor(director: Director, options: SupervisorOptions) {
    this.#director = director;
    this.#log = options.log;
    this.#createChecker = options.createChecker ?? createChecker;
    this.#notifier = new Notifier(options.log.hookFailed);
  }

  /** Brings the probers in line with the model: new servers get theirs, removed ones lose them, changed checks restart. */
  sync(): void {
    const seen = new Set<RealServer>();
    const services = [...this.#director.services()];
    for (const svc of services) {
      const spec = svc.spec.health;
      let checked = false;
      for (const server of svc.servers) {
        const check = spec?.servers.get(server.id)?.health ?? spec?.health;
        const known = this.#known.has(server);
        this.#known.add(server);
        if (check === undefined) { this.#unwatch(svc, server); continue; }
        seen.add(server);
        checked = true;
        this.#watch(svc, server, check, known);
      }
      svc.onPassiveFall = (server) => {
        this.#watches.get(server)?.prober.fail(`passive: ${server.passiveFall} connect failures or resets in a row`);
      };
      const fresh = checked && !this.#checked.has(svc);
      if (checked) this.#checked.add(svc);
      else this.#checked.delete(svc);
      this.#quorum(svc, fresh);
    }
    for (const [server, w] of this.#watches) {
      if (!seen.has(server)) { w.prober.stop(); this.#watches.delete(server); }
    }
    for (const svc of this.#checked) if (!services.includes(svc)) this.#checked.delete(svc);
  }

  /** Stops every check; with `notify.at_shutdown` (Keepalived omega) reports servers and quorum going down first, and waits for the hooks up to their timeout. */
  async stop(): Promise<void> {
    for (const w of this.#watches.values()) w.prober.stop();
    this.#watches.clear();
    for (const svc of this.#director.services()) {
      const spec = svc.spec.health;
      if (spec?.notify.atShutdown !== true) continue;
      for (const s of svc.servers) if (s.health === 'up') this.#tell(svc, { event: 'down', service: svc.name, server: s.id, reason: 'shutdown', at: Date.now() }, s);
      if (svc.quorumUp && this.#checked.has(svc)) this.#tell(svc, { event: 'quorum_down', service: svc.name, reason: 'shutdown', at: Date.now() });
    }
    await this.#notifier.idle();
  }

  #watch(svc: VirtualService, server: RealServer, spec: CheckSpec, known: boolean): void {
    const key = JSON.stringify(spec);
    const current = this.#watches.get(server);
    server.passiveFall = spec.passiveFall;
    if (current?.key === key) return;
    current?.prober.stop();
    // A new server starts up unless alpha says down (silently: nothing changed that anyone saw); a changed or newly
    // added check on a server already running keeps its state.
    if (!known && spec.alpha && server.health === 'up') svc.setHealth(server.id, 'down');
    const target = { host: spec.address ?? server.address.host, port: spec.port ?? server.address.port, family: server.address.family };
    const prober = new Prober(this.#createChecker(spec), spec, target, server.health === 'up', {
      result: (result, at) => this.#result(svc, server, result, at),
      change: (up, reason) => this.#verdict(svc, server, spec, up, reason),
    });
    this.#watches.set(server, { prober, key, spec });
    prober.start();
  }

  /** A server without a check (its check removed by a reload) is up as far as health goes. */
  #unwatch(svc: VirtualService, server: RealServer): void {
    const w = this.#watches.get(server);
    if (w === undefined) return;
    w.prober.stop();
    this.#watches.delete(server);
    server.passiveFall = 0;
    if (server.health !== 'up') this.#set(svc, server, 'up', 'check removed');
  }

  #result(svc: VirtualService, server: RealServer, result: CheckResult, at: number): void {
    server.report.check = { ok: result.ok, detail: result.detail, at };
    if (result.ok && result.weight !== undefined && result.weight !== server.weight && svc.hasServer(server.id)) {
      this.#director.setWeight(svc.name, server.id, result.weight);
    }
  }

  #verdict(svc: VirtualService, server: RealServer, spec: CheckSpec, up: boolean, reason: string): void {
    if (!svc.hasServer(server.id)) return;
    this.#set(svc, server, up ? 'up' : spec.inhibitOnFailure ? 'inhibited' : 'down', reason);
  }

  #set(svc: VirtualService, server: RealServer, to: Health, reason: string): void {
    if (server.health === to) return;
    svc.setHealth(server.id, to);
    server.failStreak = 0;
    const at = Date.now();
    server.report.change = { to, reason, at };
    this.#tell(svc, { event: to === 'up' ? 'up' : 'down', service: svc.name, server: server.id, reason, at }, server);
    this.#quorum(svc, false);
  }

  /** Keeps the service's quorum; a service seen for the first time takes its state silently. */
  #quorum(svc: VirtualService, fresh: boolean): void {
    if (!this.#checked.has(svc)) { svc.setQuorum(true); return; }
    const q = svc.spec.health?.quorum ?? QUORUM_OF_ONE;
    const sum = liveWeight(svc.servers);
    const up = fresh ? sum >= q.weight : quorumAfter(svc.quorumUp, sum, q);
    if (up === svc.quorumUp) return;
    svc.setQuorum(up);
    if (fresh) return;
    const reason = `live weight ${sum} ${up ? '>=' : '<'} quorum ${q.weight}${q.hysteresis > 0 ? ` ${up ? '+' : '-'} hysteresis ${q.hysteresis}` : ''}`;
    this.#tell(svc, { event: up ? 'quorum_up' : 'quorum_down', service: svc.name, reason, at: Date.now() });
  }

  #tell(svc: VirtualService, event: HealthEvent, server?: RealServer): void {
    this.#log.change(event);
    const spec = svc.spec.health;
    if (spec === undefined) return;
    const own = server === undefined ? undefined : spec.servers.get(server.id)?.notify;
    const hooks: Hooks = { command: hookCommand(event.event, spec.notify, own), webhook: spec.notify.webhook, timeoutMs: spec.notify.timeoutMs };
    this.#notifier.notify(event, hooks);
  }
}

function hookCommand(event: HealthEvent['event'], n: NotifySpec, own: ServerHealthSpec['notify']): string | undefined {
  switch (event) {
    case 'up': return own?.up ?? n.up;
    case 'down': return own?.down ?? n.down;
    case 'quorum_up': return n.quorumUp;
    case 'quorum_down': return n.quorumDown;
  }
}
