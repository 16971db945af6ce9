// The user directory of the mail farm: who a user is and which mail host holds their mailbox, asked of LDAP over
// ldapts. A lookup never rejects: a directory that is down, slow or refuses yoke's bind is an `unavailable` answer the
// protocol turns into its own temporary failure. Answers are cached, concurrent lookups of one user share one query,
// and a small pool of bound connections is kept open (a dead one is replaced on the next lookup).
import type { ConnectionOptions } from 'node:tls';
import { Client, ResultCodeError, type Entry } from 'ldapts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { YokeError } from '../../core/errors.ts';
import { checkFilterTemplate, parseFilter, renderFilter } from '../../l7/ldap/filter.ts';
import { toLdapts } from './directory-filter.ts';

/** One directory as the config layer hands it over: secrets already resolved, durations in ms. */
export interface DirectorySpec {
  /** The directory's name in the config (for reasons and the admin API). */
  readonly name: string;
  /** ldap://host[:port] or ldaps://host[:port]. */
  readonly url: string;
  /** Upgrade an ldap:// connection with StartTLS before binding (refused with ldaps://). */
  readonly startTls: boolean;
  /** The DN yoke binds as, and its password (resolved from env:/file:); both undefined = anonymous. */
  readonly bindDn: string | undefined;
  readonly password: string | undefined;
  /** Where the search starts (subtree scope). */
  readonly base: string;
  /** An RFC 4515 filter holding `{user}`, e.g. `(uid={user})`. */
  readonly filter: string;
  /** The attribute naming the user's mail host, e.g. mailHost. */
  readonly hostAttribute: string;
  /** How long a found user's answer is kept, and an unknown user's (shorter: a new user should not wait long). */
  readonly cacheMs: number;
  readonly negativeCacheMs: number;
  /** The most one lookup may take (waiting for a connection, connecting, binding, searching) before it is unavailable. */
  readonly timeoutMs: number;
  /** Connections kept open to the directory. */
  readonly poolSize: number;
  /** For ldaps:// and StartTLS: a CA (PEM) instead of the system's, and whether to verify the server's certificate. */
  readonly tls: { readonly ca?: string | undefined; readonly verify: boolean; readonly serverName?: string | undefined };
}

/** What the directory says about a user. */
export type LookupAnswer =
  | { readonly kind: 'found'; readonly host: string | undefined }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** Counters for the admin API: every lookup is a cache hit or a miss; a miss joins a query in flight or sends one. */
export interface DirectoryCounters {
  lookups: number;
  hits: number;
  misses: number;
  /** Misses that joined a query already in flight for the same user. */
  shared: number;
  /** Searches sent to the directory. */
  queries: number;
  /** Lookups answered `unavailable`. */
  errors: number;
  /** Connections opened (the first bind of each), so reconnects show. */
  connects: number;
}

/** Cached answers are bounded; past this the oldest entry goes first. */
const MAX_CACHED = 100_000;
/** A user name longer than this is no one's (and is not sent to the directory). */
const MAX_USER_BYTES = 1024;

interface Conn {
  readonly client: Client;
  /** Connected, upgraded and bound; rejects with the reason it could not be. */
  readonly ready: Promise<void>;
  used: boolean;
  dead: boolean;
}

interface Attempt {
  expired: boolean;
  conn: Conn | undefined;
}

/** A user directory over LDAP. `lookup` never rejects; `close` ends every connection. */
export class Directory {
  readonly spec: DirectorySpec;
  readonly #clock: Clock;
  readonly #counters: DirectoryCounters = { lookups: 0, hits: 0, misses: 0, shared: 0, queries: 0, errors: 0, connects: 0 };
  readonly #cache = new Map<string, { readonly answer: LookupAnswer; readonly expires: number }>();
  readonly #inFlight = new Map<string, Promise<LookupAnswer>>();
  readonly #idle: Conn[] = [];
  readonly #waiters: Array<(conn: Conn | undefined) => void> = [];
  readonly #tlsOptions: ConnectionOptions;
  readonly #host: string;
  #open = 0;
  #closed = false;

