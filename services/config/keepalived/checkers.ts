/*
 * Keepalived's checkers as yoke health checks. The timing keywords cascade as Keepalived documents it (virtual
 * server → real server → checker); where Keepalived's default differs from yoke's it is written out, so that the
 * YAML runs the checks Keepalived would have run.
 */
import type { Arg, Statement, Where } from './parse.ts';
import { command, duration, type Context, type Obj } from './read.ts';

/** A setting and the line it came from. */
export interface Setting<T> {
  readonly value: T;
  readonly at: Where;
}

/** The keywords a virtual server or real server passes down to its checkers. */
export interface CheckDefaults {
  interval?: Setting<number>;
  timeout?: Setting<number>;
  retry?: Setting<number>;
  retryDelay?: Setting<number>;
  warmup?: Setting<number>;
  alpha?: Setting<boolean>;
  inhibit?: Setting<boolean>;
  host?: Setting<string>;
}

/** Keepalived's defaults (keepalived.conf(5)): delay_loop 60 s, connect_timeout 5 s, retry 1 (MISC_CHECK 0), delay_before_retry 1 s (3 s for HTTP_GET and SSL_GET), warmup up to delay_loop. */
export const KEEPALIVED_DEFAULTS = { intervalMs: 60_000, timeoutMs: 5_000, retry: 1, miscRetry: 0, retryDelayMs: 1_000, httpRetryDelayMs: 3_000 } as const;

/** The checkers yoke runs, by Keepalived name; PING_CHECK becomes an exec check of `ping`. */
export const CHECKERS = {
  TCP_CHECK: 'tcp', HTTP_GET: 'http', SSL_GET: 'https', SMTP_CHECK: 'smtp', UDP_CHECK: 'udp', MISC_CHECK: 'exec', PING_CHECK: 'ping',
} as const;

/** Checkers Keepalived has and yoke does not, with what to do instead. */
export const REFUSED_CHECKERS: Record<string, string> = {
  DNS_CHECK: 'DNS_CHECK is not supported: check the server with a MISC_CHECK that runs dig (an exec check)',
  BFD_CHECK: 'BFD_CHECK is not supported: yoke has no BFD; use TCP_CHECK or a MISC_CHECK',
  FILE_CHECK: 'FILE_CHECK is not supported: use a MISC_CHECK that reads the file (an exec check)',
};

/** The real server a checker looks at. */
export interface Target {
  readonly ip: string;
}

/** Reads a keyword that cascades to checkers (delay_loop, connect_timeout, retry, …) into `d`; false when `st` is not one. */
export function readDefault(ctx: Context, st: Statement, d: CheckDefaults): boolean {
  const set = (key: keyof CheckDefaults, value: number | boolean | string | undefined): void => {
    if (value !== undefined) (d as Record<keyof CheckDefaults, Setting<unknown>>)[key] = { value, at: st.at };
  };
  switch (st.keyword) {
    case 'delay_loop': set('interval', ctx.timer(ctx.one(st), 'delay_loop')); return true;
    case 'connect_timeout': set('timeout', ctx.timer(ctx.one(st), 'connect_timeout')); return true;
    case 'retry': case 'nb_get_retry': set('retry', ctx.integer(ctx.one(st), 0, 99, st.keyword)); return true;
    case 'delay_before_retry': set('retryDelay', ctx.timer(ctx.one(st), 'delay_before_retry')); return true;
    case 'warmup': set('warmup', ctx.timer(ctx.one(st), 'warmup')); return true;
    case 'alpha': set('alpha', ctx.bool(st)); return true;
    case 'inhibit_on_failure': set('inhibit', ctx.bool(st)); return true;
    case 'virtualhost': set('host', ctx.one(st)?.text); return true;
    default: return false;
  }
}

/** Keywords of any checker that yoke reads as harmless and does not use, with why. */
const IGNORED_COMMON: Record<string, string> = {
  bindto: 'the check leaves from the address the system chooses',
  bind_port: 'the check leaves from a port the system chooses',
  bind_if: 'the check leaves through the interface the system chooses',
  fwmark: 'check packets are not marked',
  log_all_failures: 'yoke logs each change of state, not each failed check',
};

