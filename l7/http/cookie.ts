/**
 * Cookie and Set-Cookie header values (RFC 6265) as the proxy's stickiness needs them: find a cookie, take one
 * out, read a Set-Cookie, build one. Pure string scans: nothing throws, and a lookup allocates only the value it
 * returns. The syntax accepted is the browsers' (RFC 6265 section 5), not the stricter one servers should send:
 * pairs split at every ';' (quotes do not protect a ';', as no browser lets them), optional spaces or tabs around
 * names, '=' and values; a pair without '=' has an empty name (what browsers send for `Set-Cookie: v`) and
 * never matches. Names are case-sensitive. Values are returned raw: DQUOTEs stay part of the value, as browsers
 * keep them, so what a server set is byte for byte what it is compared with.
 */

const SEMI = 0x3b;
const EQ = 0x3d;
const SP = 0x20;
const HTAB = 0x09;

function isWs(c: number): boolean {
  return c === SP || c === HTAB;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Offset of the value if header[i, e) is a pair named `name`, else -1. */
function pairValueAt(header: string, i: number, e: number, name: string): number {
  const n = skipWs(header, i);
  if (n + name.length > e || !header.startsWith(name, n)) return -1;
  const j = skipWs(header, n + name.length);
  return j < e && header.charCodeAt(j) === EQ ? skipWs(header, j + 1) : -1;
}

/**
 * Offset of the value of the first cookie named `name` in one Cookie header value, looking at the pairs from
 * `from` (0, or an end returned by cookieValueEnd for an earlier match); -1 if there is none.
 */
export function cookieValueAt(header: string, name: string, from = 0): number {
  if (name.length === 0) return -1;
  let i = from < 0 ? 0 : from;
  while (i <= header.length) {
    const semi = header.indexOf(';', i);
    const e = semi < 0 ? header.length : semi;
    const at = pairValueAt(header, i, e, name);
    if (at >= 0) return at;
    if (semi < 0) return -1;
    i = semi + 1;
  }
  return -1;
}

/** End (exclusive) of the value starting at `start`: before the next ';', trailing spaces and tabs left out. */
export function cookieValueEnd(header: string, start: number): number {
  const semi = header.indexOf(';', start);
  let end = semi < 0 ? header.length : semi;
  while (end > start && isWs(header.charCodeAt(end - 1))) end--;
  return end;
}

/**
 * The value of the first cookie named `name` in one or several Cookie header values (HTTP/2 sends one per
 * cookie) that `accept` takes (any, without it); undefined when there is none.
 */
export function findCookie(headers: string | readonly string[] | undefined, name: string, accept?: (value: string) => boolean): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers === 'string') return findIn(headers, name, accept);
  for (let k = 0; k < headers.length; k++) {
    const v = findIn(headers[k] as string, name, accept);
    if (v !== undefined) return v;
  }
  return undefined;
}

function findIn(header: string, name: string, accept: ((value: string) => boolean) | undefined): string | undefined {
  let at = cookieValueAt(header, name, 0);
  while (at >= 0) {
    const end = cookieValueEnd(header, at);
    const v = header.slice(at, end);
    if (accept === undefined || accept(v)) return v;
    at = cookieValueAt(header, name, end);
  }
  return undefined;
}

/** True if the value has a pair with a non-empty name, i.e. something still worth sending in a Cookie header. */
function hasCookie(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== SEMI && !isWs(c)) return true;
  }
  return false;
}

/**
 * A Cookie header value without any cookie named `name`; the other pairs keep their bytes, order and
 * separators (a removed pair takes the ';' before it with it, or the one after when it was first). Several
 * values are joined with "; " as RFC 9113 joins HTTP/2's. The input itself when nothing is removed; undefined
 * when no cookie remains, so the caller drops the header.
 */
export function removeCookie(headers: string | readonly string[] | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers === 'string') return removeIn(headers, name);
  let out: string | undefined;
  for (let k = 0; k < headers.length; k++) {
    const v = removeIn(headers[k] as string, name);
    if (v !== undefined) out = out === undefined ? v : `${out}; ${v}`;
  }
  return out;
}

function removeIn(header: string, name: string): string | undefined {
  if (cookieValueAt(header, name, 0) < 0) return hasCookie(header) ? header : undefined;
  let out = '';
  let kept = 0; // pairs kept so far
  let i = 0;
  while (i >= 0) {
    const semi = header.indexOf(';', i);
    const e = semi < 0 ? header.length : semi;
    if (pairValueAt(header, i, e, name) < 0) {
      // A pair that moves to the front loses the spaces that followed its ';'.
      if (kept === 0) out = header.slice(i === 0 ? 0 : skipWs(header, i), e);
      else out += header.slice(i - 1, e);
      kept++;
    }
    i = semi < 0 ? -1 : semi + 1;
  }
  return hasCookie(out) ? out : undefined;
}

