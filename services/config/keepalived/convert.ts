/*
 * A parsed keepalived.conf as the raw yoke config (the object yoke.yaml would parse to), with the keepalived place
 * of every value written, and every problem found. The mapping, keyword by keyword, is docs/keepalived.md.
 */
import { isIP } from 'node:net';
import { SCHEDULER_NAMES } from '../../../core/schedulers/types.ts';
import type { ConfigProblem } from '../types.ts';
import { CHECKERS, convertChecker, readDefault, REFUSED_CHECKERS, type CheckDefaults } from './checkers.ts';
import type { Arg, Statement, Where } from './parse.ts';
import { expandRange } from './ranges.ts';
import { command, Context, duration, endpoint, type Obj } from './read.ts';

export interface Converted {
  /** `{ timeouts?, services }`, ready for yoke's own validation. */
  readonly config: Obj;
  /** Where each written value came from, by its path joined with NUL. */
  readonly origins: Map<string, Where>;
  readonly problems: ConfigProblem[];
  /** Process-wide keywords (global_defs and the like) that yoke accepts and does not use. */
  readonly unused: readonly string[];
  /** vrrp_* and static_* blocks, kept whole for the failover work. */
  readonly kept: readonly Statement[];
}

/** Top-level blocks of failover and routing, kept but not active yet. */
const KEPT = /^(vrrp_|static_)|^(track_file|garp_group|linkbeat_interfaces|bfd_instance)$/;
/** Top-level process settings outside global_defs, accepted and not used. */
const PROCESS = new Set(['net_namespace', 'net_namespace_ipvs', 'namespace_with_ipsets', 'instance', 'use_pid_dir', 'linkbeat_use_polling', 'child_wait_time']);
/** Virtual and real server keywords that only serve Keepalived's own reporting. */
const REPORTING: Record<string, string> = {
  smtp_alert: 'yoke sends no e-mail; use notify hooks or notify.webhook',
  snmp_name: 'yoke has no SNMP agent; see /metrics',
};
const FLAGS: Record<string, 'fallback' | 'hash_port' | undefined> = {
  'sh-fallback': 'fallback', 'mh-fallback': 'fallback', 'flag-1': 'fallback', 'sh-port': 'hash_port', 'mh-port': 'hash_port', 'flag-2': 'hash_port', 'flag-3': undefined,
};
const FLAG_READERS: Record<'fallback' | 'hash_port', readonly string[]> = { fallback: ['sh', 'dh', 'mh'], hash_port: ['sh', 'mh'] };
/** persistence_timeout without a value (keepalived.conf(5)): 6 minutes. */
const DEFAULT_PERSISTENCE_S = 360;
const U32 = 2 ** 32 - 1;

/** Converts a keepalived.conf's statements; never throws. */
export function convertKeepalived(statements: readonly Statement[]): Converted {
  return new Converter().run(statements);
}

interface Member {
  readonly ips: readonly string[];
  readonly port: number | undefined;
  readonly at: Where;
}

interface Group {
  readonly name: string;
  readonly members: readonly Member[];
  readonly at: Where;
  used: boolean;
}

/** A real server read once; its server object is made per listen address, since its port may default to the virtual server's. */
interface RealServer {
  readonly ip: string;
  readonly port: number | undefined;
  readonly at: Where;
  readonly fields: Obj;
  readonly health: Obj | undefined;
}

class Converter {
  readonly #ctx = new Context();
  readonly #groups = new Map<string, Group>();
  readonly #unused: string[] = [];
  readonly #kept: Statement[] = [];
  readonly #services: Obj[] = [];
  #timeouts: Obj | undefined;

