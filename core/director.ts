import { formatEndpoint } from './address.ts';
import { coarseClock, type Clock } from './clock.ts';
import type { ServiceConnection } from './connection.ts';
import type { Opener, Plane, PlaneContext, ProxyHeaderBuilder } from './dataplane/plane.ts';
import { TcpPlane } from './dataplane/tcp.ts';
import { UdpPlane } from './dataplane/udp.ts';
import { YokeError } from './errors.ts';
import { parseNetmask } from './netkey.ts';
import { PersistenceTable } from './persistence.ts';
import type { ServerSettings } from './server.ts';
import { VirtualService } from './service.ts';
import { DEFAULT_TIMEOUTS, type PersistenceSpec, type ServiceSpec, type TimeoutSpec } from './spec.ts';
import { Estimator, type Counters } from './stats.ts';
import { TimerWheel } from './timer-wheel.ts';

export interface DirectorOptions {
  readonly clock?: Clock;
  readonly proxyHeader?: ProxyHeaderBuilder;
  /** The L7 opener of a service (the peek-then-choose seam), asked when its listener starts; it reads the live spec from the service. L4 services have none. */
  readonly openerFor?: (service: VirtualService) => Opener | undefined;
  /** A data plane of another kind for a service (mode http), built by the services layer; undefined = the L4 plane. */
  readonly planeFor?: (service: VirtualService, ctx: PlaneContext) => Plane | undefined;
}

interface Running {
  readonly service: VirtualService;
  readonly plane: Plane;
}

/**
 * The one live model: virtual services with their pools, persistence tables and data planes. Config load,
 * reload, the admin API and the health supervisor change it only through these operations.
 */
export class Director {
  readonly #running = new Map<string, Running>();
  readonly #groups = new Map<string, PersistenceTable>();
  readonly #ctx: PlaneContext;
  readonly #clock: Clock;
  readonly #estimator = new Estimator(() => this.#counters());
  readonly #openerFor: (service: VirtualService) => Opener | undefined;
  readonly #planeFor: (service: VirtualService, ctx: PlaneContext) => Plane | undefined;
  /** Services removed while connections were open: kept until those finish, for shutdown and counters. */
  readonly #retired = new Set<VirtualService>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: DirectorOptions = {}) {
    this.#clock = options.clock ?? coarseClock();
    const wheel = new TimerWheel<ServiceConnection>(1000, this.#clock, (c) => c.expire());
    this.#ctx = { clock: this.#clock, wheel, timeouts: DEFAULT_TIMEOUTS, proxyHeader: options.proxyHeader };
    this.#openerFor = options.openerFor ?? (() => undefined);
    this.#planeFor = options.planeFor ?? (() => undefined);
    this.#estimator.start();
    // One timer for the connection table and every persistence table.
    this.#timer = setInterval(() => this.tick(), 1000);
    this.#timer.unref();
  }

