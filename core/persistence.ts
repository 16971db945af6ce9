import type { Clock } from './clock.ts';
import { clientNetworkKey } from './netkey.ts';
import type { RealServer } from './server.ts';
import { TimerWheel, type Expiring } from './timer-wheel.ts';

/**
 * A persistence template (IPVS's connection template): this client network goes to the server named by
 * `identity` while it has connections, and for `timeout` after the last one ends.
 */
export interface Template extends Expiring {
  readonly key: number | string;
  /** The server's identity within the persistence scope (see PersistenceTable). */
  readonly identity: string;
  /** The server the template was made for; its persistConns counts the template. */
  readonly server: RealServer;
  /** The table that holds it: connections detach through it even after a reload replaced the service's table. */
  readonly table: PersistenceTable;
  /** Connections currently following this template. */
  conns: number;
  readonly createdAt: number;
}

export interface PersistenceSettings {
  /** Changeable by reload; applies to templates whose last connection ends afterwards. */
  timeoutMs: number;
  /** IPv4 netmask as a 32-bit number (IPVS -M). */
  readonly mask4: number;
  /** IPv6 prefix length. */
  readonly prefix6: number;
}

/**
 * Client network -> server, as IPVS `-p timeout -M netmask`. One table may be shared by several services
 * (a persistence group, like IPVS fwmark or port-0 persistence): then a template names the server by an
 * identity every member service can resolve (its name, else its IP), so one client's TCP and UDP land together.
 */
export class PersistenceTable {
  readonly settings: PersistenceSettings;
  readonly #templates = new Map<number | string, Template>();
  readonly #clock: Clock;
  readonly #wheel: TimerWheel<Template>;

  constructor(settings: PersistenceSettings, clock: Clock) {
    this.settings = { ...settings };
    this.#clock = clock;
    this.#wheel = new TimerWheel<Template>(1000, clock, (t) => this.#drop(t));
  }

  /** The key of a client's network under this table's masks. */
  keyOf(clientIp: string): number | string {
    return clientNetworkKey(clientIp, this.settings.mask4, this.settings.prefix6);
  }

  /** The live template for a client network, if any. */
  get(key: number | string): Template | undefined {
    const t = this.#templates.get(key);
    if (t === undefined) return undefined;
    if (t.conns === 0 && t.expiresAt <= this.#clock.now()) { this.#drop(t); return undefined; }
    return t;
  }

  /** Makes (or replaces) the template for a client network, already counting the connection that made it. */
  create(key: number | string, identity: string, server: RealServer): Template {
    const old = this.#templates.get(key);
    if (old) this.#drop(old);
    const t: Template = { key, identity, server, table: this, conns: 0, createdAt: this.#clock.now(), expiresAt: Infinity, gone: false };
    this.#templates.set(key, t);
    server.persistConns++;
    return t;
  }

  /** A connection starts following the template: it cannot expire while connections follow it. */
  attach(t: Template): void {
    t.conns++;
    t.expiresAt = Infinity;
  }

  /** A connection that followed the template ended: the timeout starts when the last one ends. */
  detach(t: Template): void {
    if (--t.conns > 0 || t.gone) return;
    t.expiresAt = this.#clock.now() + this.settings.timeoutMs;
    this.#wheel.schedule(t);
  }

  /**
   * Remembers `key` -> `server` for the timeout, without a connection following it (TLS-session stickiness:
   * the key is learned from the server's answer); an existing entry is moved to `server` and its time renewed.
   */
  remember(key: number | string, identity: string, server: RealServer): void {
    const t = this.get(key);
    if (t !== undefined && t.server === server) { this.refresh(t); return; }
    this.refresh(this.create(key, identity, server));
  }

  /** A template without connections lives for the timeout from now (a sticky key was used again). */
  refresh(t: Template): void {
    if (t.conns > 0 || t.gone) return;
    t.expiresAt = this.#clock.now() + this.settings.timeoutMs;
    this.#wheel.schedule(t);
  }

  /** Removes every template that sends clients to `server` (IPVS expire_quiescent_template, on down/remove). */
  expireServer(server: RealServer): number {
    let n = 0;
    for (const t of this.#templates.values()) if (t.server === server) { this.#drop(t); n++; }
    return n;
  }

  /** Removes one template; its connections keep running but stop counting it. */
  delete(t: Template): void { this.#drop(t); }

  /** Live templates, for `yoke ctl --persistent-conns`. */
  list(): IterableIterator<Template> { return this.#templates.values(); }

  get size(): number { return this.#templates.size; }

  /** Expires due templates; the director calls it from its one timer (tests, after moving a ManualClock). */
  tick(): void { this.#wheel.tick(); }

  #drop(t: Template): void {
    if (t.gone) return;
    t.gone = true;
    this.#wheel.cancel(t);
    t.server.persistConns--;
    if (this.#templates.get(t.key) === t) this.#templates.delete(t.key);
  }
}