/** One attribute of a Set-Cookie value: name as sent (compare without case), value ('' when there was no '='). */
export interface CookieAttribute {
  readonly name: string;
  readonly value: string;
}

/** A Set-Cookie value read as RFC 6265 section 5.2 does, with the offsets of the value for in-place rewriting. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  readonly valueStart: number;
  readonly valueEnd: number;
  readonly attributes: readonly CookieAttribute[];
}

/** Reads a Set-Cookie value; undefined when it has no '=' before the first ';' or an empty name (browsers ignore those). */
export function parseSetCookie(header: string): SetCookie | undefined {
  const semi = header.indexOf(';');
  const pairEnd = semi < 0 ? header.length : semi;
  const eq = header.indexOf('=');
  if (eq < 0 || eq > pairEnd) return undefined;
  const nameStart = skipWs(header, 0);
  let nameEnd = eq;
  while (nameEnd > nameStart && isWs(header.charCodeAt(nameEnd - 1))) nameEnd--;
  if (nameEnd === nameStart) return undefined;
  const valueStart = skipWs(header, eq + 1);
  const valueEnd = cookieValueEnd(header, valueStart);
  const attributes: CookieAttribute[] = [];
  let i = semi < 0 ? -1 : semi + 1;
  while (i >= 0) {
    const s = header.indexOf(';', i);
    const e = s < 0 ? header.length : s;
    const part = header.slice(i, e);
    const peq = part.indexOf('=');
    const an = (peq < 0 ? part : part.slice(0, peq)).trim();
    const av = peq < 0 ? '' : part.slice(peq + 1).trim();
    if (an.length > 0 || av.length > 0) attributes.push({ name: an, value: av });
    i = s < 0 ? -1 : s + 1;
  }
  return { name: header.slice(nameStart, nameEnd), value: header.slice(valueStart, valueEnd), valueStart, valueEnd, attributes };
}

/**
 * Offset of the value if the Set-Cookie value sets the cookie `name`, else -1 (the value ends at
 * cookieValueEnd). The data-plane check for each Set-Cookie of a response: nothing is allocated.
 */
export function setCookieValueAt(header: string, name: string): number {
  if (name.length === 0) return -1;
  const i = skipWs(header, 0);
  if (!header.startsWith(name, i)) return -1;
  const j = skipWs(header, i + name.length);
  return header.charCodeAt(j) === EQ ? skipWs(header, j + 1) : -1;
}

/** Attributes of a Set-Cookie yoke builds. */
export interface CookieOptions {
  /** Path attribute; '/' when not given. */
  readonly path?: string | undefined;
  /** Max-Age in seconds; a session cookie (no Max-Age) when not given. */
  readonly maxAgeSec?: number | undefined;
  readonly domain?: string | undefined;
  readonly httpOnly?: boolean | undefined;
  readonly secure?: boolean | undefined;
  /** Browsers drop `SameSite=None` without Secure: the configuration should require secure with it. */
  readonly sameSite?: 'Lax' | 'Strict' | 'None' | undefined;
}

/**
 * A Set-Cookie value `name=value; Path=…[; Domain=…][; Max-Age=…][; HttpOnly][; Secure][; SameSite=…]`. Name,
 * value, path and domain are written as given: validate them once where they come from (isCookieName,
 * isCookieValue); a Max-Age that is not a finite number is left out, a negative one written as 0.
 */
export function buildSetCookie(name: string, value: string, o: CookieOptions = {}): string {
  let s = `${name}=${value}; Path=${o.path ?? '/'}`;
  if (o.domain !== undefined) s += `; Domain=${o.domain}`;
  if (o.maxAgeSec !== undefined && Number.isFinite(o.maxAgeSec)) s += `; Max-Age=${Math.max(0, Math.floor(o.maxAgeSec))}`;
  if (o.httpOnly === true) s += '; HttpOnly';
  if (o.secure === true) s += '; Secure';
  if (o.sameSite !== undefined) s += `; SameSite=${o.sameSite}`;
  return s;
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_OCTETS = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

/** True for a cookie-name of RFC 6265 (an RFC 9110 token): what configuration should accept as a cookie name. */
export function isCookieName(s: string): boolean {
  return TCHAR.test(s);
}

/** True for a cookie-value of RFC 6265 (cookie-octets, optionally in one pair of DQUOTEs). */
export function isCookieValue(s: string): boolean {
  const inner = s.length >= 2 && s.charCodeAt(0) === 0x22 && s.charCodeAt(s.length - 1) === 0x22 ? s.slice(1, -1) : s;
  return COOKIE_OCTETS.test(inner);
}

/** The value without one pair of surrounding DQUOTEs, if it has them. */
export function unquote(value: string): string {
  return value.length >= 2 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22 ? value.slice(1, -1) : value;
}
