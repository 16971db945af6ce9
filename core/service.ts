import type { Endpoint } from './address.ts';
import { formatEndpoint } from './address.ts';
import type { Clock } from './clock.ts';
import { isActive, refuse, type CloseReason, type ServiceConnection } from './connection.ts';
import { ConnectionTable } from './connection-table.ts';
import { YokeError } from './errors.ts';
import type { PersistenceTable } from './persistence.ts';
import { createScheduler } from './schedulers/registry.ts';
import type { PickContext, Scheduler } from './schedulers/types.ts';
import { RealServer, type Health, type ServerSettings } from './server.ts';
import type { ServiceSpec } from './spec.ts';
import { Counters } from './stats.ts';

/** Where a service tells its data plane about servers leaving (to expire UDP sessions, or reset TCP). */
export type ServerGoneHandler = (server: RealServer, reset: boolean) => void;

/**
 * A virtual service: its pool of real servers in list order, its scheduler, persistence and sorry server,
 * its counters and its connection table. `assign` is the one scheduling path for every data plane.
 */
export class VirtualService {
  spec: ServiceSpec;
  readonly name: string;
  readonly listen: Endpoint;
  readonly mode: ServiceSpec['mode'];
  readonly stats = new Counters();
  readonly connections = new ConnectionTable<ServiceConnection>();
  /** Client connections turned away, by reason (no server, limit). */
  readonly refused = { noServer: 0, limit: 0 };
  persistence: PersistenceTable | undefined;
  /** TLS-session stickiness: learned keys -> server (mode tls). */
  sticky: PersistenceTable | undefined = undefined;
  /** A layer-7 service's pools, by their own name; each is a service without a listener. Empty for layer 4. */
  readonly pools = new Map<string, VirtualService>();
  /** The layer-7 service a pool belongs to. */
  readonly parent: VirtualService | undefined;
  sorry: RealServer | undefined;
  /** False while the quorum is lost (health checks); see setQuorum. */
  quorumUp = true;
  /** Counts changes of the server set or its states, so that what is derived from them (cookie tokens) knows to rebuild. */
  generation = 0;
  #servers: RealServer[] = [];
  readonly #byId = new Map<string, RealServer>();
  readonly #byIdentity = new Map<string, RealServer>();
  #scheduler: Scheduler;
  readonly #ctx = new ConnectionPick();
  readonly #clock: Clock;

  constructor(spec: ServiceSpec, clock: Clock, persistence: PersistenceTable | undefined, parent?: VirtualService) {
    this.spec = spec;
    this.parent = parent;
    this.name = spec.name;
    this.listen = spec.listen;
    this.mode = spec.mode;
    this.#clock = clock;
    this.persistence = persistence;
    this.#scheduler = createScheduler(spec.scheduler, spec.schedulerOptions);
    this.sorry = spec.sorryServer ? sorryServer(spec.sorryServer) : undefined;
    for (const s of spec.servers) this.#insert(new RealServer(s));
    this.#changed();
  }