/** Per-checker keywords yoke reads as harmless and does not use. */
const IGNORED_OWN: Record<string, Record<string, string>> = {
  http: { http_protocol: "yoke's check speaks HTTP/1.1", fast_recovery: 'yoke checks every url in each round' },
  https: { http_protocol: "yoke's check speaks HTTP/1.1", fast_recovery: 'yoke checks every url in each round', enable_sni: 'yoke sends the virtualhost as the TLS server name', tls_compliant: 'yoke closes TLS with close_notify' },
  udp: { min_reply_length: 'any reply length is accepted', max_reply_length: 'any reply length is accepted' },
  exec: { user: "the command runs as yoke's own user" },
};

/** Converts one checker block of a real server into a yoke health check; undefined when it cannot be. */
export function convertChecker(ctx: Context, st: Statement, kind: (typeof CHECKERS)[keyof typeof CHECKERS], target: Target, inherited: CheckDefaults): Obj | undefined {
  const block = ctx.block(st);
  if (!block) return undefined;
  if (st.args.length > 0) ctx.error(st.args[0]!.at, `${st.keyword} takes no value before its block`);
  const d: CheckDefaults = { ...inherited };
  const own = new Checker(ctx, st, kind);
  let hosts = 0;
  for (const s of block) {
    if (s.keyword === 'host' && kind === 'smtp') {
      // SMTP_CHECK's older host blocks: one is this check's target; each further one would be another check.
      if (++hosts > 1) {
        ctx.unsupported(s.at, 'SMTP_CHECK with a second host block: yoke runs one check per real server; keep one host and check the others as their own real_server or with a MISC_CHECK');
        continue;
      }
      for (const h of ctx.block(s) ?? []) {
        if (!own.common(h)) ctx.unknown(h, 'SMTP_CHECK host');
      }
    } else if (!readDefault(ctx, s, d) && !own.common(s) && !own.specific(s)) {
      ctx.unknown(s, st.keyword);
    }
  }
  return own.build(d, target);
}

/** One checker block being read. */
class Checker {
  readonly #ctx: Context;
  readonly #st: Statement;
  readonly #kind: (typeof CHECKERS)[keyof typeof CHECKERS];
  readonly #out: Obj = {};
  readonly #urls: Obj[] = [];
  #address: Setting<string> | undefined;
  #port: Setting<number> | undefined;
  #miscTimeout: Setting<number> | undefined;

  constructor(ctx: Context, st: Statement, kind: (typeof CHECKERS)[keyof typeof CHECKERS]) {
    this.#ctx = ctx;
    this.#st = st;
    this.#kind = kind;
  }

  /** connect_ip, connect_port and the harmless connection keywords every checker has. */
  common(s: Statement): boolean {
    const ctx = this.#ctx;
    if (s.keyword === 'connect_ip') {
      const ip = ctx.ip(ctx.one(s), 'connect_ip');
      if (ip !== undefined) this.#address = { value: ip, at: s.at };
    } else if (s.keyword === 'connect_port') {
      const port = ctx.port(ctx.one(s), 'connect_port');
      if (port !== undefined) this.#port = { value: port, at: s.at };
    } else if (IGNORED_COMMON[s.keyword] !== undefined) {
      ctx.warn(s.at, `${s.keyword} is not used: ${IGNORED_COMMON[s.keyword]}`);
    } else {
      return false;
    }
    return true;
  }

