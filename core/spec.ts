import type { Endpoint } from './address.ts';
import type { ServiceHealthSpec } from './health/spec.ts';
import type { SchedulerName, SchedulerOptions } from './schedulers/types.ts';
import type { ServerSettings } from './server.ts';

/** What the core needs to run one virtual service; the config layer's ServiceConfig satisfies it. */
export interface ServiceSpec {
  readonly name: string;
  readonly listen: Endpoint;
  /**
   * tcp and udp relay bytes; tls reads the ClientHello (never the keys) to route by SNI and stick by TLS session;
   * http proxies HTTP/1.1 requests, routing each one by host, path, method or header; imap, pop3 and smtp hold the
   * mail login dialogue, then route by user (the services layer's mail plane).
   */
  readonly mode: 'tcp' | 'udp' | 'tls' | 'http' | 'imap' | 'pop3' | 'smtp';
  readonly scheduler: SchedulerName;
  readonly schedulerOptions: SchedulerOptions;
  readonly persistence: PersistenceSpec | undefined;
  readonly proxyProtocol: 'off' | 'v1' | 'v2';
  readonly sorryServer: Endpoint | undefined;
  /** Concurrent client connections the service accepts; 0 = no limit. */
  readonly maxConns: number;
  readonly connectTimeoutMs: number;
  /** Other servers tried when connecting to the chosen one fails. */
  readonly retries: number;
  readonly servers: readonly ServerSettings[];
  /** Health checks, quorum and notify hooks; none = servers stay up unless the operator marks them down. */
  readonly health?: ServiceHealthSpec | undefined;
  /** Layer 7: named pools, each a service of its own without a listener (name `service/pool`), chosen by `routes`. */
  readonly pools?: readonly ServiceSpec[] | undefined;
  /** Layer 7: the first route whose match fits the connection names its pool; a route without match catches all. */
  readonly routes?: readonly RouteSpec[] | undefined;
  /** mode tls: keep resumed TLS sessions on the server that holds them. */
  readonly sticky?: StickySpec | undefined;
  /** mode http and the mail modes: terminate TLS toward clients with this certificate chain and key (PEM text). */
  readonly tls?: TlsTerminationSpec | undefined;
}

/** A listener's certificate: PEM text as read at load (a reload reads the files again, and new handshakes use it). */
export interface TlsTerminationSpec {
  readonly cert: string;
  readonly key: string;
}

/** One route of a layer-7 service. Every condition given must hold; none = catch-all. */
export interface RouteSpec {
  /** mode tls: the TLS server name, exact (`api.example.org`) or any name below a domain (`*.example.org`); lower case. */
  readonly sni?: string | undefined;
  /** mode http: the request's host (port left out), exact or `*.example.org`; lower case. */
  readonly host?: string | undefined;
  /** mode http: the path (before `?`) exactly, or starting with a prefix, or matching a regular expression. */
  readonly path?: string | undefined;
  readonly pathPrefix?: string | undefined;
  readonly pathRegex?: string | undefined;
  /** mode http: the method, exactly (methods are case-sensitive). */
  readonly method?: string | undefined;
  /** mode http: a request header (name in lower case) present, or with exactly this value. */
  readonly header?: { readonly name: string; readonly value: string | undefined } | undefined;
  /** The pool's own name (without the service's prefix). */
  readonly pool: string;
}

/**
 * Stickiness beyond client addresses. mode tls: session ids and ticket key names learned from ServerHellos, kept for
 * `timeoutMs` after last use. mode http: a cookie (see CookieStickySpec); learned values also live `timeoutMs`.
 */
export interface StickySpec {
  readonly tlsSession: boolean;
  readonly timeoutMs: number;
  readonly cookie: CookieStickySpec | undefined;
}

/** HTTP cookie stickiness, the modes of HAProxy's `cookie` (insert, rewrite, prefix) and of learning an application's session cookie. */
export interface CookieStickySpec {
  readonly name: string;
  readonly mode: 'insert' | 'rewrite' | 'prefix' | 'learn';
  /** insert: Max-Age of yoke's cookie; undefined = a session cookie. */
  readonly maxAgeMs: number | undefined;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  readonly sameSite: 'Lax' | 'Strict' | 'None';
  /** The key that makes server tokens opaque; undefined = one made at start (clients move once after a restart). */
  readonly secret: string | undefined;
}

/** IPVS `-p timeout -M netmask`, optionally shared by a named group of services. */
export interface PersistenceSpec {
  readonly timeoutMs: number;
  readonly netmask: string;
  readonly prefix6: number;
  readonly group: string | undefined;
}

/** Connection-table timeouts, as `ipvsadm --set tcp tcpfin udp`. */
export interface TimeoutSpec {
  readonly tcpMs: number;
  readonly tcpFinMs: number;
  readonly udpMs: number;
}

/** IPVS's defaults: 15 min established, 2 min after a FIN, 5 min for UDP. */
export const DEFAULT_TIMEOUTS: TimeoutSpec = Object.freeze({ tcpMs: 900_000, tcpFinMs: 120_000, udpMs: 300_000 });
