import { isIP } from 'node:net';
import { parseEndpoint, type Endpoint } from '../../core/address.ts';
import { YokeError } from '../../core/errors.ts';
import type { StatusRange } from '../../core/health/spec.ts';

/** Milliseconds per duration unit. */
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Node timers hold at most 2^31-1 ms (about 24.8 days); a longer duration would fire at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Parses `300ms`, `2s`, `5m` or `1h` into milliseconds; throws E_DURATION for a bare number, another unit, or 0 unless `allowZero`. */
export function parseDuration(text: string, allowZero = false): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) {
    const hint = /^\d+$/.test(text) ? `: write ${text}s or ${text}ms` : '';
    throw new YokeError('E_DURATION', `"${text}" is not a duration${hint || ': write a whole number and a unit (ms, s, m, h), such as 300ms or 5m'}`);
  }
  const ms = Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
  if (ms === 0 && !allowZero) throw new YokeError('E_DURATION', `"${text}" is zero: give a duration above 0`);
  if (ms > MAX_DURATION_MS) throw new YokeError('E_DURATION', `"${text}" is too long: the most is ${Math.floor(MAX_DURATION_MS / UNITS.h)}h`);
  return ms;
}

/** Parses a duration that may be 0 (`0s`: no wait). */
export function parseDurationOrZero(text: string): number {
  return parseDuration(text, true);
}

/** Bytes per size unit: 1024-based, as nginx's `1m` and `16k`. */
const SIZE_UNITS = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

/** Parses a size: a whole number of bytes, or one with a unit k, m or g (1024-based): `16k`, `1m`; throws E_CONFIG_INVALID otherwise. */
export function parseSize(text: string | number): number {
  const m = /^(\d+)([kmg]?)$/.exec(String(text));
  const n = m ? Number(m[1]) * SIZE_UNITS[m[2] as keyof typeof SIZE_UNITS] : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new YokeError('E_CONFIG_INVALID', `"${text}" is not a size: write a whole number of bytes, or one with a unit k, m or g (1024-based), such as 16k or 1m`);
  }
  return n;
}

/** Parses a dotted IPv4 netmask and checks that its one-bits are contiguous (as ipvsadm -M); throws E_CONFIG_INVALID otherwise. Returns the prefix length. */
export function parseNetmask(text: string): number {
  if (isIP(text) !== 4) throw new YokeError('E_CONFIG_INVALID', `netmask "${text}" is not a dotted IPv4 mask such as 255.255.255.0`);
  const binary = text.split('.').map((octet) => Number(octet).toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(binary)) {
    throw new YokeError('E_CONFIG_INVALID', `netmask "${text}" is not contiguous: its one-bits must come first, as in 255.255.255.0`);
  }
  return binary.indexOf('0') === -1 ? 32 : binary.indexOf('0');
}

/** A secret named by the config: an environment variable or a file. */
export interface SecretRef {
  readonly kind: 'env' | 'file';
  readonly name: string;
}

/** Parses `env:NAME` or `file:PATH`; throws E_SECRET for anything else, since a secret written inline would leak with the config. */
export function parseSecretRef(text: string): SecretRef {
  if (/^env:[A-Za-z_][A-Za-z0-9_]*$/.test(text)) return { kind: 'env', name: text.slice(4) };
  if (/^file:.+$/.test(text)) return { kind: 'file', name: text.slice(5) };
  if (text.startsWith('env:')) throw new YokeError('E_SECRET', `"${text}" does not name an environment variable: write env:NAME with letters, digits and _`);
  throw new YokeError('E_SECRET', 'a secret must not be written inline: give secrets as env:NAME or file:PATH');
}

/** Parses a probe payload: `hex:0a1b…` as bytes, any other text as its UTF-8 bytes; throws E_CONFIG_INVALID for bad hex. */
export function parseBytes(text: string): readonly number[] {
  if (!text.startsWith('hex:')) return [...Buffer.from(text, 'utf8')];
  const hex = text.slice(4);
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) {
    throw new YokeError('E_CONFIG_INVALID', `"${text}" is not hex bytes: write pairs of hex digits after hex:, such as hex:00ff`);
  }
  return [...Buffer.from(hex, 'hex')];
}

