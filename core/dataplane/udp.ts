import dgram from 'node:dgram';
import { refuse, type CloseReason, type ServiceConnection } from '../connection.ts';
import { YokeError } from '../errors.ts';
import type { Template } from '../persistence.ts';
import type { RealServer } from '../server.ts';
import { Counters } from '../stats.ts';
import type { VirtualService } from '../service.ts';
import type { Plane, PlaneContext } from './plane.ts';

const kSession = Symbol('yoke.session');
type Tagged = dgram.Socket & { [kSession]: UdpSession };

/**
 * The UDP relay for one virtual service: a session per client address and port, each with its own connected
 * socket towards the chosen server (so replies find their client), forgotten after the udp timeout.
 * When a server is removed or goes down its sessions are dropped at once, so the client's next datagram is
 * scheduled afresh (IPVS expire_nodest_conn) instead of vanishing for the 300 s timeout.
 */
export class UdpPlane implements Plane {
  readonly service: VirtualService;
  readonly ctx: PlaneContext;
  readonly socket: dgram.Socket;
  /** client address -> client port -> session; nested so a lookup builds no string key. */
  readonly sessions = new Map<string, Map<number, UdpSession>>();

  constructor(service: VirtualService, ctx: PlaneContext) {
    this.service = service;
    this.ctx = ctx;
    this.socket = dgram.createSocket({ type: service.listen.family === 6 ? 'udp6' : 'udp4', reuseAddr: false, lookup: literalLookup });
    this.socket.on('message', (msg, rinfo) => this.#fromClient(msg, rinfo.address, rinfo.port));
    this.socket.on('error', () => { /* a send error on the listening socket loses one datagram, as the network may */ });
    service.onServerGone = (server) => {
      for (const c of service.connections) if (c.server === server) c.close('server-removed');
    };
  }

  get port(): number {
    try { return this.socket.address().port; } catch { return 0; }
  }

  listen(): Promise<void> {
    const { host, port } = this.service.listen;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(new YokeError('E_LISTEN', `service ${this.service.name}: cannot listen on udp ${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
      this.socket.once('error', onError);
      this.socket.bind({ address: host, port, exclusive: true }, () => {
        this.socket.off('error', onError);
        resolve();
      });
    });
  }

  /** Stops receiving; sessions end with it, since their replies would have no socket to leave by. */
  close(): Promise<void> {
    this.service.closeAll('service-removed');
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  #fromClient(msg: Buffer, address: string, port: number): void {
    let byPort = this.sessions.get(address);
    let session = byPort?.get(port);
    if (session === undefined) {
      const service = this.service;
      if (!service.admits()) { refuse(service, 'limit', address); return; }
      session = new UdpSession(this, address, port);
      if (!service.assign(session)) return;
      if (byPort === undefined) this.sessions.set(address, (byPort = new Map()));
      byPort.set(port, session);
      session.open();
    }
    session.toServer(msg);
  }

  forget(session: UdpSession): void {
    const byPort = this.sessions.get(session.clientIp);
    if (byPort === undefined) return;
    byPort.delete(session.clientPort);
    if (byPort.size === 0) this.sessions.delete(session.clientIp);
  }
}

/** One client's UDP session: its server, its upstream socket, its idle deadline. */
export class UdpSession implements ServiceConnection {
  readonly plane: UdpPlane;
  readonly clientIp: string;
  readonly clientPort: number;
  key: string | undefined = undefined;
  server: RealServer | undefined = undefined;
  template: Template | undefined = undefined;
  tried: RealServer[] | undefined = undefined;
  state: ServiceConnection['state'] = 'udp';
  expiresAt = 0;
  gone = false;
  tableIndex: number | undefined = undefined;
  upstream: dgram.Socket | undefined = undefined;
  /** Datagrams that arrived while the upstream socket was still connecting (Node refuses to send then). */
  pending: Buffer[] | undefined = [];

  constructor(plane: UdpPlane, clientIp: string, clientPort: number) {
    this.plane = plane;
    this.clientIp = clientIp;
    this.clientPort = clientPort;
  }

  /** Opens the upstream socket, connected to the server so the kernel filters replies for us. */
  open(): void {
    const { service, ctx } = this.plane;
    const server = this.server as RealServer;
    const up = dgram.createSocket({ type: server.address.family === 6 ? 'udp6' : 'udp4', lookup: literalLookup }) as Tagged;
    up[kSession] = this;
    up.on('message', onServerMessage);
    up.on('error', onUpstreamError);
    up.once('connect', onUpstreamConnect);
    up.connect(server.address.port, server.address.host);
    this.upstream = up;
    service.connections.add(this);
    service.stats.conns++;
    this.expiresAt = ctx.clock.now() + ctx.timeouts.udpMs;
    ctx.wheel.schedule(this);
  }

  toServer(msg: Buffer): void {
    const { service, ctx } = this.plane;
    const server = this.server as RealServer;
    Counters.countIn(service.stats, server.stats, msg.length);
    this.expiresAt = ctx.clock.now() + ctx.timeouts.udpMs;
    if (this.pending !== undefined) this.pending.push(msg);
    else (this.upstream as dgram.Socket).send(msg);
  }

  connected(): void {
    const queued = this.pending as Buffer[];
    this.pending = undefined;
    for (const msg of queued) (this.upstream as dgram.Socket).send(msg);
  }

  toClient(msg: Buffer): void {
    const { service, ctx, socket } = this.plane;
    const server = this.server;
    if (server === undefined) return;
    Counters.countOut(service.stats, server.stats, msg.length);
    this.expiresAt = ctx.clock.now() + ctx.timeouts.udpMs;
    socket.send(msg, this.clientPort, this.clientIp);
  }

  expire(): void { this.close('timeout'); }

  close(_reason: CloseReason): void {
    if (this.gone) return;
    this.gone = true;
    const plane = this.plane;
    plane.ctx.wheel.cancel(this);
    plane.forget(this);
    plane.service.connections.delete(this);
    plane.service.release(this);
    const up = this.upstream;
    this.upstream = undefined;
    if (up !== undefined) try { up.close(); } catch { /* already closed */ }
  }
}

/**
 * Every address here is an IP literal (config refuses host names), so the resolver step that dgram runs before
 * each send is answered on the spot instead of going through dns.lookup and a tick.
 */
function literalLookup(host: string, _options: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, host, host.includes(':') ? 6 : 4);
}

function onUpstreamConnect(this: dgram.Socket): void {
  (this as Tagged)[kSession].connected();
}

function onServerMessage(this: dgram.Socket, msg: Buffer): void {
  (this as Tagged)[kSession].toClient(msg);
}

/** The server's port answered with ICMP unreachable (ECONNREFUSED): end the session so the next datagram is rescheduled. */
function onUpstreamError(this: dgram.Socket): void {
  (this as Tagged)[kSession].close('server-error');
}
