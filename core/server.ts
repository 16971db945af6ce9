import { formatEndpoint, type Endpoint } from './address.ts';
import { Counters } from './stats.ts';

/**
 * What health checks say of a server: up; down (out of the pool: its persistent clients move); or inhibited
 * (Keepalived inhibit_on_failure: as weight 0, existing connections and persistent clients stay, no new ones).
 */
export type Health = 'up' | 'down' | 'inhibited';

/** The last check of a server and the last change of its health, for `yoke ctl` and the admin API. */
export interface HealthReport {
  /** Result of the last active check; undefined until one finished. */
  check: { readonly ok: boolean; readonly detail: string; readonly at: number } | undefined;
  /** The last change of `health` and why ("3 failed checks: connect refused", "passive: 3 connect failures"). */
  change: { readonly to: Health; readonly reason: string; readonly at: number } | undefined;
}

/** Settings of a real server that config, the admin API and reload may change. */
export interface ServerSettings {
  readonly name?: string | undefined;
  readonly address: Endpoint;
  readonly weight: number;
  /** Upper connection threshold (ipvsadm -x); 0 = none. */
  readonly maxConns: number;
  /** Lower connection threshold (ipvsadm -y); 0 = 3/4 of maxConns, as IPVS. */
  readonly minConns: number;
}

/**
 * A real server as the schedulers and the data plane see it. Its connection counts and overload flag follow
 * IPVS: a connection is bound when scheduled and unbound when it ends; crossing maxConns sets the overload flag
 * and falling below minConns (or 3/4 of maxConns when no minConns) clears it.
 */
export class RealServer {
  readonly id: string;
  readonly address: Endpoint;
  name: string | undefined;
  weight: number;
  maxConns: number;
  minConns: number;
  /** Set by health checks (and passive checks); a server starts up unless its check says alpha. */
  health: Health = 'up';
  readonly report: HealthReport = { check: undefined, change: undefined };
  /** Passive checks: connect failures or resets in a row that take the server down (0 = off), and the current run. */
  passiveFall = 0;
  failStreak = 0;
  /** Set by the operator: down whatever the checker says. */
  adminDown = false;
  /** IPVS IP_VS_DEST_F_OVERLOAD: total connections reached maxConns. */
  overloaded = false;
  /** Connections in the established state (IPVS ActiveConn). */
  activeConns = 0;
  /** Connections not yet or no longer established: half-closed TCP, UDP sessions (IPVS InActConn). */
  inactiveConns = 0;
  /** Persistence templates pointing at this server (IPVS PersistConn). */
  persistConns = 0;
  readonly stats = new Counters();

  constructor(s: ServerSettings) {
    this.address = s.address;
    this.id = formatEndpoint(s.address);
    this.name = s.name;
    this.weight = s.weight;
    this.maxConns = s.maxConns;
    this.minConns = s.minConns;
  }

  /** Not down by health nor held down by the operator: existing connections and persistence may use it. */
  get alive(): boolean {
    return this.health !== 'down' && !this.adminDown;
  }

  /** A scheduler may give it a new connection: alive, weight above 0 (0 = quiesce) and not overloaded. */
  get available(): boolean {
    return this.weight > 0 && !this.overloaded && this.health === 'up' && !this.adminDown;
  }

  /** Total connections as IPVS counts them against thresholds. */
  get totalConns(): number {
    return this.activeConns + this.inactiveConns;
  }

  /** Counts a new connection scheduled to this server (inactive until established, as IPVS). */
  bind(active: boolean): void {
    if (active) this.activeConns++;
    else this.inactiveConns++;
    this.stats.conns++;
    if (this.maxConns !== 0 && this.totalConns >= this.maxConns) this.overloaded = true;
  }

  /** Moves one connection between the active and inactive counts (TCP established / half-closed). */
  setActive(wasActive: boolean, active: boolean): void {
    if (wasActive === active) return;
    if (active) { this.inactiveConns--; this.activeConns++; } else { this.activeConns--; this.inactiveConns++; }
  }

  /** Counts a connection's end and clears the overload flag as IPVS does. */
  unbind(active: boolean): void {
    if (active) this.activeConns--;
    else this.inactiveConns--;
    if (!this.overloaded) return;
    const total = this.totalConns;
    if (this.minConns !== 0) { if (total < this.minConns) this.overloaded = false; }
    else if (this.maxConns !== 0) { if (total * 4 < this.maxConns * 3) this.overloaded = false; }
    else this.overloaded = false;
  }

  /**
   * Applies new settings from config or the admin API. As IPVS does on an edit, removing or raising the upper
   * threshold clears the overload flag (the next connection sets it again if still at the limit); lowering it to
   * the current total sets the flag at once, so a cut takes effect before the next connection.
   */
  configure(s: Omit<ServerSettings, 'address'>): void {
    const raised = s.maxConns === 0 || s.maxConns > this.maxConns;
    this.name = s.name;
    this.weight = s.weight;
    this.maxConns = s.maxConns;
    this.minConns = s.minConns;
    if (raised) this.overloaded = false;
    if (this.maxConns !== 0 && this.totalConns >= this.maxConns) this.overloaded = true;
  }
}
