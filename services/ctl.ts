import { parseArgs } from 'node:util';
import { ERROR_CODES, YokeError, type ErrorCode } from '../core/errors.ts';
import type { ConnectionView, ServerView, ServiceView, TemplateView } from './admin/views.ts';

/**
 * `yoke ctl`: ipvsadm's verbs and look, over the admin API.
 *   -L|-l [-n] [--stats|--rate|--persistent-conns|--health|-c] [-t|-u VIP:PORT | --service NAME]
 *   -A -t|-u VIP:PORT [-s SCHED] [-p [SECONDS]] [-M NETMASK] [--name NAME]     -E (same, edits)    -D -t|-u VIP:PORT
 *   -a|-e -t|-u VIP:PORT -r RIP:PORT [-w WEIGHT] [-x UPPER] [-y LOWER]      -d -t|-u VIP:PORT -r RIP:PORT [--reset]
 *   --drain|--down|--up -t|-u VIP:PORT -r RIP:PORT [--reset]      --set TCP TCPFIN UDP      --reload
 * Options: --admin HOST:PORT (or YOKE_ADMIN), --token TOKEN (or YOKE_ADMIN_TOKEN).
 */
export async function ctl(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<void> {
  const { values: o, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      L: { type: 'boolean' }, l: { type: 'boolean' }, n: { type: 'boolean' }, c: { type: 'boolean' },
      stats: { type: 'boolean' }, rate: { type: 'boolean' }, health: { type: 'boolean' }, 'persistent-conns': { type: 'boolean' }, exact: { type: 'boolean' },
      A: { type: 'boolean' }, E: { type: 'boolean' }, D: { type: 'boolean' },
      a: { type: 'boolean' }, e: { type: 'boolean' }, d: { type: 'boolean' },
      t: { type: 'string' }, u: { type: 'string' }, service: { type: 'string' }, name: { type: 'string' },
      r: { type: 'string' }, w: { type: 'string' }, x: { type: 'string' }, y: { type: 'string' },
      s: { type: 'string' }, p: { type: 'string' }, M: { type: 'string' },
      drain: { type: 'boolean' }, down: { type: 'boolean' }, up: { type: 'boolean' }, reset: { type: 'boolean' },
      set: { type: 'boolean' }, reload: { type: 'boolean' },
      admin: { type: 'string' }, token: { type: 'string' },
    },
  });
  const api = new AdminClient(o.admin ?? process.env.YOKE_ADMIN ?? '127.0.0.1:9900', o.token ?? process.env.YOKE_ADMIN_TOKEN ?? '');
  const svcRef = (): string => {
    if (o.service) return o.service;
    if (o.t) return `tcp:${o.t}`;
    if (o.u) return `udp:${o.u}`;
    throw new YokeError('E_USAGE', 'name the virtual service with -t VIP:PORT, -u VIP:PORT or --service NAME');
  };
  const rip = (): string => o.r ?? usage('name the real server with -r RIP:PORT');
  const svcPath = () => `/services/${encodeURIComponent(svcRef())}`;
  const srvPath = () => `${svcPath()}/servers/${encodeURIComponent(rip())}`;
  const reset = o.reset ? '?reset=1' : '';

  if (o.L || o.l) {
    if (o.c) return out(formatConnections(await api.get<ConnectionView[]>('/connections')));
    const all = o.t || o.u || o.service ? [await api.get<ServiceView>(svcPath())] : await api.get<ServiceView[]>('/services');
    if (o.stats) return out(formatStats(all));
    if (o.rate) return out(formatRate(all));
    if (o.health) return out(formatHealth(all, Date.now()));
    if (o['persistent-conns']) return out(formatPersistent(all, await api.get<TemplateView[]>('/persistence')));
    return out(formatList(all));
  }
  if (o.A || o.E) {
    const listen = o.t ?? o.u ?? usage('-A/-E take -t or -u VIP:PORT');
    const mode = o.t ? 'tcp' : 'udp';
    const current = o.E ? await api.get<ServiceView>(svcPath()) : undefined;
    const body: Record<string, unknown> = current ? configForm(current) : { name: o.name ?? `${mode}-${listen.replace(/[^0-9A-Za-z]+/g, '-').replace(/-$/, '')}`, listen, mode, servers: [] };
    if (o.s) body.scheduler = o.s;
    if (o.p !== undefined || o.M !== undefined) {
      body.persistence = { ...(body.persistence as object | undefined), timeout: `${o.p ?? '300'}s`, ...(o.M ? { netmask: o.M } : {}) };
    }
    const v = o.E ? await api.send<ServiceView>('PUT', svcPath(), body) : await api.send<ServiceView>('POST', '/services', body);
    return out(formatList([v]));
  }
  if (o.D) { await api.send('DELETE', svcPath() + reset); return; }
  if (o.a || o.e) {
    const body: Record<string, unknown> = o.a ? { address: rip() } : {};
    if (o.w !== undefined) body.weight = whole(o.w, '-w');
    if (o.x !== undefined) body.max_conns = whole(o.x, '-x');
    if (o.y !== undefined) body.min_conns = whole(o.y, '-y');
    const v = o.a ? await api.send<ServiceView>('POST', `${svcPath()}/servers`, body) : await api.send<ServiceView>('PATCH', srvPath(), body);
    return out(formatList([v]));
  }
  if (o.d) { await api.send('DELETE', srvPath() + reset); return; }
  if (o.drain || o.down || o.up) {
    const verb = o.drain ? 'drain' : o.down ? 'down' : 'up';
    return out(formatList([await api.send<ServiceView>('POST', `${srvPath()}/${verb}${reset}`, {})]));
  }
  if (o.set) {
    const [tcp, tcpfin, udp] = positionals.map((x) => whole(x, '--set'));
    if (udp === undefined) usage('--set takes three numbers of seconds: TCP TCPFIN UDP (0 keeps a value)');
    await api.send('PUT', '/timeouts', { tcp_ms: (tcp ?? 0) * 1000, tcpfin_ms: (tcpfin ?? 0) * 1000, udp_ms: udp * 1000 });
    return;
  }
  if (o.reload) {
    const r = await api.send<{ warnings: string[] }>('POST', '/reload', {});
    return out(['reloaded', ...r.warnings].join('\n') + '\n');
  }
  usage('no command: use -L, -A, -E, -D, -a, -e, -d, --drain, --down, --up, --set or --reload');
}