  get servers(): readonly RealServer[] { return this.#servers; }
  get schedulerName(): string { return this.#scheduler.name; }

  server(id: string): RealServer {
    const s = this.#byId.get(id);
    if (!s) throw new YokeError('E_NO_SUCH_SERVER', `service ${this.name} has no server ${id}`);
    return s;
  }

  hasServer(id: string): boolean { return this.#byId.has(id); }

  /** True when the service may take one more client connection under its max_conns. */
  admits(): boolean {
    return this.spec.maxConns === 0 || this.connections.size < this.spec.maxConns;
  }

  /**
   * Sends a request to the server its sticky cookie names when that server may still take it (alive and not over its
   * threshold: weight 0 keeps its sticky clients while it drains); otherwise schedules as `assign` does.
   */
  assignSticky(conn: ServiceConnection, id: string): boolean {
    const s = this.#byId.get(id);
    if (s !== undefined && s.alive && !s.overloaded && (this.quorumUp || this.sorry === undefined) && !wasTried(conn, s)) {
      return this.#bind(conn, s, undefined);
    }
    return this.assign(conn);
  }

  /**
   * Chooses a server for a new connection, as IPVS does: a live persistence template first (a quiesced
   * server still serves its persistent clients), else the scheduler, else the sorry server. Sets
   * conn.server and conn.template and counts the connection as inactive (connecting). False = no server.
   */
  assign(conn: ServiceConnection): boolean {
    if (!this.quorumUp && this.sorry !== undefined) return this.#toSorry(conn);
    const keys = conn.stickyKeys;
    if (keys !== undefined && this.sticky !== undefined && this.#stuck(conn, this.sticky, keys)) return true;
    const p = this.persistence;
    let key: number | string = 0;
    if (p !== undefined) {
      key = p.keyOf(conn.clientIp);
      const t = p.get(key);
      if (t !== undefined) {
        const s = this.#byIdentity.get(t.identity);
        if (s !== undefined && s.alive && !wasTried(conn, s)) {
          p.attach(t);
          return this.#bind(conn, s, t);
        }
        p.delete(t);
      }
    }
    const s = this.#pick(conn);
    if (s !== undefined) {
      if (p === undefined) return this.#bind(conn, s, undefined);
      const t = p.create(key, this.#identity(s), s);
      p.attach(t);
      return this.#bind(conn, s, t);
    }
    return this.#toSorry(conn);
  }

  /** The first sticky key that names a live server not yet tried decides; its time is renewed. */
  #stuck(conn: ServiceConnection, table: PersistenceTable, keys: readonly string[]): boolean {
    for (const key of keys) {
      const t = table.get(key);
      if (t === undefined) continue;
      const s = this.#byIdentity.get(t.identity);
      if (s === undefined || !s.alive || wasTried(conn, s)) continue;
      table.refresh(t);
      return this.#bind(conn, s, undefined);
    }
    return false;
  }

  /** The server's answer showed these stickiness keys belong to `server` (mode tls: a ServerHello). */
  learn(keys: readonly string[], server: RealServer): void {
    const table = this.sticky;
    if (table === undefined || !this.hasServer(server.id)) return;
    for (const key of keys) table.remember(key, this.#identity(server), server);
  }

  #toSorry(conn: ServiceConnection): boolean {
    const sorry = this.sorry;
    if (sorry !== undefined && !wasTried(conn, sorry)) return this.#bind(conn, sorry, undefined);
    refuse(this, 'no-server', conn.clientIp);
    return false;
  }

  /** The connection's server failed it (connect error): forget the binding so `assign` can try another. */
  unassignFailed(conn: ServiceConnection): void {
    const s = conn.server;
    if (s === undefined) return;
    (conn.tried ??= []).push(s);
    this.release(conn);
  }

  /** Moves a connection to a new state, keeping the server's active/inactive counts right. */
  setState(conn: ServiceConnection, state: ServiceConnection['state']): void {
    conn.server?.setActive(isActive(conn.state), isActive(state));
    conn.state = state;
  }

  /** A connection ended or failed over: unbind it from its server and its template. */
  release(conn: ServiceConnection): void {
    const s = conn.server;
    if (s !== undefined) { s.unbind(isActive(conn.state)); conn.server = undefined; }
    const t = conn.template;
    if (t !== undefined) { t.table.detach(t); conn.template = undefined; }
  }

  // --- control plane: the operations config reload and the admin API use ---

  addServer(settings: ServerSettings): RealServer {
    const s = new RealServer(settings);
    if (this.#byId.has(s.id)) throw new YokeError('E_SERVER_EXISTS', `service ${this.name} already has server ${s.id}`);
    this.#insert(s);
    this.#changed();
    return s;
  }

  editServer(id: string, settings: Omit<ServerSettings, 'address'>): void {
    this.server(id).configure(settings);
    this.#changed();
  }

  /** Removes a server: its persistence templates and UDP sessions go at once; TCP connections finish unless reset. */
  removeServer(id: string, reset: boolean): void {
    const s = this.server(id);
    this.#servers = this.#servers.filter((x) => x !== s);
    this.#byId.delete(id);
    this.#changed();
    this.#gone(s, reset);
  }

  /** The operator's up/down: a server held down stays down whatever its checks say; down expires its templates and UDP sessions. */
  setAdminDown(id: string, down: boolean, reset = false): void {
    const s = this.server(id);
    const wasAlive = s.alive;
    s.adminDown = down;
    this.#changed();
    if (wasAlive && !s.alive) this.#gone(s, reset);
  }

  /** What health checks say; down expires the server's templates and UDP sessions, inhibited keeps them (weight 0). */
  setHealth(id: string, health: Health): void {
    const s = this.server(id);
    const wasAlive = s.alive;
    s.health = health;
    this.#changed();
    if (wasAlive && !s.alive) this.#gone(s, false);
  }

  /** Keepalived quorum: when lost and a sorry server is set, only the sorry server takes new connections. */
  setQuorum(up: boolean): void {
    this.quorumUp = up;
  }

  /** Passive checks: the data plane saw `server` connect (or carry traffic) fine. */
  serverWorked(s: RealServer): void {
    if (s.failStreak !== 0) s.failStreak = 0;
  }

  /** Passive checks: a connect to `server` failed or it reset a connection; enough in a row call onPassiveFall. */
  serverFailed(s: RealServer): void {
    if (s.passiveFall > 0 && ++s.failStreak === s.passiveFall) this.onPassiveFall(s);
  }

  /** Set by the health supervisor: a server crossed its passive fall. */
  onPassiveFall: (server: RealServer) => void = () => {};

  /** Replaces the spec (reload or edit): scheduler, persistence settings, sorry server and limits. */
  reconfigure(spec: ServiceSpec, persistence: PersistenceTable | undefined): void {
    if (spec.scheduler !== this.spec.scheduler || JSON.stringify(spec.schedulerOptions) !== JSON.stringify(this.spec.schedulerOptions)) {
      this.#scheduler = createScheduler(spec.scheduler, spec.schedulerOptions);
    }
    const sorryChanged = formatOptional(spec.sorryServer) !== formatOptional(this.spec.sorryServer);
    if (sorryChanged) this.sorry = spec.sorryServer ? sorryServer(spec.sorryServer) : undefined;
    this.spec = spec;
    this.persistence = persistence;
    this.#changed();
  }

  /** Tells the data plane about servers leaving; set once by the data plane that runs this service. */
  onServerGone: ServerGoneHandler = () => {};

  /** Ends every connection (service removal with reset, or the shutdown deadline). */
  closeAll(reason: CloseReason): void {
    for (const c of this.connections) c.close(reason); // the table walks a copy: closing entries leave it meanwhile
  }

  #pick(conn: ServiceConnection): RealServer | undefined {
    const ctx = this.#ctx;
    ctx.conn = conn;
    ctx.now = this.#clock.now();
    const s = this.#scheduler.pick(ctx);
    if (s === undefined || !wasTried(conn, s)) return s;
    // A retry after a failed connect: the scheduler would repeat itself (hashing always does), so take the
    // least-loaded available server not yet tried.
    let best: RealServer | undefined;
    for (const c of this.#servers) {
      if (!c.available || wasTried(conn, c)) continue;
      if (best === undefined || (c.activeConns * 256 + c.inactiveConns) * best.weight < (best.activeConns * 256 + best.inactiveConns) * c.weight) best = c;
    }
    return best;
  }

  #bind(conn: ServiceConnection, s: RealServer, t: ServiceConnection['template']): boolean {
    conn.server = s;
    conn.template = t;
    s.bind(isActive(conn.state));
    return true;
  }

  #identity(s: RealServer): string {
    return this.spec.persistence?.group !== undefined ? (s.name ?? s.address.host) : s.id;
  }

  #insert(s: RealServer): void {
    this.#servers.push(s);
    this.#byId.set(s.id, s);
  }

  #changed(): void {
    this.generation++;
    this.#byIdentity.clear();
    for (const s of this.#servers) if (!this.#byIdentity.has(this.#identity(s))) this.#byIdentity.set(this.#identity(s), s);
    this.#scheduler.update(this.#servers);
  }

  #gone(s: RealServer, reset: boolean): void {
    this.persistence?.expireServer(s);
    this.sticky?.expireServer(s);
    (this.parent ?? this).onServerGone(s, reset); // a pool's connections live in its service's table
  }
}

/**
 * The pick context of one service, pointed at the connection being scheduled. Its client address is read only
 * if the scheduler asks (sh and mh do; rr, wrr and the least-connection family never do), which saves a
 * getpeername per TCP connection.
 */
class ConnectionPick implements PickContext {
  conn: ServiceConnection | undefined = undefined;
  now = 0;
  get client(): string { return (this.conn as ServiceConnection).clientIp; }
  get clientPort(): number { return (this.conn as ServiceConnection).clientPort; }
  get key(): string | undefined { return (this.conn as ServiceConnection).key; }
}

function wasTried(conn: ServiceConnection, s: RealServer): boolean {
  return conn.tried !== undefined && conn.tried.includes(s);
}

function sorryServer(address: Endpoint): RealServer {
  return new RealServer({ name: 'sorry', address, weight: 1, maxConns: 0, minConns: 0 });
}

function formatOptional(e: Endpoint | undefined): string {
  return e ? formatEndpoint(e) : '';
}
