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
  open(client: import('node:net').Socket): Promise<{ key: string | undefined; replay: Buffer | undefined } | undefined>;
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