  run(statements: readonly Statement[]): Converted {
    const ctx = this.#ctx;
    for (const st of statements) if (st.keyword === 'virtual_server_group') this.#group(st);
    for (const st of statements) {
      if (st.keyword === 'virtual_server_group') continue;
      if (st.keyword === 'global_defs') this.#globals(st);
      else if (st.keyword === 'virtual_server') this.#virtualServer(st);
      else if (KEPT.test(st.keyword)) this.#keep(st);
      else if (PROCESS.has(st.keyword)) this.#note(st.keyword);
      else if (st.keyword === 'SSL') ctx.warn(st.at, "SSL is not used: yoke's https check presents no client certificate");
      else ctx.unknown(st, 'the top level');
    }
    for (const g of this.#groups.values()) {
      if (!g.used) ctx.warn(g.at, `virtual_server_group ${g.name} is not used by any virtual_server`, 'E_KEEPALIVED_KEYWORD');
    }
    const config: Obj = {};
    if (this.#timeouts) ctx.put(config, 'timeouts', this.#timeouts, ctx.originsOf({ t: this.#timeouts }).get('t')!);
    config.services = this.#services;
    return { config, origins: ctx.originsOf(config), problems: ctx.problems, unused: this.#unused, kept: this.#kept };
  }

  #note(keyword: string): void {
    if (!this.#unused.includes(keyword)) this.#unused.push(keyword);
  }

  #keep(st: Statement): void {
    this.#kept.push(st);
    const name = st.args[0] ? ` ${st.args[0].text}` : '';
    this.#ctx.warn(st.at, `${st.keyword}${name}: not active yet (failover comes later); yoke runs as a single director`);
  }

  #globals(st: Statement): void {
    for (const s of this.#ctx.block(st) ?? []) {
      if (s.keyword === 'lvs_timeouts') this.#lvsTimeouts(s);
      else this.#note(s.keyword);
    }
  }

