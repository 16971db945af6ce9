/*
 * What the converter shares: the problems it found, the keepalived place each written YAML value came from, and
 * readers for Keepalived's value syntaxes (numbers, timers in seconds, <BOOL>, IP addresses).
 */
import { isIP } from 'node:net';
import type { ErrorCode } from '../../../core/errors.ts';
import type { ConfigProblem } from '../types.ts';
import { problemAt, type Arg, type Statement, type Where } from './parse.ts';

/** A mapping of the YAML being built. */
export type Obj = Record<string, unknown>;

/** Problems and origins of one conversion. */
export class Context {
  readonly problems: ConfigProblem[] = [];
  /** For each object written, where it and each of its keys came from. */
  readonly #origins = new WeakMap<object, { self: Where | undefined; keys: Map<string, Where> }>();

  error(at: Where, message: string, code: ErrorCode = 'E_KEEPALIVED_KEYWORD'): void {
    this.problems.push(problemAt(at, code, message));
  }

  /** A keyword yoke cannot honour: an error (E_NOT_SUPPORTED) naming it. */
  unsupported(at: Where, message: string): void {
    this.problems.push(problemAt(at, 'E_NOT_SUPPORTED', message));
  }

  warn(at: Where, message: string, code: ErrorCode = 'E_NOT_SUPPORTED'): void {
    this.problems.push(problemAt(at, code, message, 'warning'));
  }

  /** A keyword that has no place in `where`; Keepalived's config-language extensions get their own message. */
  unknown(st: Statement, where: string): void {
    if (st.keyword.startsWith('@')) this.unsupported(st.at, `conditional configuration (${st.keyword}) is not supported: keep only the lines for this director`);
    else if (st.keyword.startsWith('$')) this.unsupported(st.at, `parameter definitions and substitution (${st.keyword}) are not supported: write the values out`);
    else if (st.keyword.startsWith('~SEQ')) this.unsupported(st.at, `sequence blocks (${st.keyword}) are not supported: write the lines out`);
    else this.error(st.at, `unknown keyword "${st.keyword}" in ${where}`);
  }

  /** Sets `obj[key]` and remembers the statement it came from. */
  put(obj: Obj, key: string, value: unknown, at: Where): void {
    obj[key] = value;
    this.#entry(obj).keys.set(key, at);
  }

  /** Remembers where a whole object came from (a service, a server, a check). */
  from<T extends object>(obj: T, at: Where): T {
    this.#entry(obj).self = at;
    return obj;
  }

  /** Walks a finished tree and gives every path that has an origin, as `path.join('\0')` → place. */
  originsOf(root: unknown): Map<string, Where> {
    const out = new Map<string, Where>();
    const walk = (node: unknown, path: string[]): void => {
      if (typeof node !== 'object' || node === null) return;
      const entry = this.#origins.get(node);
      if (entry?.self) out.set(path.join('\0'), entry.self);
      for (const [k, v] of Object.entries(node)) {
        const at = entry?.keys.get(k);
        const here = [...path, k];
        if (at && !out.has(here.join('\0'))) out.set(here.join('\0'), at);
        walk(v, here);
      }
    };
    walk(root, []);
    return out;
  }

  #entry(obj: object): { self: Where | undefined; keys: Map<string, Where> } {
    let e = this.#origins.get(obj);
    if (!e) this.#origins.set(obj, (e = { self: undefined, keys: new Map() }));
    return e;
  }

  /** Checks a statement's value count; false (with an error) when it is outside min..max. */
  count(st: Statement, min: number, max: number, what = 'a value'): boolean {
    if (st.args.length >= min && st.args.length <= max) return true;
    const wanted = min === max ? `${min === 0 ? 'no value' : min === 1 ? what : `${min} values`}` : max === Infinity ? `at least ${min} value${min === 1 ? '' : 's'}` : `${min} to ${max} values`;
    this.error(st.args[max]?.at ?? st.at, `${st.keyword} takes ${wanted}, not ${st.args.length}`);
    return false;
  }

  /** A statement that must not open a block: an error if it does. */
  flat(st: Statement): boolean {
    if (st.block === undefined) return true;
    this.error(st.at, `${st.keyword} takes no block`);
    return false;
  }

  /** A statement that must open a block: an error if it does not. */
  block(st: Statement): Statement[] | undefined {
    if (st.block !== undefined) return st.block;
    this.error(st.at, `${st.keyword} needs a block: ${st.keyword} … { … }`);
    return undefined;
  }

  /** The single value of a `keyword VALUE` line. */
  one(st: Statement): Arg | undefined {
    return this.flat(st) && this.count(st, 1, 1) ? st.args[0] : undefined;
  }

  /** A whole number in min..max. */
  integer(arg: Arg | undefined, min: number, max: number, what: string): number | undefined {
    if (!arg) return undefined;
    const n = /^-?\d+$/.test(arg.text) ? Number(arg.text) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    this.error(arg.at, `${what} "${arg.text}" is not a whole number from ${min} to ${max}`);
    return undefined;
  }

  /** A Keepalived <TIMER>: seconds, fractions allowed, as milliseconds. */
  timer(arg: Arg | undefined, what: string): number | undefined {
    if (!arg) return undefined;
    const s = /^\d+(\.\d+)?$/.test(arg.text) ? Number(arg.text) : Number.NaN;
    if (Number.isFinite(s)) return Math.round(s * 1000);
    this.error(arg.at, `${what} "${arg.text}" is not a time in seconds (such as 3 or 0.5)`);
    return undefined;
  }

  /** A Keepalived <BOOL> that may be left out (meaning on). */
  bool(st: Statement): boolean | undefined {
    if (!this.flat(st) || !this.count(st, 0, 1)) return undefined;
    const arg = st.args[0];
    if (!arg) return true;
    const t = arg.text.toLowerCase();
    if (['on', 'true', 'yes'].includes(t)) return true;
    if (['off', 'false', 'no'].includes(t)) return false;
    this.error(arg.at, `${st.keyword} "${arg.text}" is not one of on, off, true, false, yes, no`);
    return undefined;
  }

  /** An IP address literal. */
  ip(arg: Arg | undefined, what: string): string | undefined {
    if (!arg) return undefined;
    if (isIP(arg.text) !== 0) return arg.text;
    this.error(arg.at, `${what} "${arg.text}" is not an IP address (yoke does not look names up)`);
    return undefined;
  }

  /** A port 1..65535. */
  port(arg: Arg | undefined, what: string): number | undefined {
    return this.integer(arg, 1, 65535, what);
  }
}

/** A duration as yoke writes it: whole seconds as `Ns`, anything finer as `Nms`. */
export function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** An endpoint as yoke writes it: `1.2.3.4:80`, `[::1]:80`. */
export function endpoint(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** A command line from a script keyword's words, quoting for /bin/sh any word that needs it (one quoted word is kept as written). */
export function command(args: readonly Arg[]): string {
  if (args.length === 1) return args[0]!.text;
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a.text) ? a.text : `'${a.text.replace(/'/g, `'\\''`)}'`)).join(' ');
}
