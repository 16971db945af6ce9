import { formatEndpoint } from '../../core/address.ts';
import type { ServiceConnection } from '../../core/connection.ts';
import type { Director } from '../../core/director.ts';
import { hasChecks, liveWeight } from '../../core/health/quorum.ts';
import { httpStatsIfAny, type HttpStats } from '../web/http-stats.ts';
import type { Health, RealServer } from '../../core/server.ts';
import type { VirtualService } from '../../core/service.ts';
import type { CountersSnapshot } from '../../core/stats.ts';

/** How the admin API shows a real server; keys as in the config file. */
export interface ServerView {
  address: string;
  name: string | null;
  weight: number;
  max_conns: number;
  min_conns: number;
  /** up, down or inhibited (health), admin-down (the operator, whatever the checks say); drain shows as weight 0. */
  state: Health | 'admin-down';
  /** What the checks say: the last result and the last change with its reason (times as epoch ms); null without a check. */
  health: {
    state: Health;
    last_check: { ok: boolean; detail: string; at: number } | null;
    last_change: { to: Health; reason: string; at: number } | null;
  };
  overloaded: boolean;
  active_conns: number;
  inactive_conns: number;
  persist_conns: number;
  stats: CountersSnapshot;
  /** mode http: answers by status class and latency percentiles; null elsewhere or before the first request. */
  http: ReturnType<HttpStats['toJSON']> | null;
}

export interface ServiceView {
  name: string;
  listen: string;
  mode: 'tcp' | 'udp' | 'tls' | 'http' | 'imap' | 'pop3' | 'smtp';
  /** For a pool of a layer-7 service (named `service/pool`): that service's name; it listens for the pool. */
  pool_of: string | null;
  scheduler: string;
  persistence: { timeout_ms: number; netmask: string; prefix6: number; group: string | null } | null;
  proxy_protocol: string;
  sorry_server: ServerView | null;
  max_conns: number;
  connections: number;
  refused: { no_server: number; limit: number };
  stats: CountersSnapshot;
  /** Keepalived quorum: whether the live weight (servers up by health) reaches it; null for a service without checks. */
  quorum: { up: boolean; live_weight: number; weight: number; hysteresis: number } | null;
  /** mode http: this pool's (or one-pool service's) answers by status class and latency percentiles. */
  http: ReturnType<HttpStats['toJSON']> | null;
  servers: ServerView[];
}

export interface ConnectionView {
  service: string;
  protocol: 'tcp' | 'udp';
  client: string;
  virtual: string;
  server: string | null;
  state: string;
  expires_in_ms: number | null;
}

export interface TemplateView {
  service: string;
  client_network: string;
  server: string;
  conns: number;
  expires_in_ms: number | null;
}

export function serverView(s: RealServer): ServerView {
  return {
    address: s.id, name: s.name ?? null, weight: s.weight, max_conns: s.maxConns, min_conns: s.minConns,
    state: s.adminDown ? 'admin-down' : s.health, overloaded: s.overloaded,
    health: { state: s.health, last_check: s.report.check ?? null, last_change: s.report.change ?? null },
    active_conns: s.activeConns, inactive_conns: s.inactiveConns, persist_conns: s.persistConns, stats: s.stats.toJSON(),
    http: httpStatsIfAny(s)?.toJSON() ?? null,
  };
}

export function serviceView(v: VirtualService): ServiceView {
  const p = v.spec.persistence;
  return {
    name: v.name, listen: formatEndpoint(v.listen), mode: v.mode, pool_of: v.parent?.name ?? null, scheduler: v.schedulerName,
    persistence: p ? { timeout_ms: p.timeoutMs, netmask: p.netmask, prefix6: p.prefix6, group: p.group ?? null } : null,
    proxy_protocol: v.spec.proxyProtocol, sorry_server: v.sorry ? serverView(v.sorry) : null, max_conns: v.spec.maxConns,
    connections: v.connections.size, refused: { no_server: v.refused.noServer, limit: v.refused.limit },
    stats: v.stats.toJSON(), quorum: quorumView(v), http: httpStatsIfAny(v)?.toJSON() ?? null, servers: v.servers.map(serverView),
  };
}

function quorumView(v: VirtualService): ServiceView['quorum'] {
  const h = v.spec.health;
  if (h === undefined || !hasChecks(h)) return null;
  return { up: v.quorumUp, live_weight: liveWeight(v.servers), weight: h.quorum.weight, hysteresis: h.quorum.hysteresis };
}

export function connectionViews(d: Director, now: number): ConnectionView[] {
  const out: ConnectionView[] = [];
  for (const v of d.services()) for (const c of v.connections) out.push(connectionView(v, c, now));
  return out;
}

function connectionView(v: VirtualService, c: ServiceConnection, now: number): ConnectionView {
  return {
    service: v.name, protocol: v.mode === 'udp' ? 'udp' : 'tcp', client: formatEndpoint({ host: c.clientIp, port: c.clientPort }),
    virtual: formatEndpoint(v.listen), server: c.server?.id ?? null, state: c.state,
    expires_in_ms: c.expiresAt === Infinity ? null : Math.max(0, c.expiresAt - now),
  };
}

export function templateViews(d: Director, now: number): TemplateView[] {
  const out: TemplateView[] = [];
  const seen = new Set<unknown>();
  for (const v of d.services()) {
    const table = v.persistence;
    if (!table || seen.has(table)) continue;
    seen.add(table);
    for (const t of table.list()) {
      out.push({
        service: v.spec.persistence?.group ?? v.name, client_network: networkText(t.key),
        server: t.server.id, conns: t.conns, expires_in_ms: t.expiresAt === Infinity ? null : Math.max(0, t.expiresAt - now),
      });
    }
  }
  return out;
}

function networkText(key: number | string): string {
  if (typeof key === 'string') return key;
  return [key >>> 24, (key >>> 16) & 255, (key >>> 8) & 255, key & 255].join('.');
}
