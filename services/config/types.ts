import type { Endpoint } from '../../core/address.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { ServiceHealthSpec } from '../../core/health/spec.ts';
import type { DirectorySpec } from '../mail/directory.ts';
import type { MailSpec } from '../mail/settings.ts';
import type { PersistenceSpec, ServiceSpec, TimeoutSpec } from '../../core/spec.ts';
import type { HeadLimits } from '../../l7/http/request-head.ts';

/** The whole config after validation: defaults filled in, durations in ms, secrets resolved, deeply frozen. */
export interface YokeConfig {
  /** The admin API; its token resolved from env:NAME or file:PATH. */
  readonly admin: { readonly listen: Endpoint; readonly token: string } | undefined;
  /** Idle timeouts of connection entries, as `ipvsadm --set tcp tcpfin udp`. */
  readonly timeouts: TimeoutSpec;
  /** How long a stopping director lets connections finish. */
  readonly shutdownGraceMs: number;
  readonly services: readonly ServiceConfig[];
  /** LDAP directories of users, by name (the mail farm's lookups). */
  readonly directories: ReadonlyMap<string, DirectorySpec>;
}

/**
 * One virtual service (IPVS `ipvsadm -A`) with its real servers: what the core runs (core/spec.ts ServiceSpec,
 * with fallback, hashPort, tableSize and expireMs of its schedulerOptions filled in) plus its health settings
 * (core/health/spec.ts: the checker, per-server checkers and hooks, quorum, notify).
 */
export interface ServiceConfig extends ServiceSpec {
  readonly health: ServiceHealthSpec;
  /** The directory (a key of `directories`) that says where a mail user lives: mail modes, and webmail over http. */
  readonly directory?: string | undefined;
  /** mode http: where a webmail request names its mail user (a header or a cookie), to route it as that user's mail sessions go. */
  readonly webmailUser?: { readonly header: string | undefined; readonly cookie: string | undefined } | undefined;
  /** Mail modes only: TLS toward clients and the SMTP roles. */
  readonly mail?: MailSpec | undefined;
  /** mode http only: the proxy's limits and timeouts (`http`, defaults filled in); its pools share the service's. */
  readonly http?: HttpSettings | undefined;
}

/** mode http's limits toward clients and toward the real servers: durations in ms, sizes in bytes. */
export interface HttpSettings {
  /** The request-head parser's bounds (max_header_size, max_headers; the target's length stays 8 KiB). */
  readonly head: HeadLimits;
  /** A begun request head must be whole within this: 408. */
  readonly headerTimeoutMs: number;
  /** A request body may pause this long between reads: 408, or the connection closed once the answer began. */
  readonly bodyTimeoutMs: number;
  /** An idle kept-alive client connection is closed after this. */
  readonly idleTimeoutMs: number;
  /** The largest request body: 413 past it; 0 = no limit. */
  readonly maxBodySize: number;
  /** A real server must begin its answer within this (counted from the request's end): 504. */
  readonly serverHeadersTimeoutMs: number;
  /** A real server may pause this long between bytes of its answer. */
  readonly serverBodyTimeoutMs: number;
  /** An idle kept-alive connection to a real server is closed after this (sooner when the server says so). */
  readonly serverIdleTimeoutMs: number;
  /** Connections to one real server at most, requests beyond wait in line; 0 = no limit. */
  readonly serverConnections: number;
}

/** IPVS persistence (`-p timeout -M netmask`); services sharing a group share templates, as fwmark / port-0 services do. */
export type PersistenceConfig = PersistenceSpec;

/** One thing wrong (or doubtful) in a config file, at a 1-based line and column. */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  severity: 'error' | 'warning';
  code: ErrorCode;
  message: string;
}

/** The outcome of reading a config: `config` is undefined exactly when a problem is an error. */
export type ConfigResult = { config: YokeConfig | undefined; problems: ConfigProblem[] };
