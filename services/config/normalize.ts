import { formatEndpoint, parseEndpoint, type Endpoint } from '../../core/address.ts';
import type { ServerSettings } from '../../core/server.ts';
import type { RouteSpec } from '../../core/spec.ts';
import type { DirectorySpec } from '../mail/directory.ts';
import type { MailSpec } from '../mail/settings.ts';
import type { SchedulerName } from '../../core/schedulers/types.ts';
import { DEFAULTS } from './defaults.ts';
import { deepFreeze } from './freeze.ts';
import type { CheckCommon, CheckSpec, HttpUrl, NotifySpec, ServerHealthSpec, ServiceHealthSpec } from '../../core/health/spec.ts';
import { DEFAULT_HEAD_LIMITS } from '../../l7/http/request-head.ts';
import type { HttpSettings, PersistenceConfig, ServiceConfig, YokeConfig } from './types.ts';
import { parseBytes, parseDuration, parseSize, parseStatusRange } from './values.ts';

/* The YAML shapes as the schema admits them: every key the schema makes optional is optional here. */
interface RawServer {
  name?: string; address: string; weight?: number; max_conns?: number; min_conns?: number; health?: RawHealth; notify?: { up?: string; down?: string };
}
type RawStatus = (number | string)[];
interface RawHealth {
  type: CheckSpec['type']; interval?: string; timeout?: string; rise?: number; fall?: number; retry_delay?: string; warmup?: string;
  port?: number; address?: string; alpha?: boolean; inhibit_on_failure?: boolean; passive_fall?: number;
  send?: string; expect?: string; require_reply?: boolean; path?: string; expect_status?: RawStatus; digest?: string;
  urls?: { path: string; expect_status?: RawStatus; digest?: string }[]; host?: string; verify?: boolean; ca?: string;
  helo?: string; command?: string; dynamic?: boolean;
}
interface RawNotify {
  up?: string; down?: string; quorum_up?: string; quorum_down?: string; webhook?: string; timeout?: string; at_shutdown?: boolean;
}
/** What a pool and a one-pool service share. */
interface RawPool {
  scheduler?: SchedulerName;
  scheduler_options?: { fallback?: boolean; hash_port?: boolean; table_size?: number; expire?: string };
  persistence?: { timeout?: string; netmask?: string; prefix6?: number; group?: string };
  sorry_server?: string; servers?: RawServer[]; health?: RawHealth; quorum?: { weight?: number; hysteresis?: number }; notify?: RawNotify;
  sticky?: {
    tls_session?: boolean; timeout?: string; cookie?: string; mode?: 'insert' | 'rewrite' | 'prefix' | 'learn'; max_age?: string;
    http_only?: boolean; secure?: boolean; same_site?: 'Lax' | 'Strict' | 'None'; secret?: string;
  };
}
interface RawHttp {
  header_timeout?: string; body_timeout?: string; idle_timeout?: string; max_header_size?: string | number; max_headers?: number;
  max_body_size?: string | number; server_headers_timeout?: string; server_body_timeout?: string; server_idle_timeout?: string;
  server_connections?: number;
}
interface RawService extends RawPool {
  name: string; listen: string; mode?: ServiceConfig['mode'];
  proxy_protocol?: 'off' | 'v1' | 'v2'; max_conns?: number; connect_timeout?: string; retries?: number; tls?: { cert: string; key: string };
  directory?: string; webmail_user?: { header?: string; cookie?: string };
  tls_mode?: MailSpec['tlsMode']; login_timeout?: string; backend_tls?: { mode?: 'implicit' | 'starttls'; verify?: boolean; ca?: string; server_name?: string }; smtp?: { auth?: boolean; delivery?: boolean; hostname?: string };
  http?: RawHttp; routes?: RawRoute[]; pools?: Record<string, RawPool>;
}
interface RawRoute {
  match?: { sni?: string; host?: string; path?: string; path_prefix?: string; path_regex?: string; method?: string; header?: { name: string; value?: string } };
  pool: string;
}
/** A config the schema and the semantic checks accepted. */
interface RawDirectory {
  ldap: {
    url: string; start_tls?: boolean; bind_dn?: string; password?: string; base: string; filter?: string; host_attribute?: string;
    cache?: string; negative_cache?: string; timeout?: string; pool?: number; tls?: { ca?: string; verify?: boolean; server_name?: string };
  };
}
export interface RawConfig {
  admin?: { listen: string; token: string };
  directories?: Record<string, RawDirectory>;
  timeouts?: { tcp?: string; tcpfin?: string; udp?: string };
  shutdown_grace?: string;
  services: RawService[];
}

/** Builds the frozen YokeConfig from a config that passed every check, filling in DEFAULTS; `secrets` resolve the env:/file: references. */
export function normalize(raw: RawConfig, secrets: ReadonlyMap<string, string>): YokeConfig {
  const token = raw.admin && secrets.get(raw.admin.token);
  const t = { ...DEFAULTS.timeouts, ...raw.timeouts };
  return deepFreeze({
    admin: raw.admin && token !== undefined ? { listen: parseEndpoint(raw.admin.listen), token } : undefined,
    timeouts: { tcpMs: parseDuration(t.tcp), tcpFinMs: parseDuration(t.tcpfin), udpMs: parseDuration(t.udp) },
    shutdownGraceMs: parseDuration(raw.shutdown_grace ?? DEFAULTS.top.shutdown_grace, true),
    directories: new Map(Object.entries(raw.directories ?? {}).map(([name, d]) => [name, directory(name, d, secrets)])),
    services: raw.services.map((s) => service(s, secrets)),
  });
}