  get timeouts(): TimeoutSpec { return this.#ctx.timeouts; }

  /** Called after every operation that changed services or servers (the health supervisor re-syncs its checks). */
  onChange: () => void = () => {};

  /** `ipvsadm --set`: new deadlines count from each connection's next activity; shorter ones are refiled now. */
  setTimeouts(t: TimeoutSpec): void {
    const old = this.#ctx.timeouts;
    this.#ctx.timeouts = Object.freeze({ ...t });
    if (t.tcpMs >= old.tcpMs && t.tcpFinMs >= old.tcpFinMs && t.udpMs >= old.udpMs) return;
    const now = this.#clock.now();
    for (const v of this.services()) {
      for (const c of v.connections) {
        const limit = now + (c.state === 'udp' ? t.udpMs : c.state === 'fin-wait' ? t.tcpFinMs : t.tcpMs);
        if (c.expiresAt > limit) { c.expiresAt = limit; this.#ctx.wheel.schedule(c); }
      }
    }
  }

  /** Every running service, each layer-7 service followed by its pools. */
  services(): IterableIterator<VirtualService> {
    return [...this.#running.values()].flatMap((r) => [r.service, ...r.service.pools.values()])[Symbol.iterator]();
  }

  /** Finds a service by name (a pool as `service/pool`) or by listen address (`tcp:1.2.3.4:80` style or bare address, TCP first). */
  service(ref: string): VirtualService {
    const byName = this.#running.get(ref);
    if (byName) return byName.service;
    const slash = ref.indexOf('/');
    const pool = slash > 0 ? this.#running.get(ref.slice(0, slash))?.service.pools.get(ref.slice(slash + 1)) : undefined;
    if (pool) return pool;
    const m = /^(tcp|udp):(.*)$/.exec(ref);
    const mode = m?.[1];
    const addr = m ? m[2] : ref;
    const hits = [...this.#running.values()].filter((r) => formatEndpoint(r.service.listen) === addr && (mode === undefined || transport(r.service.mode) === mode));
    hits.sort((a, b) => (transport(a.service.mode) === 'tcp' ? -1 : 1) - (transport(b.service.mode) === 'tcp' ? -1 : 1));
    const hit = hits[0];
    if (!hit) throw new YokeError('E_NO_SUCH_SERVICE', `no virtual service "${ref}"`);
    return hit.service;
  }

  planeOf(name: string): Plane | undefined { return this.#running.get(name)?.plane; }

  /** Adds a service and starts listening; on E_LISTEN nothing is left behind. */
  async addService(spec: ServiceSpec): Promise<VirtualService> {
    if (this.#running.has(spec.name)) throw new YokeError('E_SERVICE_EXISTS', `service ${spec.name} exists`);
    const clash = this.#holder(spec);
    if (clash) throw new YokeError('E_SERVICE_EXISTS', `service ${clash.service.name} already listens on ${spec.mode} ${formatEndpoint(spec.listen)}`);
    const started = await this.#start(spec);
    this.#running.set(spec.name, started);
    this.onChange();
    return started.service;
  }

  /** Removes a service: it stops accepting; its connections finish (or are reset when asked). */
  async removeService(name: string, reset = false): Promise<void> {
    const r = this.#running.get(name);
    if (!r) throw new YokeError('E_NO_SUCH_SERVICE', `no virtual service "${name}"`);
    this.#running.delete(name);
    await r.plane.close();
    if (reset) r.service.closeAll('service-removed');
    this.#retire(r.service);
    this.onChange();
  }

  /**
   * Applies a new spec to a running service: in place when its listen address and mode are unchanged (servers
   * are added, edited or removed; connections keep running), else a new listener replaces the old one.
   */
  async editService(spec: ServiceSpec): Promise<void> {
    const r = this.#running.get(spec.name);
    if (!r) throw new YokeError('E_NO_SUCH_SERVICE', `no virtual service "${spec.name}"`);
    const old = r.service;
    if (!keeps(r, spec)) {
      const started = await this.#start(spec);
      this.#running.set(spec.name, started);
      await r.plane.close();
      this.#retire(old);
      this.onChange();
      return;
    }
    this.#update(old, spec);
    const wanted = new Map((spec.pools ?? []).map((p) => [p.name.slice(spec.name.length + 1), p]));
    for (const [name, pool] of [...old.pools]) if (!wanted.has(name)) { old.pools.delete(name); this.#retire(pool); }
    for (const [name, p] of wanted) {
      const pool = old.pools.get(name);
      if (pool) this.#update(pool, p);
      else old.pools.set(name, this.#pool(p, old));
    }
    this.onChange();
  }

  /** Brings a running service (or pool) to `spec` in place: settings, then servers added, edited or removed. */
  #update(svc: VirtualService, spec: ServiceSpec): void {
    svc.reconfigure(spec, this.#persistenceFor(spec.persistence, svc.persistence));
    svc.sticky = this.#stickyFor(spec, svc.sticky);
    const wanted = new Map(spec.servers.map((s) => [formatEndpoint(s.address), s]));
    for (const s of [...svc.servers]) if (!wanted.has(s.id)) svc.removeServer(s.id, false);
    for (const [id, s] of wanted) {
      if (svc.hasServer(id)) svc.editServer(id, s);
      else svc.addServer(s);
    }
  }

  addServer(service: string, s: ServerSettings): void {
    this.service(service).addServer(s);
    this.onChange();
  }

  editServer(service: string, id: string, s: Omit<ServerSettings, 'address'>): void {
    this.service(service).editServer(id, s);
    this.onChange();
  }

  removeServer(service: string, id: string, reset = false): void {
    this.service(service).removeServer(id, reset);
    this.onChange();
  }

  setWeight(service: string, id: string, weight: number): void {
    if (!Number.isInteger(weight) || weight < 0 || weight > 65535) throw new YokeError('E_BAD_WEIGHT', `weight ${weight}`);
    const svc = this.service(service);
    const s = svc.server(id);
    svc.editServer(id, { name: s.name, weight, maxConns: s.maxConns, minConns: s.minConns });
    this.onChange();
  }

  /** Quiesce: weight 0, so no new connections; existing ones (and persistent clients) finish. */
  drain(service: string, id: string): void { this.setWeight(service, id, 0); }

  /** The operator's up/down: a server marked down stays down whatever a checker says. */
  markServer(service: string, id: string, up: boolean, reset = false): void {
    this.service(service).setAdminDown(id, !up, reset);
    this.onChange();
  }

  /**
   * Reload: brings the running services to `specs`. New listeners are bound first; if any fails, the ones just
   * bound are closed and the running model is untouched (the error says which). Connections in flight stay.
   */
  async apply(specs: readonly ServiceSpec[], timeouts: TimeoutSpec): Promise<void> {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    const fresh = new Map<string, Running>();
    try {
      for (const spec of specs) {
        const r = this.#running.get(spec.name);
        if (r && keeps(r, spec)) continue;
        // An address still held by another running service (a rename, a swap) is bound after that one closes.
        if (this.#holder(spec)) continue;
        fresh.set(spec.name, await this.#start(spec));
      }
    } catch (err) {
      await Promise.all([...fresh.values()].map((f) => f.plane.close()));
      throw err;
    }
    for (const [name, r] of [...this.#running]) {
      if (keeps(r, wanted.get(name))) continue;
      this.#running.delete(name);
      await r.plane.close();
      this.#retire(r.service);
    }
    for (const spec of specs) {
      const f = fresh.get(spec.name);
      if (f) this.#running.set(spec.name, f);
      else if (this.#running.has(spec.name)) await this.editService(spec);
      else this.#running.set(spec.name, await this.#start(spec));
    }
    this.setTimeouts(timeouts);
    this.onChange();
  }

  /** Stops accepting everywhere, waits for connections to finish up to the deadline, then resets the rest. */
  async shutdown(graceMs: number): Promise<void> {
    const all = [...this.#running.values()];
    await Promise.all(all.map((r) => r.plane.close()));
    const services = [...all.map((r) => r.service), ...this.#retired];
    const deadline = Date.now() + graceMs;
    while (services.some((s) => s.connections.size > 0) && Date.now() < deadline) await sleep(50);
    for (const s of services) s.closeAll('shutdown');
    this.#estimator.stop();
    clearInterval(this.#timer);
  }

  /** Runs the idle wheel and the estimator once (tests with a manual clock). */
  tick(): void {
    this.#ctx.wheel.tick();
    for (const t of this.#tables()) t.tick();
  }

  async #start(spec: ServiceSpec): Promise<Running> {
    const service = this.#pool(spec, undefined);
    for (const p of spec.pools ?? []) service.pools.set(p.name.slice(spec.name.length + 1), this.#pool(p, service));
    const plane: Plane = this.#planeFor(service, this.#ctx)
      ?? (spec.mode === 'udp' ? new UdpPlane(service, this.#ctx) : new TcpPlane(service, this.#ctx, this.#openerFor(service)));
    await plane.listen();
    return { service, plane };
  }

  /** A service, or a pool of one: its scheduler, servers, persistence and stickiness. */
  #pool(spec: ServiceSpec, parent: VirtualService | undefined): VirtualService {
    const svc = new VirtualService(spec, this.#clock, this.#persistenceFor(spec.persistence, undefined), parent);
    svc.sticky = this.#stickyFor(spec, undefined);
    return svc;
  }

  /** TLS-session stickiness keeps its table across reloads while it stays on; the timeout applies to entries used afterwards. */
  #stickyFor(spec: ServiceSpec, current: PersistenceTable | undefined): PersistenceTable | undefined {
    const s = spec.sticky;
    if (s === undefined || !s.tlsSession) return undefined;
    if (current !== undefined) { current.settings.timeoutMs = s.timeoutMs; return current; }
    return new PersistenceTable({ timeoutMs: s.timeoutMs, mask4: 32, prefix6: 128 }, this.#clock);
  }

  #holder(spec: ServiceSpec): Running | undefined {
    for (const r of this.#running.values()) if (transport(r.service.mode) === transport(spec.mode) && sameListen(r.service.spec, spec)) return r;
    return undefined;
  }

  #retire(service: VirtualService): void {
    if (service.connections.size > 0) this.#retired.add(service);
  }

  /** A group's table is shared by every member service; an ungrouped service keeps its own across reloads. */
  #persistenceFor(p: PersistenceSpec | undefined, current: PersistenceTable | undefined): PersistenceTable | undefined {
    if (p === undefined) return undefined;
    const settings = { timeoutMs: p.timeoutMs, mask4: parseNetmask(p.netmask), prefix6: p.prefix6 };
    const same = (t: PersistenceTable) => t.settings.mask4 === settings.mask4 && t.settings.prefix6 === settings.prefix6;
    if (p.group !== undefined) {
      let t = this.#groups.get(p.group);
      if (t === undefined || !same(t)) {
        t = new PersistenceTable(settings, this.#clock);
        this.#groups.set(p.group, t);
      }
      return t;
    }
    if (current !== undefined && same(current) && ![...this.#groups.values()].includes(current)) {
      current.settings.timeoutMs = settings.timeoutMs;
      return current;
    }
    return new PersistenceTable(settings, this.#clock);
  }

  *#counters(): Iterable<Counters> {
    for (const svc of this.services()) {
      yield svc.stats;
      for (const s of svc.servers) yield s.stats;
    }
    for (const svc of this.#retired) {
      if (svc.connections.size === 0) { this.#retired.delete(svc); continue; }
      yield svc.stats;
    }
  }

  *#tables(): Iterable<PersistenceTable> {
    const seen = new Set<PersistenceTable>();
    for (const svc of this.services()) {
      for (const t of [svc.persistence, svc.sticky]) if (t && !seen.has(t)) { seen.add(t); yield t; }
    }
  }
}

/** The running service can stay as it is (same mode, listen address, and TLS on or off) under `spec`. */
function keeps(r: Running, spec: ServiceSpec | undefined): boolean {
  return spec !== undefined && r.service.mode === spec.mode && sameListen(r.service.spec, spec) && (r.service.spec.tls === undefined) === (spec.tls === undefined);
}

/** The kind of socket a mode listens on: tls is read from a TCP socket, so it clashes with tcp on one address. */
function transport(mode: ServiceSpec['mode']): 'tcp' | 'udp' {
  return mode === 'udp' ? 'udp' : 'tcp';
}

/** Port 0 (an ephemeral port, in tests) never clashes: the kernel gives each its own. */
function sameListen(a: ServiceSpec, b: ServiceSpec): boolean {
  return a.listen.port !== 0 && formatEndpoint(a.listen) === formatEndpoint(b.listen);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
