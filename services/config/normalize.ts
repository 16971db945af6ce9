import { parseEndpoint, type Endpoint } from '../../core/address.ts';
import type { ServerSettings } from '../../core/server.ts';
import type { SchedulerName } from '../../core/schedulers/types.ts';
import { DEFAULTS } from './defaults.ts';
import { deepFreeze } from './freeze.ts';
import type { HealthCommon, HealthConfig, PersistenceConfig, ServiceConfig, YokeConfig } from './types.ts';
import { parseBytes, parseDuration } from './values.ts';

/* The YAML shapes as the schema admits them: every key the schema makes optional is optional here. */
interface RawServer { name?: string; address: string; weight?: number; max_conns?: number; min_conns?: number }
interface RawHealth {
  type: HealthConfig['type']; interval?: string; timeout?: string; rise?: number; fall?: number; port?: number; address?: string;
  alpha?: boolean; inhibit_on_failure?: boolean; send?: string; expect?: string; path?: string; host?: string;
  expect_status?: number[]; digest?: string; helo?: string; command?: string; dynamic?: boolean;
}
interface RawService {
  name: string; listen: string; mode?: 'tcp' | 'udp'; scheduler?: SchedulerName;
  scheduler_options?: { fallback?: boolean; hash_port?: boolean; table_size?: number; expire?: string };
  persistence?: { timeout?: string; netmask?: string; prefix6?: number; group?: string };
  proxy_protocol?: 'off' | 'v1' | 'v2'; sorry_server?: string; max_conns?: number; connect_timeout?: string; retries?: number;
  servers?: RawServer[]; health?: RawHealth;
}
/** A config the schema and the semantic checks accepted. */
export interface RawConfig {
  admin?: { listen: string; token: string };
  timeouts?: { tcp?: string; tcpfin?: string; udp?: string };
  shutdown_grace?: string;
  services: RawService[];
}

/** Builds the frozen YokeConfig from a config that passed every check, filling in DEFAULTS; `token` is the resolved admin token. */
export function normalize(raw: RawConfig, token: string | undefined): YokeConfig {
  const t = { ...DEFAULTS.timeouts, ...raw.timeouts };
  return deepFreeze({
    admin: raw.admin && token !== undefined ? { listen: parseEndpoint(raw.admin.listen), token } : undefined,
    timeouts: { tcpMs: parseDuration(t.tcp), tcpFinMs: parseDuration(t.tcpfin), udpMs: parseDuration(t.udp) },
    shutdownGraceMs: parseDuration(raw.shutdown_grace ?? DEFAULTS.top.shutdown_grace, true),
    services: raw.services.map(service),
  });
}

function service(s: RawService): ServiceConfig {
  const d = { ...DEFAULTS.service, ...s };
  const o = { ...DEFAULTS.scheduler_options, ...s.scheduler_options };
  return {
    name: s.name,
    listen: parseEndpoint(s.listen),
    mode: d.mode,
    scheduler: d.scheduler,
    schedulerOptions: { fallback: o.fallback, hashPort: o.hash_port, tableSize: o.table_size, expireMs: parseDuration(o.expire) },
    persistence: s.persistence && persistence(s.persistence),
    proxyProtocol: d.proxy_protocol,
    sorryServer: optional(s.sorry_server, parseEndpoint),
    maxConns: d.max_conns,
    connectTimeoutMs: parseDuration(d.connect_timeout),
    retries: d.retries,
    servers: (s.servers ?? []).map(server),
    health: s.health && health(s.health),
  };
}

function optional<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

function persistence(p: NonNullable<RawService['persistence']>): PersistenceConfig {
  const d = { ...DEFAULTS.persistence, ...p };
  return { timeoutMs: parseDuration(d.timeout), netmask: d.netmask, prefix6: d.prefix6, group: p.group };
}

function server(s: RawServer): ServerSettings {
  const d = { ...DEFAULTS.server, ...s };
  const address: Endpoint = parseEndpoint(s.address);
  return { name: s.name, address, weight: d.weight, maxConns: d.max_conns, minConns: d.min_conns };
}

function health(h: RawHealth): HealthConfig {
  const d = { ...DEFAULTS.health, ...h };
  const common: HealthCommon = {
    intervalMs: parseDuration(d.interval),
    timeoutMs: parseDuration(d.timeout),
    rise: d.rise,
    fall: d.fall,
    port: h.port,
    address: h.address,
    alpha: d.alpha,
    inhibitOnFailure: d.inhibit_on_failure,
  };
  switch (h.type) {
    case 'tcp':
    case 'udp':
      return { ...common, type: h.type, send: optional(h.send, parseBytes), expect: optional(h.expect, parseBytes) };
    case 'http':
    case 'https': {
      const web = { ...DEFAULTS.http_health, ...h };
      return { ...common, type: h.type, path: web.path, host: h.host, expectStatus: [...web.expect_status], digest: h.digest?.toLowerCase() };
    }
    case 'smtp':
      return { ...common, type: 'smtp', helo: h.helo };
    case 'exec':
      return { ...common, type: 'exec', command: h.command ?? '', dynamic: h.dynamic ?? DEFAULTS.exec_health.dynamic };
  }
}
