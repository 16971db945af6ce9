/**
 * Cookie stickiness in the four modes operators know from HAProxy (insert, rewrite, prefix, learn), as pure
 * functions over header values. A Sticky is made once per pool (control plane); per request the proxy calls
 * `request` with the Cookie value it received and `response` with the Set-Cookie values the server sent. They
 * only report the sticky choice: whether that server is up, drained or full, and which server goes instead, is
 * the proxy's business (docs/stickiness.md).
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import {
  buildSetCookie, cookieValueAt, cookieValueEnd, findCookie, removeCookie, setCookieValueAt, unquote, type CookieOptions,
} from './cookie.ts';

/** Server id ⇄ opaque token, as the proxy keeps it for a pool (makeTokens builds one). */
export interface TokenMap {
  tokenOf(serverId: string): string | undefined;
  serverOf(token: string): string | undefined;
}

/** Length of a token: 16 base64url characters, 96 bits of HMAC-SHA256. */
export const TOKEN_LENGTH = 16;

/**
 * Tokens for the servers of one pool: HMAC-SHA256(secret, scope NUL serverId) in base64url, cut to
 * TOKEN_LENGTH. Not guessable without the secret, stable for one secret, and different per `scope` (give the
 * service or pool name, so one server in two pools has two tokens). A secret from configuration keeps clients
 * on their servers across restarts and across the yoke instances of an HA pair; a secret made per process is
 * one less thing to keep secret, but every restart or failover moves each sticky client once (it is given a
 * new cookie). Two ids with the same token (odds 2^-96 per pair) resolve to the first.
 */
export function makeTokens(secret: Buffer, serverIds: readonly string[], scope = ''): TokenMap {
  const byServer = new Map<string, string>();
  const byToken = new Map<string, string>();
  for (const id of serverIds) {
    const token = createHmac('sha256', secret).update(`${scope}\0${id}`).digest('base64url').slice(0, TOKEN_LENGTH);
    byServer.set(id, token);
    if (!byToken.has(token)) byToken.set(token, id);
  }
  return {
    tokenOf: (id) => byServer.get(id),
    serverOf: (token) => byToken.get(token),
  };
}

/** True if s has a token's shape (TOKEN_LENGTH base64url characters), whether or not it names a server. */
export function isTokenShaped(s: string, start = 0): boolean {
  if (s.length < start + TOKEN_LENGTH) return false;
  for (let i = start; i < start + TOKEN_LENGTH; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
    if (!ok) return false;
  }
  return true;
}

/** What the request's cookies say. */
export interface StickyRequest {
  /** The server the cookie names; undefined when there is no cookie or it names no known server. */
  readonly server: string | undefined;
  /** The Cookie header value to forward (may be the one received); undefined: send no Cookie header. */
  readonly cookie: string | undefined;
  /** learn: the session value the request carried that the table did not know (for request-learn). */
  readonly unknown: string | undefined;
}

export type StickyMode = 'insert' | 'rewrite' | 'prefix' | 'learn';

/** One pool's stickiness. Neither method throws. */
export interface Sticky {
  readonly mode: StickyMode;
  readonly cookieName: string;
  /** Reads the request's Cookie value (Node joins several Cookie headers with "; "). */
  request(cookie: string | undefined): StickyRequest;
  /**
   * The Set-Cookie values to send to the client, given those the server `served` sent and what `request`
   * said of this request. The input array itself when nothing changes.
   */
  response(setCookies: readonly string[] | undefined, served: string, req: StickyRequest): readonly string[] | undefined;
}

const NOTHING: StickyRequest = Object.freeze({ server: undefined, cookie: undefined, unknown: undefined });

function result(server: string | undefined, cookie: string | undefined, unknown?: string): StickyRequest {
  return { server, cookie, unknown };
}

/** The server named by the first cookie `name` whose value, without quotes, is a known token. */
function serverByToken(cookie: string, name: string, tokens: TokenMap, known: (value: string) => boolean): string | undefined {
  const v = findCookie(cookie, name, known);
  return v === undefined ? undefined : tokens.serverOf(unquote(v));
}

/** The test serverByToken takes, made once per Sticky. */
function knownToken(tokens: TokenMap): (value: string) => boolean {
  return (v) => tokens.serverOf(unquote(v)) !== undefined;
}

/** Settings of insert mode: the cookie's name and attributes. */
export interface InsertSettings extends CookieOptions {
  readonly name: string;
}