  /** Checks the spec (filter, URL, StartTLS with ldaps) and throws a YokeError when it cannot work; opens nothing yet. */
  constructor(spec: DirectorySpec, clock: Clock = systemClock) {
    const check = checkFilterTemplate(spec.filter);
    if (!check.ok) throw new YokeError('E_DIRECTORY_FILTER', `directory ${spec.name}: filter ${JSON.stringify(spec.filter)}: ${check.reason}`);
    const probe = parseFilter(renderFilter(spec.filter, 'probe'));
    try {
      if (probe.kind === 'ok') toLdapts(probe.filter);
    } catch {
      throw new YokeError('E_DIRECTORY_FILTER', `directory ${spec.name}: filter ${JSON.stringify(spec.filter)}: a value other than an equality's must be UTF-8`);
    }
    let url: URL;
    try { url = new URL(spec.url); } catch { throw new YokeError('E_CONFIG_INVALID', `directory ${spec.name}: url ${JSON.stringify(spec.url)} is not a URL: write ldap://host:port or ldaps://host:port`); }
    if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') throw new YokeError('E_CONFIG_INVALID', `directory ${spec.name}: url must start with ldap:// or ldaps://`);
    if (url.protocol === 'ldaps:' && spec.startTls) throw new YokeError('E_CONFIG_INVALID', `directory ${spec.name}: start_tls is for ldap:// URLs; an ldaps:// connection is TLS from its first byte`);
    if ((spec.bindDn === undefined) !== (spec.password === undefined)) throw new YokeError('E_CONFIG_INVALID', `directory ${spec.name}: bind_dn and password go together`);
    if (!(spec.poolSize >= 1) || !(spec.timeoutMs > 0)) throw new YokeError('E_CONFIG_INVALID', `directory ${spec.name}: pool size and timeout must be positive`);
    this.spec = spec;
    this.#host = url.hostname.replace(/^\[|\]$/g, '');
    this.#clock = clock;
    this.#tlsOptions = {
      rejectUnauthorized: spec.tls.verify,
      ...(spec.tls.ca !== undefined ? { ca: spec.tls.ca } : {}),
      ...(spec.tls.serverName !== undefined ? { servername: spec.tls.serverName } : {}),
    };
  }

  /** A copy of the counters. */
  counters(): DirectoryCounters {
    return { ...this.#counters };
  }

  /** Answers in the cache now (expired ones included until they are next read), and connections open. */
  size(): { readonly cached: number; readonly open: number; readonly idle: number } {
    return { cached: this.#cache.size, open: this.#open, idle: this.#idle.length };
  }

  /** Drops every cached answer (a reload that changes the directory, or an operator's request). */
  flush(): void {
    this.#cache.clear();
  }

  /** Where the user lives: from the cache, or one search shared by every concurrent lookup of that user. Never rejects. */
  lookup(user: string): Promise<LookupAnswer> {
    this.#counters.lookups++;
    const now = this.#clock.now();
    const cached = this.#cache.get(user);
    if (cached !== undefined) {
      if (cached.expires > now) { this.#counters.hits++; return Promise.resolve(cached.answer); }
      this.#cache.delete(user);
    }
    this.#counters.misses++;
    if (user.length === 0 || Buffer.byteLength(user, 'utf8') > MAX_USER_BYTES) return Promise.resolve({ kind: 'unknown' });
    const pending = this.#inFlight.get(user);
    if (pending !== undefined) { this.#counters.shared++; return pending; }
    // #query answers every failure itself; the catch is for a bug, so that a lookup still never rejects.
    const query = this.#query(user).catch((e: unknown) => this.#unavailable(`internal error: ${String(e)}`)).then((answer) => {
      this.#inFlight.delete(user);
      if (answer.kind === 'unavailable') this.#counters.errors++;
      else this.#remember(user, answer);
      return answer;
    });
    this.#inFlight.set(user, query);
    return query;
  }

  /** Ends every connection; lookups waiting for one answer unavailable, later lookups too. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w(undefined);
    for (const c of this.#idle.splice(0)) this.#discard(c);
  }

  #remember(user: string, answer: LookupAnswer): void {
    const ttl = answer.kind === 'found' ? this.spec.cacheMs : this.spec.negativeCacheMs;
    if (ttl <= 0) return;
    if (this.#cache.size >= MAX_CACHED) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(user, { answer, expires: this.#clock.now() + ttl });
  }

  async #query(user: string): Promise<LookupAnswer> {
    if (this.#closed) return this.#unavailable('the directory is closed');
    const attempt: Attempt = { expired: false, conn: undefined };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<LookupAnswer>((resolve) => {
      timer = setTimeout(() => {
        attempt.expired = true;
        // The connection may hold a half-done bind or search; it cannot be trusted again.
        if (attempt.conn !== undefined) this.#discard(attempt.conn);
        resolve(this.#unavailable(`no answer within ${this.spec.timeoutMs} ms`));
      }, this.spec.timeoutMs);
    });
    try {
      return await Promise.race([this.#search(user, attempt), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #search(user: string, attempt: Attempt): Promise<LookupAnswer> {
    const parsed = parseFilter(renderFilter(this.spec.filter, user));
    if (parsed.kind === 'malformed') return this.#unavailable(`the filter did not render for this user: ${parsed.reason}`);
    const filter = toLdapts(parsed.filter);
    // One retry on a fresh connection when a pooled one turns out dead (the directory restarted since it was used).
    for (let tries = 0; ; tries++) {
      const conn = await this.#acquire();
      if (conn === undefined) return this.#unavailable('the directory is closed');
      if (attempt.expired) { this.#release(conn); return this.#unavailable('timed out waiting for a connection'); }
      attempt.conn = conn;
      const reused = conn.used;
      conn.used = true;
      try {
        await conn.ready;
        if (attempt.expired || conn.dead) throw new Error('connection ended');
        // Checked in the same tick as search() starts: ldapts would otherwise reconnect unbound and find no one.
        if (!conn.client.isConnected) throw new Error('connection closed by the directory');
        this.#counters.queries++;
        const result = await conn.client.search(this.spec.base, {
          scope: 'sub', filter, attributes: [this.spec.hostAttribute], sizeLimit: 2, timeLimit: Math.ceil(this.spec.timeoutMs / 1000),
        });
        attempt.conn = undefined;
        if (attempt.expired) this.#discard(conn); else this.#release(conn);
        return this.#interpret(result.searchEntries);
      } catch (e) {
        attempt.conn = undefined;
        this.#discard(conn);
        if (reused && tries === 0 && !attempt.expired && !(e instanceof ResultCodeError)) continue;
        return this.#unavailable(this.#describe(e));
      }
    }
  }

  #interpret(entries: readonly Entry[]): LookupAnswer {
    if (entries.length === 0) return { kind: 'unknown' };
    if (entries.length > 1) return this.#unavailable(`the filter matched more than one entry for this user (${entries.map((e) => e.dn).join(', ')}): make it match one`);
    const entry = entries[0] as Entry;
    const want = this.spec.hostAttribute.toLowerCase();
    const key = Object.keys(entry).find((k) => k.toLowerCase() === want);
    const raw = key === undefined ? undefined : entry[key];
    const values = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw])
      .map((v) => (typeof v === 'string' ? v : v.toString('utf8')).trim())
      .filter((v) => v !== '')
      .sort();
    // Several values are a data error; the smallest is as good as any and stays the same from lookup to lookup.
    return { kind: 'found', host: values[0] };
  }

  #describe(e: unknown): string {
    const where = `${this.spec.url}`;
    if (e instanceof SetupRefused) return e.message;
    if (e instanceof ResultCodeError) return `search under ${this.spec.base} at ${where} failed: ${resultText(e)}`;
    const err = e as { code?: unknown; message?: unknown };
    const code = typeof err.code === 'string' ? `${err.code}: ` : '';
    return `${where}: ${code}${typeof err.message === 'string' ? err.message : String(e)}`;
  }

  #unavailable(reason: string): LookupAnswer {
    return { kind: 'unavailable', reason: `directory ${this.spec.name}: ${reason}` };
  }

  /** An idle connection, a new one while under the pool size, or the next one released; undefined once closed. */
  #acquire(): Promise<Conn | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    for (let c = this.#idle.pop(); c !== undefined; c = this.#idle.pop()) {
      if (c.client.isConnected) return Promise.resolve(c);
      this.#discard(c);
    }
    if (this.#open < this.spec.poolSize) return Promise.resolve(this.#connect());
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(conn: Conn): void {
    if (conn.dead) return;
    if (this.#closed) { this.#discard(conn); return; }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(conn);
    else this.#idle.push(conn);
  }

  #discard(conn: Conn): void {
    if (conn.dead) return;
    conn.dead = true;
    this.#open--;
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    conn.client.unbind().catch(() => {});
    // A slot came free: the next waiter gets a new connection.
    const waiter = this.#closed ? undefined : this.#waiters.shift();
    if (waiter !== undefined) waiter(this.#connect());
  }

  #connect(): Conn {
    this.#open++;
    this.#counters.connects++;
    const s = this.spec;
    // ldapts speaks TLS from the first byte whenever tlsOptions is given, so ldap:// (with or without StartTLS) gets none.
    const tlsOptions = s.url.toLowerCase().startsWith('ldaps:') ? { tlsOptions: this.#tlsOptions } : {};
    const client = new Client({ url: s.url, timeout: s.timeoutMs, connectTimeout: s.timeoutMs, ...tlsOptions, strictDN: false });
    const ready = (async () => {
      // Over an existing socket Node checks the certificate against `host`, which it would otherwise take as localhost.
      if (s.startTls) {
        try {
          await client.startTLS({ ...this.#tlsOptions, host: this.#host });
        } catch (e) {
          if (e instanceof ResultCodeError) throw new SetupRefused(`StartTLS at ${s.url} refused: ${resultText(e)}`);
          throw e;
        }
      }
      if (s.bindDn !== undefined) {
        try {
          await client.bind(s.bindDn, s.password);
        } catch (e) {
          // The reason names the DN, never the password.
          if (e instanceof ResultCodeError) throw new SetupRefused(`bind as ${s.bindDn} at ${s.url} refused: ${resultText(e)}`);
          throw e;
        }
      }
    })();
    ready.catch(() => {});
    return { client, ready, used: false, dead: false };
  }
}

/** StartTLS or the bind was refused by the directory: its message is the whole reason. */
class SetupRefused extends Error {}

/** An LDAP result as words: ldapts's class name (InvalidCredentialsError → invalid credentials), the code, the server's text. */
function resultText(e: ResultCodeError): string {
  const words = e.name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  const said = e.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim();
  return `${words} (LDAP result ${e.code})${said !== '' ? `: ${said}` : ''}`;
}
