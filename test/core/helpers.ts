// Small builders for the core unit tests: real servers, and connections as plain objects (no sockets).
import { parseEndpoint } from '../../core/address.ts';
import type { CloseReason, ServiceConnection } from '../../core/connection.ts';
import { RealServer, type ServerSettings } from '../../core/server.ts';

/** A real server at `address` (host:port), weight 1 and no thresholds unless given. */
export function realServer(address: string, extra: Partial<Omit<ServerSettings, 'address'>> = {}): RealServer {
  return new RealServer({ address: parseEndpoint(address), weight: 1, maxConns: 0, minConns: 0, ...extra });
}

/** A connection-table entry as a data plane would make it, recording the reasons it was closed with. */
export interface FakeConn extends ServiceConnection {
  readonly closed: CloseReason[];
}

/** A new client connection from `clientIp` (state `connecting`, or `udp` for a UDP session). */
export function fakeConn(clientIp: string, opts: { port?: number; key?: string; udp?: boolean } = {}): FakeConn {
  const c: FakeConn = {
    clientIp, clientPort: opts.port ?? 40000, key: opts.key, server: undefined, template: undefined, tried: undefined,
    state: opts.udp ? 'udp' : 'connecting', expiresAt: Infinity, gone: false, closed: [],
    close(reason) { c.closed.push(reason); },
    expire() { c.close('timeout'); },
  };
  return c;
}
