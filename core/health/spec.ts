/*
 * What the health layer runs, as the config layer hands it over: one checker per server (the service's, or the
 * server's own), quorum and notify hooks per service. Durations are in ms.
 */

/** A probe payload or expected reply, as bytes. */
export type Bytes = readonly number[];

/** Settings every checker shares; the prober owns them (Keepalived delay_loop, connect_timeout, retry, delay_before_retry, warmup, alpha, inhibit_on_failure). */
export interface CheckCommon {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Successes in a row that bring a down server up. */
  readonly rise: number;
  /** Failures in a row that take an up server down. */
  readonly fall: number;
  /** While failures accumulate towards `fall`, the next check comes after this instead of the interval (Keepalived delay_before_retry). */
  readonly retryDelayMs: number;
  /** The first check waits a random time up to this, so that many servers are not checked at once (Keepalived warmup). */
  readonly warmupMs: number;
  /** Check this port instead of the server's (Keepalived connect_port). */
  readonly port: number | undefined;
  /** Check this IP instead of the server's (Keepalived connect_ip). */
  readonly address: string | undefined;
  /** Start the server down until its first check passes (Keepalived alpha). */
  readonly alpha: boolean;
  /** On failure keep the server for its existing and persistent clients but give it no new ones, as weight 0 (Keepalived inhibit_on_failure). */
  readonly inhibitOnFailure: boolean;
  /** Connect failures or resets in a row seen by live traffic that take the server down before the next check; 0 = off (HAProxy observe layer4). */
  readonly passiveFall: number;
}

/** HTTP status codes from `low` to `high`, both included. */
export interface StatusRange {
  readonly low: number;
  readonly high: number;
}

/** One URL of an HTTP check: every URL of a check must pass (Keepalived url blocks). */
export interface HttpUrl {
  readonly path: string;
  /** Accepted status codes, as ranges (Keepalived status_code 200-299; a single code is a range of one). */
  readonly status: readonly StatusRange[];
  /** MD5 of the body, lower-case hex (Keepalived digest). */
  readonly digest: string | undefined;
}

export type TcpCheckSpec = CheckCommon & { readonly type: 'tcp'; readonly send: Bytes | undefined; readonly expect: Bytes | undefined };
export type HttpCheckSpec = CheckCommon & {
  readonly type: 'http' | 'https';
  readonly urls: readonly HttpUrl[];
  /** Host header, and the TLS server name for https (Keepalived virtualhost). */
  readonly host: string | undefined;
  /** https: verify the server's certificate chain and name against the system CAs (or `ca`). */
  readonly verify: boolean;
  /** https: PEM file of the CAs to verify against. */
  readonly ca: string | undefined;
};
export type SmtpCheckSpec = CheckCommon & { readonly type: 'smtp'; readonly helo: string | undefined };
/** Without `expect`, a check passes unless an ICMP error (port unreachable) comes back within the timeout (Keepalived UDP_CHECK). */
export type UdpCheckSpec = CheckCommon & { readonly type: 'udp'; readonly send: Bytes | undefined; readonly expect: Bytes | undefined; readonly requireReply: boolean };
/** Exit 0 passes, 1 fails; with `dynamic`, 2..255 pass and set the weight to code - 2 (Keepalived MISC_CHECK misc_dynamic). */
export type ExecCheckSpec = CheckCommon & { readonly type: 'exec'; readonly command: string; readonly dynamic: boolean };

/** A health check, one variant per Keepalived checker. */
export type CheckSpec = TcpCheckSpec | HttpCheckSpec | SmtpCheckSpec | UdpCheckSpec | ExecCheckSpec;

/** Commands run (by /bin/sh) and a webhook called when servers or the quorum change; none of them block the data path. */
export interface NotifySpec {
  readonly up: string | undefined;
  readonly down: string | undefined;
  readonly quorumUp: string | undefined;
  readonly quorumDown: string | undefined;
  /** POSTed a JSON event for every change. */
  readonly webhook: string | undefined;
  /** A command or webhook call that takes longer is abandoned (the command killed). */
  readonly timeoutMs: number;
  /** At shutdown, report servers and the quorum as going down (Keepalived omega). */
  readonly atShutdown: boolean;
}

/** Keepalived quorum: the sum of the live servers' weights that the service needs; hysteresis damps flapping around it. */
export interface QuorumSpec {
  readonly weight: number;
  readonly hysteresis: number;
}

/** A server's own check and hooks, replacing the service's where given. */
export interface ServerHealthSpec {
  readonly health: CheckSpec | undefined;
  readonly notify: Pick<NotifySpec, 'up' | 'down'> | undefined;
}

/** The health settings of one service. */
export interface ServiceHealthSpec {
  readonly health: CheckSpec | undefined;
  readonly quorum: QuorumSpec;
  readonly notify: NotifySpec;
  /** By server id (its address as `host:port`). */
  readonly servers: ReadonlyMap<string, ServerHealthSpec>;
}
