import type { Endpoint } from '../../core/address.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { ServiceHealthSpec } from '../../core/health/spec.ts';
import type { DirectorySpec } from '../mail/directory.ts';
import type { MailSpec } from '../mail/settings.ts';
import type { PersistenceSpec, ServiceSpec, TimeoutSpec } from '../../core/spec.ts';

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