/**
 * insert: yoke's own cookie names the server (HAProxy `cookie NAME insert indirect`). The request goes to the
 * server whose token it carries, and is forwarded without yoke's cookie, so the application never sees it. The
 * response gains a Set-Cookie when the client had no valid cookie for the server that served it (none, an
 * unknown or garbled token, or another server's after a failover); a Set-Cookie of that name from the
 * application is dropped, as HAProxy replaces it, since two cookies of one name would fight in the browser.
 */
export function stickyInsert(settings: InsertSettings, tokens: TokenMap): Sticky {
  const name = settings.name;
  const known = knownToken(tokens);
  return {
    mode: 'insert',
    cookieName: name,
    request(cookie) {
      if (cookie === undefined) return NOTHING;
      if (cookieValueAt(cookie, name) < 0) return result(undefined, cookie);
      return result(serverByToken(cookie, name, tokens, known), removeCookie(cookie, name));
    },
    response(setCookies, served, req) {
      let out = withoutSetCookie(setCookies, name);
      if (req.server !== served) {
        const token = tokens.tokenOf(served);
        if (token !== undefined) {
          const add = buildSetCookie(name, token, settings);
          out = out === undefined ? [add] : [...out, add];
        }
      }
      return out;
    },
  };
}

function withoutSetCookie(setCookies: readonly string[] | undefined, name: string): readonly string[] | undefined {
  if (setCookies === undefined) return undefined;
  let k = 0;
  while (k < setCookies.length && setCookieValueAt(setCookies[k] as string, name) < 0) k++;
  if (k === setCookies.length) return setCookies;
  return setCookies.filter((s) => setCookieValueAt(s, name) < 0);
}

/**
 * rewrite: the application decides when to set the cookie NAME, and yoke replaces its value with the token of
 * the server that answered (HAProxy `cookie NAME rewrite`): the value the application put there is lost, so it
 * must be a placeholder the application does not read back. Requests are forwarded unchanged, as HAProxy does
 * (it strips the cookie only in insert mode with `indirect`): the application sees NAME=token and can test for
 * its presence.
 */
export function stickyRewrite(name: string, tokens: TokenMap): Sticky {
  const known = knownToken(tokens);
  return {
    mode: 'rewrite',
    cookieName: name,
    request(cookie) {
      if (cookie === undefined) return NOTHING;
      return result(serverByToken(cookie, name, tokens, known), cookie);
    },
    response(setCookies, served) {
      const token = tokens.tokenOf(served);
      if (token === undefined) return setCookies;
      return mapSetCookie(setCookies, name, token, false);
    },
  };
}

/** The Set-Cookie values with each value of cookie `name` replaced by `head` (+ the value when `keep`); the input when none is. */
function mapSetCookie(setCookies: readonly string[] | undefined, name: string, head: string, keep: boolean): readonly string[] | undefined {
  if (setCookies === undefined) return undefined;
  let out: string[] | undefined;
  for (let k = 0; k < setCookies.length; k++) {
    const s = setCookies[k] as string;
    const at = setCookieValueAt(s, name);
    if (at < 0) continue;
    const end = cookieValueEnd(s, at);
    out ??= setCookies.slice();
    out[k] = s.slice(0, at) + head + (keep ? s.slice(at, end) : '') + s.slice(end);
  }
  return out ?? setCookies;
}

/** The delimiter between yoke's token and the application's value in prefix mode (HAProxy's). */
export const PREFIX_DELIMITER = '~';

/**
 * prefix: the application's own cookie NAME carries the server too (HAProxy `cookie NAME prefix`). Set-Cookie
 * `NAME=v` goes to the client as `NAME=token~v`; a request's `NAME=token~v` picks the server and is forwarded
 * as `NAME=v`, exactly the application's bytes ('~' inside v included: the token has a fixed length and no
 * '~'). A prefix of a token's shape is removed even when no server has that token (say, after the secret
 * changed), so the application still finds its cookie; a value without such a prefix is forwarded untouched.
 */
export function stickyPrefix(name: string, tokens: TokenMap): Sticky {
  const skip = TOKEN_LENGTH + PREFIX_DELIMITER.length;
  return {
    mode: 'prefix',
    cookieName: name,
    request(cookie) {
      if (cookie === undefined) return NOTHING;
      let server: string | undefined;
      let out = '';
      let copied = 0;
      let at = cookieValueAt(cookie, name);
      while (at >= 0) {
        const end = cookieValueEnd(cookie, at);
        if (end - at >= skip && cookie.charCodeAt(at + TOKEN_LENGTH) === 0x7e && isTokenShaped(cookie, at)) {
          server ??= tokens.serverOf(cookie.slice(at, at + TOKEN_LENGTH));
          out += cookie.slice(copied, at);
          copied = at + skip;
        }
        at = cookieValueAt(cookie, name, end);
      }
      return result(server, copied === 0 ? cookie : out + cookie.slice(copied));
    },
    response(setCookies, served) {
      const token = tokens.tokenOf(served);
      if (token === undefined) return setCookies;
      return mapSetCookie(setCookies, name, token + PREFIX_DELIMITER, true);
    },
  };
}

