import type { Endpoint } from '../address.ts';
import type { Clock } from '../clock.ts';
import type { ServiceConnection } from '../connection.ts';
import type { TimeoutSpec } from '../spec.ts';
import type { TimerWheel } from '../timer-wheel.ts';

/** What every data plane shares with the director: the clock, the idle wheel and the live timeouts. */
export interface PlaneContext {
  /** A cheap clock, read on every chunk to push idle deadlines. */
  readonly clock: Clock;
  /** One wheel for every connection's idle deadline; expiry closes the connection with 'timeout'. */
  readonly wheel: TimerWheel<ServiceConnection>;
  /** Read at use, so `ipvsadm --set`-style changes apply to running connections at their next activity. */
  timeouts: TimeoutSpec;
  /** Builds the PROXY protocol header for a new upstream connection (supplied by the services layer). */
  readonly proxyHeader: ProxyHeaderBuilder | undefined;
}

export type ProxyHeaderBuilder = (version: 'v1' | 'v2', client: Endpoint, vip: Endpoint) => Buffer;

/**
 * The L7 seam: an opener reads from (and may answer) the client before a server is chosen, then says which
 * key to schedule by and which bytes to replay to the chosen server. `undefined` closes the client.
 * It reads with its own listeners and removes them before resolving; the plane pauses the client at once.
 */
export interface Opener {
  open(client: import('node:net').Socket): Promise<Opened | undefined>;
}

/** What an opener learned from the client. */
export interface Opened {
  readonly key: string | undefined;
  readonly replay: Buffer | undefined;
  /** The pool to schedule in (a layer-7 service's own pool name); undefined = the service itself. */
  readonly pool?: string | undefined;
  /** Stickiness keys to look up first (see ServiceConnection.stickyKeys). */
  readonly stickyKeys?: readonly string[] | undefined;
  /** Reads the server's first bytes to learn stickiness keys for the chosen server (mode tls: its ServerHello). */
  readonly observer?: ServerObserver | undefined;
}

/** Fed the server's bytes in order until it is done; then the plane stops feeding it. */
export interface ServerObserver {
  /** undefined = give me more; otherwise the keys that now belong to the server (possibly none). */
  feed(chunk: Buffer): readonly string[] | undefined;
}

/** A running data plane for one virtual service. */
export interface Plane {
  /** Binds the listen address; rejects with E_LISTEN. */
  listen(): Promise<void>;
  /** Stops accepting; existing connections go on. */
  close(): Promise<void>;
  /** The bound port (for services listening on port 0 in tests). */
  readonly port: number;
}