function usage(msg: string): never {
  throw new YokeError('E_USAGE', msg);
}

function whole(s: string, flag: string): number {
  if (!/^\d+$/.test(s)) usage(`${flag} takes a whole number, not "${s}"`);
  return Number(s);
}

/** A service view back in config form, for -E (read, change, write back). */
function configForm(v: ServiceView): Record<string, unknown> {
  return {
    name: v.name, listen: v.listen, mode: v.mode, scheduler: v.scheduler, proxy_protocol: v.proxy_protocol, max_conns: v.max_conns,
    ...(v.persistence ? { persistence: { timeout: `${v.persistence.timeout_ms}ms`, netmask: v.persistence.netmask, prefix6: v.persistence.prefix6, ...(v.persistence.group ? { group: v.persistence.group } : {}) } } : {}),
    ...(v.sorry_server ? { sorry_server: v.sorry_server.address } : {}),
    servers: v.servers.map((s) => ({ address: s.address, weight: s.weight, max_conns: s.max_conns, min_conns: s.min_conns, ...(s.name ? { name: s.name } : {}) })),
  };
}

/** Calls the admin API with the bearer token; API errors become YokeErrors with the API's code. */
export class AdminClient {
  readonly #base: string;
  readonly #token: string;
  constructor(admin: string, token: string) {
    this.#base = `${admin.startsWith('http') ? admin : `http://${admin}`}/api/v1`;
    this.#token = token;
  }

  get<T>(path: string): Promise<T> { return this.send<T>('GET', path); }

