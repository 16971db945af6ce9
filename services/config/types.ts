import type { Endpoint } from '../../core/address.ts';
import type { ErrorCode } from '../../core/errors.ts';
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
}

/**
 * One virtual service (IPVS `ipvsadm -A`) with its real servers: what the core runs (core/spec.ts ServiceSpec,
 * with fallback, hashPort, tableSize and expireMs of its schedulerOptions filled in) plus its health check.
 */
export interface ServiceConfig extends ServiceSpec {
  readonly health: HealthConfig | undefined;
}

/** IPVS persistence (`-p timeout -M netmask`); services sharing a group share templates, as fwmark / port-0 services do. */
export type PersistenceConfig = PersistenceSpec;

/** A probe payload or expected reply, as bytes. */
export type Bytes = readonly number[];

/** Settings every checker shares; the runner owns them (Keepalived delay_loop, connect_timeout, alpha, inhibit_on_failure). */
export interface HealthCommon {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Successes in a row that bring a down server up. */
  readonly rise: number;
  /** Failures in a row that take an up server down. */
  readonly fall: number;
  /** Check this port instead of the server's (Keepalived connect_port). */
  readonly port: number | undefined;
  /** Check this IP instead of the server's (Keepalived connect_ip). */
  readonly address: string | undefined;
  /** Start servers down until their first check passes (Keepalived alpha). */
  readonly alpha: boolean;
  /** On failure set the weight to 0 instead of removing the server (Keepalived inhibit_on_failure). */
  readonly inhibitOnFailure: boolean;
}

/** A health check, one variant per Keepalived checker. */
export type HealthConfig =
  | (HealthCommon & { readonly type: 'tcp'; readonly send: Bytes | undefined; readonly expect: Bytes | undefined })
  | (HealthCommon & {
    readonly type: 'http' | 'https';
    readonly path: string;
    readonly host: string | undefined;
    readonly expectStatus: readonly number[];
    /** MD5 of the body, lower-case hex (Keepalived digest). */
    readonly digest: string | undefined;
  })
  | (HealthCommon & { readonly type: 'smtp'; readonly helo: string | undefined })
  | (HealthCommon & { readonly type: 'udp'; readonly send: Bytes | undefined; readonly expect: Bytes | undefined })
  | (HealthCommon & { readonly type: 'exec'; readonly command: string; readonly dynamic: boolean });

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
