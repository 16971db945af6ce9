import { channel } from 'node:diagnostics_channel';
import type { Template } from './persistence.ts';
import type { RealServer } from './server.ts';
import type { Tabled } from './connection-table.ts';
import type { Expiring } from './timer-wheel.ts';

/** Connection-table states as IPVS names them for a proxy: connecting and fin-wait count as inactive. */
export type ConnState = 'connecting' | 'established' | 'fin-wait' | 'udp';

/** Why a connection ended; counted per reason and shown in events, never thrown. */
export type CloseReason =
  | 'done' | 'timeout' | 'client-error' | 'server-error' | 'no-server' | 'connect-failed'
  | 'server-removed' | 'reset' | 'shutdown' | 'service-removed' | 'limit';

/** One entry of a service's connection table: a proxied TCP connection or a UDP session. */
export interface ServiceConnection extends Expiring, Tabled {
  readonly clientIp: string;
  readonly clientPort: number;
  /** The hashing/locality key (L7 sets it; L4 leaves it undefined so schedulers use the client IP). */
  key: string | undefined;
  /** Stickiness keys to look up first, best first (mode tls: TLS session ids and ticket key names). */
  stickyKeys?: readonly string[] | undefined;
  server: RealServer | undefined;
  template: Template | undefined;
  /** Servers already tried for this connection (connect retries); undefined until the first failure. */
  tried: RealServer[] | undefined;
  state: ConnState;
  /** Ends the connection at once (TCP: reset both sides; UDP: forget the session). */
  close(reason: CloseReason): void;
  /** Its deadline in the wheel passed: a connect attempt fails over, an idle connection or session ends. */
  expire(): void;
}

/** True when the state counts as IPVS ActiveConn. */
export function isActive(state: ConnState): boolean {
  return state === 'established';
}

/** A client connection or datagram turned away: `{ service, reason: 'no-server' | 'limit', client }`. Built only when subscribed. */
export const refusedChannel = channel('yoke:refused');

/** Counts a refusal on the service and tells subscribers (the daemon logs them, rate-limited). */
export function refuse(service: { name: string; refused: { noServer: number; limit: number } }, reason: 'no-server' | 'limit', client: string | undefined): void {
  if (reason === 'limit') service.refused.limit++;
  else service.refused.noServer++;
  if (refusedChannel.hasSubscribers) refusedChannel.publish({ service: service.name, reason, client });
}