  /** lvs_timeouts [tcp S] [tcpfin S] [udp S] → timeouts. */
  #lvsTimeouts(st: Statement): void {
    const ctx = this.#ctx;
    if (!ctx.flat(st) || !ctx.count(st, 2, 6)) return;
    const out: Obj = this.#timeouts ?? ctx.from({}, st.at);
    for (let i = 0; i < st.args.length; i += 2) {
      const key = st.args[i]!;
      if (!['tcp', 'tcpfin', 'udp'].includes(key.text)) {
        ctx.error(key.at, `lvs_timeouts: "${key.text}" is not tcp, tcpfin or udp`);
        continue;
      }
      const value = st.args[i + 1];
      if (!value) {
        ctx.error(key.at, `lvs_timeouts ${key.text} needs its seconds`);
        continue;
      }
      const s = ctx.integer(value, 1, 2_147_483, `lvs_timeouts ${key.text}`);
      if (s !== undefined) ctx.put(out, key.text, `${s}s`, key.at);
    }
    this.#timeouts = out;
  }

  #group(st: Statement): void {
    const ctx = this.#ctx;
    const block = ctx.block(st);
    const name = st.args[0]?.text;
    if (!block || !ctx.count(st, 1, 1, 'a name')) return;
    if (this.#groups.has(name!)) ctx.error(st.at, `virtual_server_group ${name} is defined twice (first at line ${this.#groups.get(name!)!.at.line})`);
    const members: Member[] = [];
    for (const s of block) {
      if (s.keyword === 'fwmark') {
        ctx.unsupported(s.at, `fwmark ${s.args[0]?.text ?? ''} in virtual_server_group ${name}: fwmark services need the kernel data plane (not in this version); list IP PORT members`);
        continue;
      }
      const ips = expandRange(s.keyword);
      if (typeof ips === 'string') {
        ctx.error(s.at, `virtual_server_group ${name}: ${ips}`);
        continue;
      }
      if (!ctx.flat(s) || !ctx.count(s, 0, 1, 'a port')) continue;
      members.push({ ips, port: s.args[0] ? ctx.port(s.args[0], 'port') ?? 0 : undefined, at: s.at });
    }
    this.#groups.set(name!, { name: name!, members, at: st.at, used: false });
  }

  /** The addresses a virtual_server line stands for: its own IP PORT, or each member of its group. */
  #listens(st: Statement): { listens: Member[]; group: string | undefined } | undefined {
    const ctx = this.#ctx;
    const [first, second] = st.args;
    if (!first) {
      ctx.error(st.at, 'virtual_server needs an address: virtual_server IP PORT { … }');
      return undefined;
    }
    if (first.text === 'fwmark') {
      ctx.unsupported(st.at, `virtual_server fwmark ${second?.text ?? ''}: fwmark services need the kernel data plane (not in this version); yoke's proxy listens on an IP and port, so write virtual_server IP PORT`);
      return undefined;
    }
    if (first.text === 'group') {
      const g = second ? this.#groups.get(second.text) : undefined;
      if (!g) {
        ctx.error(second?.at ?? st.at, second ? `virtual_server_group ${second.text} is not defined` : 'virtual_server group needs the group\'s name');
        return undefined;
      }
      g.used = true;
      return { listens: [...g.members], group: g.name };
    }
    if (!ctx.count(st, 2, 2, 'an address and a port')) {
      if (st.args.length === 1) ctx.unsupported(st.at, 'a virtual_server without a port (a port-0 persistent service) needs the kernel data plane: give the port');
      return undefined;
    }
    const ip = ctx.ip(first, 'virtual_server address');
    const port = ctx.port(second, 'virtual_server port');
    return ip === undefined || port === undefined ? undefined : { listens: [{ ips: [ip], port, at: st.at }], group: undefined };
  }

  #virtualServer(st: Statement): void {
    const ctx = this.#ctx;
    const block = ctx.block(st) ?? [];
    const where = this.#listens(st);
    const vs = new VirtualServer(ctx, st);
    for (const s of block) if (s.keyword !== 'real_server') vs.read(s);
    const servers = block.filter((s) => s.keyword === 'real_server').map((s) => this.#realServer(s, vs.defaults)).filter((r) => r !== undefined);
    if (!where) return;
    for (const m of where.listens) {
      if (m.port === undefined) {
        ctx.unsupported(m.at, 'a virtual_server_group member without a port (a port-0 persistent service) needs the kernel data plane: give the port');
        continue;
      }
      for (const ip of m.ips) this.#services.push(vs.service(ip, m.port, m.at, servers, where.group));
    }
  }

  #realServer(st: Statement, inherited: CheckDefaults): RealServer | undefined {
    const ctx = this.#ctx;
    const block = ctx.block(st) ?? [];
    if (!ctx.count(st, 1, 2, 'an address')) return undefined;
    const ip = ctx.ip(st.args[0], 'real_server address');
    const port = st.args[1] ? ctx.port(st.args[1], 'real_server port') : undefined;
    const fields: Obj = {};
    const d: CheckDefaults = { ...inherited };
    const notify: Obj = ctx.from({}, st.at);
    const checkers: Statement[] = [];
    for (const s of block) {
      if (readDefault(ctx, s, d)) continue;
      switch (s.keyword) {
        case 'weight': { const w = ctx.integer(ctx.one(s), 0, U32, 'weight'); if (w !== undefined) ctx.put(fields, 'weight', w, s.at); break; }
        case 'uthreshold': { const n = ctx.integer(ctx.one(s), 0, U32, 'uthreshold'); if (n !== undefined) ctx.put(fields, 'max_conns', n, s.at); break; }
        case 'lthreshold': { const n = ctx.integer(ctx.one(s), 0, U32, 'lthreshold'); if (n !== undefined) ctx.put(fields, 'min_conns', n, s.at); break; }
        case 'notify_up': case 'notify_down': {
          const cmd = script(ctx, s);
          if (cmd !== undefined) ctx.put(notify, s.keyword === 'notify_up' ? 'up' : 'down', cmd, s.at);
          break;
        }
        case 'lvs_method': forwarding(ctx, s); break;
        default:
          if (s.keyword in CHECKERS || s.keyword in REFUSED_CHECKERS) checkers.push(s);
          else if (REPORTING[s.keyword] !== undefined) ctx.warn(s.at, `${s.keyword} is not used: ${REPORTING[s.keyword]}`);
          else ctx.unknown(s, 'real_server');
      }
    }
    if (Object.keys(notify).length > 0) ctx.put(fields, 'notify', notify, st.at);
    let health: Obj | undefined;
    for (const [i, c] of checkers.entries()) {
      const refused = REFUSED_CHECKERS[c.keyword];
      if (refused !== undefined) ctx.unsupported(c.at, refused);
      else if (i > 0) ctx.unsupported(c.at, `${c.keyword} is a second checker of this real_server (the first is ${checkers[0]!.keyword} at line ${checkers[0]!.at.line}): yoke runs one check per server; keep one`);
      else if (ip !== undefined) health = convertChecker(ctx, c, CHECKERS[c.keyword as keyof typeof CHECKERS], { ip }, d);
    }
    return ip === undefined ? undefined : { ip, port, at: st.at, fields, health };
  }
}