  async send<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.#base + path, {
        method, headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new YokeError('E_ADMIN_UNREACHABLE', `${this.#base}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    const json = (await res.json()) as { error?: { code: string; detail: string } };
    if (!res.ok) {
      const code = json.error?.code ?? '';
      throw new YokeError(code in ERROR_CODES ? (code as ErrorCode) : 'E_ADMIN_REQUEST', json.error?.detail ?? `HTTP ${res.status}`);
    }
    return json as T;
  }
}

// --- ipvsadm-style tables ---

const PROT = { tcp: 'TCP', udp: 'UDP', tls: 'TLS', http: 'HTTP', imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' } as const;

function serviceLine(v: ServiceView): string {
  const flags = [v.scheduler];
  if (v.persistence) {
    flags.push(`persistent ${Math.round(v.persistence.timeout_ms / 1000)}`);
    if (v.persistence.netmask !== '255.255.255.255') flags.push(`mask ${v.persistence.netmask}`);
    if (v.persistence.group) flags.push(`group ${v.persistence.group}`);
  }
  return `${PROT[v.mode].padEnd(4)} ${v.listen} ${flags.join(' ')}  (${v.name})`;
}

function serverState(s: ServerView): string {
  const f: string[] = [];
  if (s.state !== 'up') f.push(s.state);
  if (s.weight === 0) f.push('drain');
  if (s.overloaded) f.push('overloaded');
  return f.join(',');
}

/** `-L --health`: each service's quorum, and each server's health, last check and last change with its reason. */
export function formatHealth(all: ServiceView[], now: number): string {
  const ago = (at: number) => `${Math.max(0, Math.round((now - at) / 100) / 10)}s ago`;
  const lines = ['yoke health', 'Prot LocalAddress:Port Quorum', '  -> RemoteAddress:Port           State      Last check                          Last change'];
  for (const v of all) {
    const q = v.quorum;
    const quorum = q ? `${q.up ? 'up' : 'LOST'} (live weight ${q.live_weight}, quorum ${q.weight}${q.hysteresis ? ` ±${q.hysteresis}` : ''})` : 'no checks';
    lines.push(`${PROT[v.mode].padEnd(4)} ${v.listen} ${quorum}  (${v.name})`);
    for (const s of v.servers) {
      const c = s.health.last_check;
      const check = c ? `${c.ok ? 'ok' : 'FAIL'} ${ago(c.at)}: ${c.detail}` : '-';
      const ch = s.health.last_change;
      const change = ch ? `${ch.to} ${ago(ch.at)}: ${ch.reason}` : '-';
      lines.push(`  -> ${s.address.padEnd(28)} ${s.state.padEnd(10)} ${check.padEnd(35)} ${change}`);
    }
  }
  return lines.join('\n') + '\n';
}

export function formatList(all: ServiceView[]): string {
  const lines = ['yoke director (user-space proxy)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn State'];
  for (const v of all) {
    lines.push(serviceLine(v));
    for (const s of v.servers) lines.push(`  -> ${s.address.padEnd(28)} ${'Proxy'.padEnd(7)} ${String(s.weight).padEnd(6)} ${String(s.active_conns).padEnd(10)} ${String(s.inactive_conns).padEnd(9)} ${serverState(s)}`.trimEnd());
    if (v.sorry_server) { const s = v.sorry_server; lines.push(`  -> ${s.address.padEnd(28)} ${'Sorry'.padEnd(7)} ${'-'.padEnd(6)} ${String(s.active_conns).padEnd(10)} ${s.inactive_conns}`); }
  }
  return lines.join('\n') + '\n';
}

function table(all: ServiceView[], head: string, cols: (c: import('../core/stats.ts').CountersSnapshot) => number[]): string {
  const row = (left: string, nums: number[]) => left.padEnd(33) + nums.map((n) => String(n).padStart(9)).join('');
  const lines = [head, '  -> RemoteAddress:Port'];
  for (const v of all) {
    lines.push(row(`${PROT[v.mode].padEnd(4)} ${v.listen}`, cols(v.stats)));
    for (const s of v.servers) lines.push(row(`  -> ${s.address}`, cols(s.stats)));
  }
  return lines.join('\n') + '\n';
}

export function formatStats(all: ServiceView[]): string {
  return table(all, 'Prot LocalAddress:Port' + ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((h) => h.padStart(9)).join('').padStart(56), (c) => [c.conns, c.inPkts, c.outPkts, c.inBytes, c.outBytes]);
}

export function formatRate(all: ServiceView[]): string {
  return table(all, 'Prot LocalAddress:Port' + ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((h) => h.padStart(9)).join('').padStart(56), (c) => [c.cps, c.inPps, c.outPps, c.inBps, c.outBps]);
}

export function formatPersistent(all: ServiceView[], templates: TemplateView[]): string {
  const lines = ['Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn', '  -> RemoteAddress:Port'];
  for (const v of all) {
    lines.push(serviceLine(v));
    for (const s of v.servers) lines.push(`  -> ${s.address.padEnd(28)} ${String(s.weight).padEnd(9)} ${String(s.persist_conns).padEnd(11)} ${String(s.active_conns).padEnd(10)} ${s.inactive_conns}`);
  }
  if (templates.length > 0) {
    lines.push('', 'Persistence templates', 'scope            client network          server                 conns  expire');
    for (const t of templates) lines.push(`${t.service.padEnd(16)} ${t.client_network.padEnd(23)} ${t.server.padEnd(22)} ${String(t.conns).padEnd(6)} ${t.expires_in_ms === null ? '-' : clock(t.expires_in_ms)}`);
  }
  return lines.join('\n') + '\n';
}

export function formatConnections(conns: ConnectionView[]): string {
  const lines = ['yoke connection entries', 'pro expire state       source                 virtual                destination'];
  for (const c of conns) {
    lines.push(`${PROT[c.protocol]} ${(c.expires_in_ms === null ? '-' : clock(c.expires_in_ms)).padEnd(6)} ${c.state.toUpperCase().padEnd(11)} ${c.client.padEnd(22)} ${c.virtual.padEnd(22)} ${c.server ?? '-'}`);
  }
  return lines.join('\n') + '\n';
}

function clock(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