function service(s: RawService, secrets: ReadonlyMap<string, string>): ServiceConfig {
  const d = { ...DEFAULTS.service, ...s };
  const front: ServiceConfig = {
    name: s.name,
    listen: parseEndpoint(s.listen),
    mode: d.mode,
    proxyProtocol: d.proxy_protocol,
    maxConns: d.max_conns,
    connectTimeoutMs: parseDuration(d.connect_timeout),
    retries: d.retries,
    tls: s.tls && { cert: secrets.get(s.tls.cert) ?? '', key: secrets.get(s.tls.key) ?? '' },
    ...(s.directory === undefined ? {} : { directory: s.directory }),
    ...(s.webmail_user === undefined ? {} : { webmailUser: { header: s.webmail_user.header?.toLowerCase(), cookie: s.webmail_user.cookie } }),
    ...(d.mode === 'imap' || d.mode === 'pop3' || d.mode === 'smtp' ? { mail: mail(s, secrets) } : {}),
    ...(d.mode === 'http' ? { http: httpSettings(s.http) } : {}),
    ...pool(s, s.sticky, secrets),
  };
  if (s.pools === undefined) return front;
  // A layer-7 service with pools: each pool runs as a service of its own, named service/pool, that inherits the
  // service's listener settings and stickiness; the routes pick among them.
  return {
    ...front,
    pools: Object.entries(s.pools).map(([name, p]) => ({ ...front, name: `${s.name}/${name}`, ...pool(p, p.sticky === undefined ? s.sticky : { ...s.sticky, ...p.sticky }, secrets) })),
    routes: (s.routes ?? []).map(route),
  };
}

/** A mail service's TLS mode (starttls when it has a certificate, else off) and SMTP roles. */
function mail(s: RawService, secrets: ReadonlyMap<string, string>): MailSpec {
  const smtp = { ...DEFAULTS.smtp, ...s.smtp };
  return {
    tlsMode: s.tls_mode ?? (s.tls === undefined ? 'off' : 'starttls'), loginTimeoutMs: parseDuration(s.login_timeout ?? DEFAULTS.mail.login_timeout),
    backendTls: s.backend_tls && {
      mode: s.backend_tls.mode ?? DEFAULTS.backend_tls.mode, verify: s.backend_tls.verify ?? DEFAULTS.backend_tls.verify,
      ca: s.backend_tls.ca === undefined ? undefined : secrets.get(s.backend_tls.ca), serverName: s.backend_tls.server_name,
    },
    smtp: { auth: smtp.auth, delivery: smtp.delivery, hostname: smtp.hostname },
  };
}

/** mode http's limits with DEFAULTS filled in; without an argument, the defaults themselves (a service built without a config). */
export function httpSettings(h: RawHttp = {}): HttpSettings {
  const d = { ...DEFAULTS.http, ...h };
  return {
    head: { ...DEFAULT_HEAD_LIMITS, maxHeadBytes: parseSize(d.max_header_size), maxHeaderCount: d.max_headers },
    headerTimeoutMs: parseDuration(d.header_timeout),
    bodyTimeoutMs: parseDuration(d.body_timeout),
    idleTimeoutMs: parseDuration(d.idle_timeout),
    maxBodySize: parseSize(d.max_body_size),
    serverHeadersTimeoutMs: parseDuration(d.server_headers_timeout),
    serverBodyTimeoutMs: parseDuration(d.server_body_timeout),
    serverIdleTimeoutMs: parseDuration(d.server_idle_timeout),
    serverConnections: d.server_connections,
  };
}

function directory(name: string, d: RawDirectory, secrets: ReadonlyMap<string, string>): DirectorySpec {
  const l = { ...DEFAULTS.directory, ...d.ldap };
  return {
    name, url: l.url, startTls: l.start_tls, bindDn: d.ldap.bind_dn, password: d.ldap.password === undefined ? undefined : secrets.get(d.ldap.password),
    base: l.base, filter: l.filter, hostAttribute: l.host_attribute, cacheMs: parseDuration(l.cache), negativeCacheMs: parseDuration(l.negative_cache),
    timeoutMs: parseDuration(l.timeout), poolSize: l.pool,
    tls: {
      ca: d.ldap.tls?.ca === undefined ? undefined : secrets.get(d.ldap.tls.ca),
      verify: d.ldap.tls?.verify ?? DEFAULTS.directory_tls.verify, serverName: d.ldap.tls?.server_name,
    },
  };
}

function route(r: RawRoute): RouteSpec {
  const m = r.match ?? {};
  const name = (n: string | undefined) => n?.toLowerCase().replace(/\.$/, '');
  return {
    sni: name(m.sni), host: name(m.host), path: m.path, pathPrefix: m.path_prefix, pathRegex: m.path_regex, method: m.method,
    header: m.header && { name: m.header.name.toLowerCase(), value: m.header.value }, pool: r.pool,
  };
}