/** A script keyword: `keyword COMMAND [user [group]]`; the user is not used (yoke runs hooks as itself). */
function script(ctx: Context, st: Statement): string | undefined {
  if (!ctx.flat(st) || !ctx.count(st, 1, 3, 'a command')) return undefined;
  if (st.args.length > 1) ctx.warn(st.args[1]!.at, `${st.keyword}: the user "${st.args.slice(1).map((a) => a.text).join(' ')}" is not used; yoke runs the command as its own user`);
  return command(st.args.slice(0, 1));
}

/** lb_kind / lvs_method: NAT is what yoke's proxy does; DR and TUN run as NAT, with a warning. */
function forwarding(ctx: Context, st: Statement): void {
  if (!ctx.flat(st) || !ctx.count(st, 1, Infinity)) return;
  const kind = st.args[0]!.text.toUpperCase();
  if (kind === 'NAT') return;
  if (kind === 'DR' || kind === 'TUN') {
    ctx.warn(st.at, `${st.keyword} ${kind} needs the kernel data plane (not in this version); yoke proxies the connections, as NAT would: the real servers see yoke's address as the client, and answer through yoke`);
  } else {
    ctx.error(st.args[0]!.at, `${st.keyword} "${st.args[0]!.text}" is not NAT, DR or TUN`);
  }
}

/** One virtual_server block's own settings (everything but its real servers). */
class VirtualServer {
  readonly defaults: CheckDefaults = {};
  readonly #ctx: Context;
  readonly #st: Statement;
  readonly #flags = new Map<'fallback' | 'hash_port', Statement>();
  #scheduler: { name: string; at: Where } | undefined;
  #mode: { name: string; at: Where } | undefined;
  #persistence: { seconds: number; at: Where } | undefined;
  #granularity: Arg | undefined;
  #sorry: { ip: string; port: number | undefined; at: Where } | undefined;
  readonly #quorum: Obj = {};
  readonly #notify: Obj = {};