/** Session value → server id, for learn mode (HAProxy's `appsession`, or a stick table fed by `res.cook`). */
export interface LearnTable {
  /** The server a session value was learned for; using an entry keeps it alive. */
  get(value: string): string | undefined;
  set(value: string, serverId: string): void;
  readonly size: number;
}

export interface LearnTableSettings {
  /** An entry unused for this long is forgotten. */
  readonly timeoutMs: number;
  /** At most this many entries: a new one evicts the least recently used. */
  readonly maxEntries: number;
  /** Only this many first characters of a value are kept and compared, bounding memory (HAProxy's `len`). */
  readonly maxValueLength: number;
}

interface LearnEntry {
  serverId: string;
  expiresAt: number;
}

/**
 * The in-memory LearnTable: a Map in order of last use, so the least recently used entry is first; expired
 * entries go when read, and from the front on each write, so the table never holds more than maxEntries.
 */
export class MemoryLearnTable implements LearnTable {
  readonly #entries = new Map<string, LearnEntry>();
  readonly #settings: LearnTableSettings;
  readonly #clock: Clock;

  constructor(settings: LearnTableSettings, clock: Clock) {
    this.#settings = { ...settings };
    this.#clock = clock;
  }

  get size(): number { return this.#entries.size; }

  get(value: string): string | undefined {
    const key = this.#key(value);
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    const now = this.#clock.now();
    if (e.expiresAt <= now) { this.#entries.delete(key); return undefined; }
    e.expiresAt = now + this.#settings.timeoutMs;
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e.serverId;
  }

  set(value: string, serverId: string): void {
    const key = this.#key(value);
    const now = this.#clock.now();
    this.#entries.delete(key);
    this.#entries.set(key, { serverId, expiresAt: now + this.#settings.timeoutMs });
    for (const [k, e] of this.#entries) {
      if (e.expiresAt > now && this.#entries.size <= this.#settings.maxEntries) break;
      this.#entries.delete(k);
    }
  }

  #key(value: string): string {
    return value.length > this.#settings.maxValueLength ? value.slice(0, this.#settings.maxValueLength) : value;
  }
}

/** Settings of learn mode besides the table. */
export interface LearnSettings {
  /** The application's session cookie, such as JSESSIONID. */
  readonly name: string;
  /**
   * Also learn from the request (HAProxy's `request-learn`): a session value the table does not know, in a
   * request whose response sets no new one, is learned for the server that answered. Keeps sessions sticky
   * after yoke restarts with an empty table, as with PHPSESSID-style cookies set once.
   */
  readonly requestLearn?: boolean | undefined;
}

/**
 * learn: follow the application's session cookie. The value a server sets (`Set-Cookie: NAME=value`, a
 * non-empty value) is remembered for that server; a request carrying NAME=value goes there. Nothing is
 * rewritten: the client and the application see their cookies as they are.
 */
export function stickyLearn(settings: LearnSettings, table: LearnTable): Sticky {
  const name = settings.name;
  const requestLearn = settings.requestLearn === true;
  return {
    mode: 'learn',
    cookieName: name,
    request(cookie) {
      if (cookie === undefined) return NOTHING;
      let first: string | undefined;
      let at = cookieValueAt(cookie, name);
      while (at >= 0) {
        const end = cookieValueEnd(cookie, at);
        if (end > at) {
          const v = cookie.slice(at, end);
          const server = table.get(v);
          if (server !== undefined) return result(server, cookie);
          first ??= v;
        }
        at = cookieValueAt(cookie, name, end);
      }
      return result(undefined, cookie, first);
    },
    response(setCookies, served, req) {
      let learned = false;
      if (setCookies !== undefined) {
        for (let k = 0; k < setCookies.length; k++) {
          const s = setCookies[k] as string;
          const at = setCookieValueAt(s, name);
          if (at < 0) continue;
          const end = cookieValueEnd(s, at);
          if (end > at) { table.set(s.slice(at, end), served); learned = true; }
        }
      }
      if (!learned && requestLearn && req.unknown !== undefined) table.set(req.unknown, served);
      return setCookies;
    },
  };
}