/** The scheduling settings of a pool (or of a service that is its own pool), with DEFAULTS filled in. */
function pool(p: RawPool, sticky: RawPool['sticky'], secrets: ReadonlyMap<string, string>) {
  const o = { ...DEFAULTS.scheduler_options, ...p.scheduler_options };
  const st = { ...DEFAULTS.sticky, ...sticky };
  return {
    scheduler: p.scheduler ?? DEFAULTS.service.scheduler,
    schedulerOptions: { fallback: o.fallback, hashPort: o.hash_port, tableSize: o.table_size, expireMs: parseDuration(o.expire) },
    persistence: p.persistence && persistence(p.persistence),
    sorryServer: optional(p.sorry_server, parseEndpoint),
    servers: (p.servers ?? []).map(server),
    health: serviceHealth(p),
    sticky: sticky === undefined ? undefined : {
      tlsSession: st.tls_session,
      timeoutMs: parseDuration(st.timeout),
      cookie: sticky.cookie === undefined ? undefined : {
        name: sticky.cookie, mode: st.mode, maxAgeMs: optional(sticky.max_age, parseDuration), httpOnly: st.http_only, secure: st.secure,
        sameSite: st.same_site, secret: sticky.secret === undefined ? undefined : secrets.get(sticky.secret),
      },
    },
  };
}

function optional<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

function persistence(p: NonNullable<RawPool['persistence']>): PersistenceConfig {
  const d = { ...DEFAULTS.persistence, ...p };
  return { timeoutMs: parseDuration(d.timeout), netmask: d.netmask, prefix6: d.prefix6, group: p.group };
}

function server(s: RawServer): ServerSettings {
  const d = { ...DEFAULTS.server, ...s };
  const address: Endpoint = parseEndpoint(s.address);
  return { name: s.name, address, weight: d.weight, maxConns: d.max_conns, minConns: d.min_conns };
}

function serviceHealth(s: RawPool): ServiceHealthSpec {
  const q = { ...DEFAULTS.quorum, ...s.quorum };
  const servers = new Map<string, ServerHealthSpec>();
  for (const r of s.servers ?? []) {
    if (r.health === undefined && r.notify === undefined) continue;
    servers.set(formatEndpoint(parseEndpoint(r.address)), { health: r.health && health(r.health), notify: r.notify && { up: r.notify.up, down: r.notify.down } });
  }
  return { health: s.health && health(s.health), quorum: { weight: q.weight, hysteresis: q.hysteresis }, notify: notify(s.notify ?? {}), servers };
}

function notify(n: RawNotify): NotifySpec {
  const d = { ...DEFAULTS.notify, ...n };
  return {
    up: n.up, down: n.down, quorumUp: n.quorum_up, quorumDown: n.quorum_down, webhook: n.webhook,
    timeoutMs: parseDuration(d.timeout), atShutdown: d.at_shutdown,
  };
}

function status(list: RawStatus): HttpUrl['status'] {
  return list.map((v) => (typeof v === 'number' ? { low: v, high: v } : parseStatusRange(v)));
}

function health(h: RawHealth): CheckSpec {
  const d = { ...DEFAULTS.health, ...h };
  const interval = parseDuration(d.interval);
  const common: CheckCommon = {
    intervalMs: interval,
    timeoutMs: parseDuration(d.timeout),
    rise: d.rise,
    fall: d.fall,
    retryDelayMs: Math.min(interval, parseDuration(d.retry_delay)),
    warmupMs: parseDuration(d.warmup, true),
    port: h.port,
    address: h.address,
    alpha: d.alpha,
    inhibitOnFailure: d.inhibit_on_failure,
    passiveFall: d.passive_fall,
  };
  switch (h.type) {
    case 'tcp':
      return { ...common, type: 'tcp', send: optional(h.send, parseBytes), expect: optional(h.expect, parseBytes) };
    case 'udp':
      return {
        ...common, type: 'udp', send: optional(h.send, parseBytes), expect: optional(h.expect, parseBytes),
        requireReply: h.require_reply ?? DEFAULTS.udp_health.require_reply,
      };
    case 'http':
    case 'https': {
      const web = { ...DEFAULTS.http_health, ...h };
      const one = (path: string, expect: RawStatus | undefined, digest: string | undefined): HttpUrl =>
        ({ path, status: status(expect ?? [...DEFAULTS.http_health.expect_status]), digest: digest?.toLowerCase() });
      const urls = h.urls ? h.urls.map((u) => one(u.path, u.expect_status, u.digest)) : [one(web.path, h.expect_status, h.digest)];
      return { ...common, type: h.type, urls, host: h.host, verify: web.verify, ca: h.ca };
    }
    case 'smtp':
      return { ...common, type: 'smtp', helo: h.helo };
    case 'exec':
      return { ...common, type: 'exec', command: h.command ?? '', dynamic: h.dynamic ?? DEFAULTS.exec_health.dynamic };
  }
}