  /** The keywords of this checker type. */
  specific(s: Statement): boolean {
    const ctx = this.#ctx;
    const ignored = IGNORED_OWN[this.#kind]?.[s.keyword];
    if (ignored !== undefined) {
      ctx.warn(s.at, `${s.keyword} is not used: ${ignored}`);
      return true;
    }
    switch (`${this.#kind} ${s.keyword}`) {
      case 'http url': case 'https url': this.#url(s); return true;
      case 'https sni_name': ctx.warn(s.at, 'sni_name is not used: yoke sends the virtualhost as the TLS server name; set virtualhost instead'); return true;
      case 'smtp helo_name': { const a = ctx.one(s); if (a) ctx.put(this.#out, 'helo', a.text, s.at); return true; }
      case 'udp payload': { const hex = this.#hex(s, false); if (hex) ctx.put(this.#out, 'send', hex, s.at); return true; }
      case 'udp require_reply': {
        ctx.put(this.#out, 'require_reply', true, s.at);
        const hex = s.args.length > 0 ? this.#hex(s, true) : undefined;
        if (hex) ctx.put(this.#out, 'expect', hex, s.at);
        return true;
      }
      case 'exec misc_path': if (ctx.flat(s) && ctx.count(s, 1, Infinity)) ctx.put(this.#out, 'command', command(s.args), s.at); return true;
      case 'exec misc_timeout': { const ms = ctx.timer(ctx.one(s), 'misc_timeout'); if (ms !== undefined) this.#miscTimeout = { value: ms, at: s.at }; return true; }
      case 'exec misc_dynamic': { const on = ctx.bool(s); if (on) ctx.put(this.#out, 'dynamic', true, s.at); return true; }
      default: return false;
    }
  }

  /** The yoke check: the common keys from the cascade, then this checker's own. */
  build(d: CheckDefaults, target: Target): Obj | undefined {
    const ctx = this.#ctx;
    const st = this.#st;
    const out: Obj = ctx.from({}, st.at);
    const isHttp = this.#kind === 'http' || this.#kind === 'https';
    const isExec = this.#kind === 'exec' || this.#kind === 'ping';
    const intervalMs = d.interval?.value ?? KEEPALIVED_DEFAULTS.intervalMs;
    const retry = d.retry?.value ?? (this.#kind === 'exec' ? KEEPALIVED_DEFAULTS.miscRetry : KEEPALIVED_DEFAULTS.retry);
    const timeoutMs = this.#kind === 'exec' ? (this.#miscTimeout?.value ?? intervalMs) : (d.timeout?.value ?? KEEPALIVED_DEFAULTS.timeoutMs);
    ctx.put(out, 'type', this.#kind === 'ping' ? 'exec' : this.#kind, st.at);
    ctx.put(out, 'interval', duration(intervalMs), d.interval?.at ?? st.at);
    // ping waits whole seconds (-W); the exec timeout leaves it a second more, so that ping's own verdict counts.
    const pingWait = Math.max(1, Math.ceil(timeoutMs / 1000));
    ctx.put(out, 'timeout', duration(this.#kind === 'ping' ? pingWait * 1000 + 1000 : timeoutMs), (this.#kind === 'exec' ? this.#miscTimeout?.at : d.timeout?.at) ?? st.at);
    ctx.put(out, 'rise', 1, st.at);
    ctx.put(out, 'fall', retry + 1, d.retry?.at ?? st.at);
    ctx.put(out, 'retry_delay', duration(d.retryDelay?.value ?? (isHttp ? KEEPALIVED_DEFAULTS.httpRetryDelayMs : KEEPALIVED_DEFAULTS.retryDelayMs)), d.retryDelay?.at ?? st.at);
    ctx.put(out, 'warmup', duration(d.warmup?.value ?? intervalMs), d.warmup?.at ?? d.interval?.at ?? st.at);
    if (!isExec && this.#port) ctx.put(out, 'port', this.#port.value, this.#port.at);
    if (!isExec && this.#address) ctx.put(out, 'address', this.#address.value, this.#address.at);
    if (d.alpha?.value) ctx.put(out, 'alpha', true, d.alpha.at);
    if (d.inhibit?.value) ctx.put(out, 'inhibit_on_failure', true, d.inhibit.at);
    if (this.#kind === 'ping') {
      const ip = this.#address?.value ?? target.ip;
      ctx.put(out, 'command', `ping -c 1 -W ${pingWait} ${ip}`, st.at);
      ctx.warn(st.at, `PING_CHECK runs as an exec check of \`ping -c 1 -W ${pingWait} ${ip}\`: yoke has no ICMP checker of its own, and ping must be installed`);
    }
    if (this.#kind === 'exec' && this.#out.command === undefined) {
      ctx.error(st.at, 'MISC_CHECK needs misc_path: the command to run');
      return undefined;
    }
    if (isHttp) this.#http(out, d);
    for (const [k, v] of Object.entries(this.#out)) ctx.put(out, k, v, ctx.originsOf(this.#out).get(k) ?? st.at);
    return out;
  }

  /** The url blocks: one is written as path/expect_status/digest, several as `urls` (all must pass, as in Keepalived). */
  #http(out: Obj, d: CheckDefaults): void {
    const ctx = this.#ctx;
    if (d.host) ctx.put(out, 'host', d.host.value, d.host.at);
    const urlHosts = this.#urls.map((u) => u.host).filter((h) => h !== undefined);
    const hostOrigins = this.#urls.map((u) => ctx.originsOf(u).get('host')).filter((w) => w !== undefined);
    if (urlHosts.length > 0) {
      if (new Set(urlHosts).size > 1 || (d.host && urlHosts[0] !== d.host.value) || urlHosts.length < this.#urls.length) {
        ctx.unsupported(hostOrigins[1] ?? hostOrigins[0]!, `${this.#st.keyword}: url blocks with different virtualhosts: yoke's check sends one Host for all its urls`);
      }
      ctx.put(out, 'host', urlHosts[0], hostOrigins[0]!);
    }
    for (const u of this.#urls) delete u.host;
    const [first] = this.#urls;
    if (this.#urls.length === 1 && first) {
      for (const [k, v] of Object.entries(first)) ctx.put(out, k, v, ctx.originsOf(first).get(k) ?? this.#st.at);
    } else if (this.#urls.length > 1) {
      ctx.put(out, 'urls', this.#urls, this.#st.at);
    } else {
      ctx.put(out, 'expect_status', ['200-299'], this.#st.at);
    }
  }

  #url(s: Statement): void {
    const ctx = this.#ctx;
    const url: Obj = ctx.from({}, s.at);
    ctx.put(url, 'path', '/', s.at);
    let status: (number | string)[] = ['200-299'];
    let statusAt = s.at;
    for (const u of ctx.block(s) ?? []) {
      if (u.keyword === 'path') {
        const a = ctx.one(u);
        if (a) ctx.put(url, 'path', a.text, u.at);
      } else if (u.keyword === 'digest') {
        const a = ctx.one(u);
        if (a) ctx.put(url, 'digest', a.text.toLowerCase(), u.at);
      } else if (u.keyword === 'status_code') {
        if (ctx.flat(u) && ctx.count(u, 1, Infinity)) {
          status = u.args.map((a) => (/^\d+$/.test(a.text) ? Number(a.text) : a.text));
          statusAt = u.at;
        }
      } else if (u.keyword === 'virtualhost') {
        const a = ctx.one(u);
        if (a) ctx.put(url, 'host', a.text, u.at);
      } else if (u.keyword.startsWith('regex')) {
        ctx.unsupported(u.at, `${u.keyword} is not supported: yoke's http check matches the status and the digest of the body, not a regular expression`);
      } else if (u.keyword === 'username' || u.keyword === 'password') {
        ctx.unsupported(u.at, `${u.keyword} is not supported: yoke's http check sends no credentials; check a url that needs none`);
      } else if (u.keyword === 'tls_compliant' && this.#kind === 'https') {
        ctx.warn(u.at, 'tls_compliant is not used: yoke closes TLS with close_notify');
      } else {
        ctx.unknown(u, 'url');
      }
    }
    ctx.put(url, 'expect_status', status, statusAt);
    this.#urls.push(url);
  }

  /** A Keepalived HEX_STR (groups of hex digits; an odd digit at a group's end is a byte of its own) as `hex:…`. */
  #hex(s: Statement, wildcards: boolean): string | undefined {
    const ctx = this.#ctx;
    if (!ctx.flat(s) || !ctx.count(s, 1, Infinity)) return undefined;
    let hex = '';
    for (const a of s.args as readonly Arg[]) {
      if (wildcards && /[xX]/.test(a.text)) {
        ctx.unsupported(a.at, `${s.keyword}: X (any nibble) in the expected reply is not supported: give the exact bytes, or require_reply alone`);
        return undefined;
      }
      if (!/^[0-9a-fA-F]+$/.test(a.text)) {
        ctx.error(a.at, `${s.keyword} "${a.text}" is not hex digits`);
        return undefined;
      }
      hex += a.text.length % 2 === 0 ? a.text : `${a.text.slice(0, -1)}0${a.text.slice(-1)}`;
    }
    return `hex:${hex.toLowerCase()}`;
  }
}