  constructor(ctx: Context, st: Statement) {
    this.#ctx = ctx;
    this.#st = st;
    ctx.from(this.#quorum, st.at);
    ctx.from(this.#notify, st.at);
  }

  read(s: Statement): void {
    const ctx = this.#ctx;
    if (readDefault(ctx, s, this.defaults)) return;
    switch (s.keyword) {
      case 'lb_algo': case 'lvs_sched': this.#readScheduler(s); return;
      case 'lb_kind': case 'lvs_method': forwarding(ctx, s); return;
      case 'protocol': {
        const p = ctx.one(s);
        const name = p?.text.toLowerCase();
        if (name === 'tcp' || name === 'udp') this.#mode = { name, at: s.at };
        else if (name === 'sctp') ctx.unsupported(s.at, 'protocol SCTP is not supported: yoke proxies TCP and UDP');
        else if (p) ctx.error(p.at, `protocol "${p.text}" is not TCP or UDP`);
        return;
      }
      case 'persistence_timeout': {
        if (!ctx.flat(s) || !ctx.count(s, 0, 1)) return;
        const seconds = s.args[0] ? ctx.integer(s.args[0], 0, 2_147_483, 'persistence_timeout') : DEFAULT_PERSISTENCE_S;
        if (seconds !== undefined) this.#persistence = { seconds, at: s.at };
        return;
      }
      case 'persistence_granularity': this.#granularity = ctx.one(s); return;
      case 'persistence_engine': ctx.unsupported(s.at, 'persistence_engine is not supported: yoke keeps persistence by client address only'); return;
      case 'sorry_server': {
        if (!ctx.flat(s) || !ctx.count(s, 1, 2, 'an address')) return;
        const ip = ctx.ip(s.args[0], 'sorry_server address');
        const port = s.args[1] ? ctx.port(s.args[1], 'sorry_server port') : undefined;
        if (ip !== undefined) this.#sorry = { ip, port, at: s.at };
        return;
      }
      case 'sorry_server_lvs_method': forwarding(ctx, s); return;
      case 'sorry_server_inhibit': ctx.warn(s.at, 'sorry_server_inhibit is not used: yoke sends new connections to the sorry server only while no real server is up'); return;
      case 'quorum': { const n = ctx.integer(ctx.one(s), 1, U32, 'quorum'); if (n !== undefined) ctx.put(this.#quorum, 'weight', n, s.at); return; }
      case 'hysteresis': { const n = ctx.integer(ctx.one(s), 0, U32, 'hysteresis'); if (n !== undefined) ctx.put(this.#quorum, 'hysteresis', n, s.at); return; }
      case 'quorum_up': case 'quorum_down': { const cmd = script(ctx, s); if (cmd !== undefined) ctx.put(this.#notify, s.keyword, cmd, s.at); return; }
      case 'omega': { const on = ctx.bool(s); if (on) ctx.put(this.#notify, 'at_shutdown', true, s.at); return; }
      case 'ha_suspend': ctx.warn(s.at, 'ha_suspend is not used: yoke checks the real servers whether or not it holds the virtual address'); return;
      case 'ip_family': ctx.warn(s.at, 'ip_family is not used: it only matters for fwmark services'); return;
      case 'ops': ctx.warn(s.at, 'ops is not used: yoke relays a client\'s datagrams to one server for the life of its UDP session'); return;
      case 'nat_mask': ctx.warn(s.at, 'nat_mask is not used'); return;
      default:
        if (s.keyword in FLAGS) this.#readFlag(s);
        else if (REPORTING[s.keyword] !== undefined) ctx.warn(s.at, `${s.keyword} is not used: ${REPORTING[s.keyword]}`);
        else ctx.unknown(s, 'virtual_server');
    }
  }

  #readScheduler(s: Statement): void {
    const ctx = this.#ctx;
    const a = ctx.one(s);
    if (!a) return;
    if (a.text === 'twos') {
      ctx.warn(s.at, 'lb_algo twos runs as yoke\'s p2c: two random servers, the less loaded per weight (IPVS twos draws the two in proportion to weight)');
      this.#scheduler = { name: 'p2c', at: s.at };
    } else if ((SCHEDULER_NAMES as readonly string[]).includes(a.text) && a.text !== 'p2c') {
      this.#scheduler = { name: a.text, at: s.at };
    } else {
      ctx.error(a.at, `${s.keyword} "${a.text}" is not an IPVS scheduler yoke has: use one of ${SCHEDULER_NAMES.filter((n) => n !== 'p2c').join(', ')}, twos`, 'E_UNKNOWN_SCHEDULER');
    }
  }

  #readFlag(s: Statement): void {
    const flag = FLAGS[s.keyword];
    if (!this.#ctx.flat(s) || !this.#ctx.count(s, 0, 0)) return;
    if (flag === undefined) this.#ctx.warn(s.at, `${s.keyword} is not used: no yoke scheduler reads it`);
    else this.#flags.set(flag, s);
  }

  /** The yoke service for one listen address of this virtual server. */
  service(ip: string, port: number, at: Where, realServers: readonly RealServer[], group: string | undefined): Obj {
    const ctx = this.#ctx;
    const st = this.#st;
    const mode = this.#mode?.name ?? 'tcp';
    const scheduler = this.#scheduler?.name ?? 'wlc';
    const svc: Obj = ctx.from({}, at);
    ctx.put(svc, 'name', `${mode}-${ip.replace(/:/g, '_')}-${port}`, at);
    ctx.put(svc, 'listen', endpoint(ip, port), at);
    ctx.put(svc, 'mode', mode, this.#mode?.at ?? st.at);
    ctx.put(svc, 'scheduler', scheduler, this.#scheduler?.at ?? st.at);
    this.#schedulerOptions(svc, scheduler);
    if (this.#persistence && this.#persistence.seconds > 0) ctx.put(svc, 'persistence', this.#persistenceFor(ip, group), this.#persistence.at);
    else if (this.#granularity) ctx.warn(this.#granularity.at, 'persistence_granularity has no effect without persistence_timeout');
    if (this.#sorry) ctx.put(svc, 'sorry_server', endpoint(this.#sorry.ip, this.#sorry.port ?? port), this.#sorry.at);
    if (Object.keys(this.#quorum).length > 0) ctx.put(svc, 'quorum', this.#quorum, st.at);
    if (Object.keys(this.#notify).length > 0) ctx.put(svc, 'notify', this.#notify, st.at);
    const servers = realServers.map((r) => {
      const s: Obj = ctx.from({}, r.at);
      ctx.put(s, 'address', endpoint(r.ip, r.port ?? port), r.at);
      ctx.put(s, 'weight', 1, r.at);
      for (const [k, v] of Object.entries(r.fields)) ctx.put(s, k, v, ctx.originsOf(r.fields).get(k) ?? r.at);
      return s;
    });
    // Keepalived checks per real server; one check shared by all servers is written once, on the service.
    const checks = realServers.map((r) => r.health);
    const same = checks.length > 0 && checks.every((c) => c !== undefined && JSON.stringify(c) === JSON.stringify(checks[0]));
    if (same) ctx.put(svc, 'health', checks[0], ctx.originsOf({ h: checks[0] }).get('h') ?? st.at);
    else for (const [i, c] of checks.entries()) if (c) ctx.put(servers[i]!, 'health', c, realServers[i]!.at);
    ctx.put(svc, 'servers', servers, st.at);
    return svc;
  }

  #schedulerOptions(svc: Obj, scheduler: string): void {
    const ctx = this.#ctx;
    const options: Obj = ctx.from({}, this.#scheduler?.at ?? this.#st.at);
    for (const [flag, readers] of Object.entries(FLAG_READERS) as ['fallback' | 'hash_port', readonly string[]][]) {
      const given = this.#flags.get(flag);
      if (readers.includes(scheduler)) {
        // IPVS leaves sh/dh/mh without fallback unless asked; yoke's default is on, so Keepalived's off is written out.
        if (flag === 'fallback' || given) ctx.put(options, flag, given !== undefined, given?.at ?? this.#scheduler?.at ?? this.#st.at);
      } else if (given) {
        ctx.warn(given.at, `${given.keyword} has no effect with lb_algo ${scheduler}`);
      }
    }
    if (Object.keys(options).length > 0) ctx.put(svc, 'scheduler_options', options, this.#scheduler?.at ?? this.#st.at);
  }

  #persistenceFor(ip: string, group: string | undefined): Obj {
    const ctx = this.#ctx;
    const p = this.#persistence!;
    const out: Obj = ctx.from({}, p.at);
    ctx.put(out, 'timeout', duration(p.seconds * 1000), p.at);
    const g = this.#granularity;
    if (g) {
      const v6 = isIP(ip) === 6;
      const bits = /^\d{1,3}$/.test(g.text) ? Number(g.text) : undefined;
      if (v6 && bits !== undefined && bits <= 128) ctx.put(out, 'prefix6', bits, g.at);
      else if (!v6 && bits !== undefined && bits <= 32) ctx.put(out, 'netmask', maskOf(bits), g.at);
      else if (!v6 && isIP(g.text) === 4) ctx.put(out, 'netmask', g.text, g.at);
      else ctx.error(g.at, `persistence_granularity "${g.text}" is not ${v6 ? 'a prefix length 0..128 for an IPv6 service' : 'a dotted netmask (or a prefix length 0..32)'}`);
    }
    // The members of a virtual_server_group share one persistence table, as IPVS does for a fwmark or port-0 service.
    if (group !== undefined) ctx.put(out, 'group', `vsg-${group.replace(/[^A-Za-z0-9_.-]/g, '_')}`, p.at);
    return out;
  }
}

function maskOf(bits: number): string {
  const n = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}