/** parseEndpoint, with a remedy for the commonest slip: an IPv6 address without brackets (`::1:80`). */
export function parseAddress(text: string): Endpoint {
  const cut = text.lastIndexOf(':');
  if (!text.startsWith('[') && isIP(text.slice(0, cut)) === 6) {
    throw new YokeError('E_ADDRESS', `IPv6 "${text.slice(0, cut)}" must be in brackets: write [${text.slice(0, cut)}]${text.slice(cut)}`);
  }
  if (!text.startsWith('[') && isIP(text) === 6) throw new YokeError('E_ADDRESS', `"${text}" has no port: write [${text}]:PORT`);
  return parseEndpoint(text);
}

/** Accepts an IP literal without port or brackets (a checker's target address); throws E_ADDRESS otherwise. */
export function parseIp(text: string): string {
  if (isIP(text) === 0) throw new YokeError('E_ADDRESS', `"${text}" is not an IP address (write it without port or brackets)`);
  return text;
}

/** Accepts a prime (the Maglev table size must be prime); throws E_CONFIG_INVALID otherwise. */
export function parsePrime(n: number): number {
  let prime = Number.isInteger(n) && n >= 2;
  for (let d = 2; prime && d * d <= n; d++) if (n % d === 0) prime = false;
  if (!prime) throw new YokeError('E_CONFIG_INVALID', `${n} is not a prime: Maglev needs a prime table size, such as 251, 4093 or 65521`);
  return n;
}

/** Parses an HTTP status range "200-299" (both ends 100..599, low first), or one code written as a string ("204"); throws E_CONFIG_INVALID otherwise. */
export function parseStatusRange(text: string): StatusRange {
  const m = /^(\d{3})(?:-(\d{3}))?$/.exec(text);
  const low = Number(m?.[1]);
  const high = Number(m?.[2] ?? m?.[1]);
  if (!m || low < 100 || high > 599 || low > high) {
    throw new YokeError('E_CONFIG_INVALID', `"${text}" is not a status code or range: write a code such as 200 or a range such as "200-299"`);
  }
  return { low, high };
}

/** Accepts an http:// or https:// URL (a webhook); throws E_CONFIG_INVALID otherwise. */
export function parseHttpUrl(text: string): URL {
  let url: URL | undefined;
  try { url = new URL(text); } catch { url = undefined; }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new YokeError('E_CONFIG_INVALID', `"${text}" is not an http:// or https:// URL`);
  }
  return url;
}

/** Accepts a JavaScript regular expression (a route's path_regex); throws E_CONFIG_INVALID with the engine's complaint. */
export function parseRegex(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (err) {
    throw new YokeError('E_CONFIG_INVALID', `"${text}" is not a regular expression: ${(err as Error).message}`);
  }
}

/**
 * The value syntaxes the schema names with `format`. Each parser throws a YokeError whose code and detail become
 * the problem's; the schema validator calls them to accept a value, the normalizer to convert it.
 */
export const VALUE_FORMATS = {
  duration: { type: 'string', parse: (s: string) => parseDuration(s) },
  'duration-or-zero': { type: 'string', parse: parseDurationOrZero },
  endpoint: { type: 'string', parse: parseAddress },
  ip: { type: 'string', parse: parseIp },
  netmask: { type: 'string', parse: parseNetmask },
  secret: { type: 'string', parse: parseSecretRef },
  bytes: { type: 'string', parse: parseBytes },
  prime: { type: 'number', parse: parsePrime },
  'status-range': { type: 'string', parse: parseStatusRange },
  'http-url': { type: 'string', parse: parseHttpUrl },
  regex: { type: 'string', parse: parseRegex },
  size: { type: 'string', parse: parseSize },
} as const;

export type ValueFormat = keyof typeof VALUE_FORMATS;

/** Runs a format's parser on any value and returns its YokeError, or undefined when the value is fine. */
export function formatFault(format: ValueFormat, value: unknown): YokeError | undefined {
  const { parse } = VALUE_FORMATS[format] as { parse: (v: never) => unknown };
  try {
    parse(value as never);
    return undefined;
  } catch (err) {
    if (err instanceof YokeError) return err;
    throw err;
  }
}
