import { channel } from 'node:diagnostics_channel';
import net from 'node:net';
import { refuse, type CloseReason, type ServiceConnection } from '../connection.ts';
import { YokeError } from '../errors.ts';
import type { Template } from '../persistence.ts';
import type { RealServer } from '../server.ts';
import { Counters } from '../stats.ts';
import type { ServerGoneHandler, VirtualService } from '../service.ts';
import type { Opener, Plane, PlaneContext, ServerObserver } from './plane.ts';
import { readingSocket, readShared, takeBytes } from './reads.ts';

/** Published when a proxied connection ends (only built when someone subscribes). */
export const connClosed = channel('yoke:tcp:close');

const kConn = Symbol('yoke.conn');
type Tagged = net.Socket & { [kConn]: TcpConnection };

/**
 * The user-space TCP full proxy for one virtual service: accept, choose, connect, pipe both ways with
 * backpressure, honour half-close, retry a failed connect on another server without the client noticing.
 * Socket events go to shared module-level handlers (the connection hangs off the socket), so a new connection
 * allocates two sockets and one TcpConnection, not a dozen closures.
 */
export class TcpPlane implements Plane {
  readonly service: VirtualService;
  readonly ctx: PlaneContext;
  readonly opener: Opener | undefined;
  readonly #server: net.Server;

  constructor(service: VirtualService, ctx: PlaneContext, opener?: Opener) {
    this.service = service;
    this.ctx = ctx;
    this.opener = opener;
    this.#server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    this.#server.on('error', () => { /* listen errors are reported by listen(); accept errors (EMFILE) leave the listener up */ });
    service.onServerGone = resetConnectionsOf(service);
  }

  get port(): number { return boundPort(this.#server); }

  listen(): Promise<void> { return listenTcp(this.#server, this.service); }

  /** Stops accepting at once; Node's close callback would wait for every accepted connection, so it is not awaited. */
  close(): Promise<void> {
    if (this.#server.listening) this.#server.close();
    return Promise.resolve();
  }

  #accept(client: net.Socket): void {
    const conn = admit(this.service, client, () => new TcpConnection(this, client));
    if (conn === undefined) return;
    if (this.opener === undefined) conn.schedule(undefined);
    else void this.#open(conn);
  }

  async #open(conn: TcpConnection): Promise<void> {
    let opened: Awaited<ReturnType<Opener['open']>>;
    try {
      opened = await (this.opener as Opener).open(conn.client);
    } catch {
      opened = undefined;
    }
    if (opened === undefined || conn.gone) { conn.close('client-error'); return; }
    conn.client.pause();
    if (opened.pool !== undefined) {
      const pool = this.service.pools.get(opened.pool);
      if (pool === undefined) { refuse(this.service, 'no-server', conn.clientIp); conn.close('no-server'); return; }
      conn.pool = pool;
      pool.stats.conns++;
    }
    conn.key = opened.key;
    conn.stickyKeys = opened.stickyKeys;
    conn.observer = opened.observer;
    conn.schedule(opened.replay);
  }
}

/**
 * One proxied connection: the client socket, the upstream socket, and its connection-table entry.
 * The client is read from the start: what it sends while the server is still being connected is written to the
 * connecting socket (Node queues it) and also kept in `early`, so that a failed connect can replay it to the
 * next server. Connect and idle deadlines both live in the shared wheel, so a connection costs no timer.
 */
export class TcpConnection implements ServiceConnection {
  readonly plane: TcpPlane;
  readonly client: net.Socket;
  /** Where it is scheduled: the service itself, or the pool an opener chose. */
  pool: VirtualService;
  upstream: net.Socket | undefined = undefined;
  key: string | undefined = undefined;
  stickyKeys: readonly string[] | undefined = undefined;
  /** Reads the server's first bytes for stickiness keys until it is done (mode tls). */
  observer: ServerObserver | undefined = undefined;
  server: RealServer | undefined = undefined;
  template: Template | undefined = undefined;
  tried: RealServer[] | undefined = undefined;
  state: ServiceConnection['state'] = 'connecting';
  expiresAt = Infinity;
  #clientIp: string | undefined = undefined;
  gone = false;
  tableIndex: number | undefined = undefined;
  /** Client bytes sent before the server accepted (L7 replay included); dropped once connected. */
  early: Buffer[] | undefined = undefined;
  clientEnded = false;

  constructor(plane: TcpPlane, client: net.Socket) {
    this.plane = plane;
    this.pool = plane.service;
    this.client = client;
    (client as Tagged)[kConn] = this;
    client.on('end', onClientEnd);
    client.on('error', onClientError);
    client.on('close', onSocketClose);
    client.on('drain', onClientDrain);
  }

  /** The client's address, asked of the kernel (getpeername) only when something needs it. */
  get clientIp(): string {
    return (this.#clientIp ??= this.client.remoteAddress ?? '');
  }

  get clientPort(): number {
    return this.client.remotePort ?? 0;
  }

  /** Chooses a server (persistence, scheduler, sorry server) and connects; closes the client when none. */
  schedule(replay: Buffer | undefined): void {
    if (replay !== undefined) this.early = [replay];
    if (!this.pool.assign(this)) { this.close(this.tried === undefined ? 'no-server' : 'connect-failed'); return; }
    this.#connect(this.server as RealServer);
    if (this.tried !== undefined) return; // a retry: the client is already being read
    const client = this.client;
    // An opener may leave bytes in the client's stream buffer: those connections stay on 'data' events.
    if (this.plane.opener !== undefined || !readShared(client, onClientRead)) client.on('data', onClientData);
    if (client.isPaused()) client.resume(); // an opener leaves the client paused
  }

  #connect(server: RealServer): void {
    const { ctx } = this.plane;
    const service = this.pool;
    const up = readingSocket(onUpstreamRead, true) as Tagged;
    up[kConn] = this;
    this.upstream = up;
    up.on('connect', onUpstreamConnect);
    up.on('end', onUpstreamEnd);
    up.on('error', onUpstreamError);
    up.on('close', onSocketClose);
    up.on('drain', onUpstreamDrain);
    up.setNoDelay(true);
    up.connect(server.address.port, server.address.host);
    this.expiresAt = ctx.clock.now() + service.spec.connectTimeoutMs;
    ctx.wheel.schedule(this);
    const pp = service.spec.proxyProtocol;
    if (pp !== 'off' && ctx.proxyHeader !== undefined) {
      const c = this.client;
      const family = c.remoteFamily === 'IPv6' ? 6 : 4;
      // The address the client actually reached (a wildcard or port-0 listen address says less).
      up.write(ctx.proxyHeader(pp, { host: this.clientIp, port: this.clientPort, family }, { host: c.localAddress as string, port: c.localPort as number, family }));
    }
    const early = this.early;
    if (early !== undefined) for (let i = 0; i < early.length; i++) up.write(early[i] as Buffer);
    if (this.clientEnded) up.end();
  }

  /** Connecting failed (refused, unreachable, or the connect deadline passed): try another server, up to `retries`. */
  connectFailed(): void {
    const service = this.pool;
    const up = this.upstream;
    this.upstream = undefined;
    if (up !== undefined) up.destroy();
    service.serverFailed(this.server as RealServer);
    service.unassignFailed(this);
    if ((this.tried as RealServer[]).length > service.spec.retries) { this.close('connect-failed'); return; }
    this.schedule(undefined);
  }

  connected(): void {
    this.early = undefined;
    const service = this.pool;
    service.serverWorked(this.server as RealServer);
    service.setState(this, 'established');
    this.touch();
  }

  /** The wheel says the deadline passed: a connect that takes too long fails over; an idle connection ends. */
  expire(): void {
    if (this.state === 'connecting') this.connectFailed();
    else this.close('timeout');
  }

  /** Pushes the idle deadline: established connections get the tcp timeout, half-closed ones tcpfin. */
  touch(): void {
    const t = this.plane.ctx.timeouts;
    this.expiresAt = this.plane.ctx.clock.now() + (this.state === 'fin-wait' ? t.tcpFinMs : t.tcpMs);
  }

  halfClosed(): void {
    if (this.state !== 'established') return;
    this.pool.setState(this, 'fin-wait');
    this.touch();
    this.plane.ctx.wheel.schedule(this); // tcpfin is shorter than tcp: refile under the earlier deadline
  }

  /** Ends the connection now: both sockets are reset (a quiet end would look like success to the peer). */
  close(reason: CloseReason): void {
    if (this.gone) return;
    this.#finish(reason);
    abort(this.client);
    if (this.upstream !== undefined) abort(this.upstream);
  }

  /** One socket closed: when both are, the entry goes; until then the survivor is ended gracefully. */
  socketClosed(): void {
    if (this.gone) return;
    const up = this.upstream;
    const clientDone = this.client.destroyed;
    if (clientDone && (up === undefined || up.destroyed)) this.#finish('done');
    else if (!clientDone) this.client.end();
    else if (up !== undefined && !up.connecting) up.end();
  }

  #finish(reason: CloseReason): void {
    this.gone = true;
    this.plane.ctx.wheel.cancel(this);
    this.plane.service.connections.delete(this);
    this.pool.release(this);
    if (connClosed.hasSubscribers) connClosed.publish({ service: this.pool.name, client: this.clientIp, reason });
  }
}

/**
 * A new client of a TCP-based service (any mode): entered in the service's connection table and counted, or, at
 * the service's max_conns, turned away — counted, told to the refusal log, and reset.
 */
export function admit<C extends ServiceConnection>(service: VirtualService, socket: net.Socket, make: () => C): C | undefined {
  if (!service.admits()) {
    refuse(service, 'limit', socket.remoteAddress);
    socket.resetAndDestroy();
    return undefined;
  }
  const conn = make();
  service.connections.add(conn);
  service.stats.conns++;
  return conn;
}

/** onServerGone for planes whose connections each ride one server: a removal with reset ends those connections. */
export function resetConnectionsOf(service: VirtualService): ServerGoneHandler {
  return (server, reset) => {
    if (!reset) return;
    for (const c of service.connections) if (c.server === server) c.close('server-removed');
  };
}

/** The port a TCP listener got (the service's own, or the kernel's pick for port 0). */
export function boundPort(server: net.Server): number {
  const a = server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/**
 * Binds a service's TCP listener; rejects with E_LISTEN naming the service and the address. TCP_NODELAY is set once
 * on the listening socket, which accepted sockets inherit on Linux: one setsockopt per service instead of one per
 * connection (where the listening handle cannot take it, each accepted socket gets it as Node would set it).
 */
export function listenTcp(server: net.Server, service: VirtualService): Promise<void> {
  const { host, port } = service.listen;
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new YokeError('E_LISTEN', `service ${service.name}: cannot listen on tcp ${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen({ host, port, backlog: 4096, exclusive: true }, () => {
      server.off('error', onError);
      const handle = (server as unknown as { _handle?: { setNoDelay?: (on: boolean) => number } })._handle;
      if (typeof handle?.setNoDelay !== 'function' || handle.setNoDelay(true) !== 0) (server as unknown as { noDelay: boolean }).noDelay = true;
      resolve();
    });
  });
}

/**
 * Resets a socket (RST), or destroys it when a reset is not possible: libuv refuses to reset a socket that is
 * still connecting or already shutting down (end() called), and a refused reset would leave the handle open.
 */
function abort(s: net.Socket): void {
  if (s.destroyed) return;
  if (s.connecting || s.writableEnded) s.destroy();
  else s.resetAndDestroy();
}

function connOf(s: net.Socket): TcpConnection {
  return (s as Tagged)[kConn];
}

/** Client bytes: counted, kept for a replay while connecting, written upstream; false = pause the client. */
function fromClient(c: TcpConnection, chunk: Buffer): boolean {
  const server = c.server as RealServer;
  Counters.countIn(c.pool.stats, server.stats, chunk.length);
  if (c.state === 'connecting') (c.early ??= []).push(chunk);
  else c.expiresAt = c.plane.ctx.clock.now() + c.plane.ctx.timeouts.tcpMs;
  return (c.upstream as net.Socket).write(chunk);
}

function onClientRead(this: net.Socket, nread: number, buffer: Buffer): boolean {
  return fromClient(connOf(this), takeBytes(buffer, nread));
}

function onClientData(this: net.Socket, chunk: Buffer): void {
  if (!fromClient(connOf(this), chunk)) this.pause();
}

function onUpstreamRead(this: net.Socket, nread: number, buffer: Buffer): boolean {
  const c = connOf(this);
  const server = c.server as RealServer;
  Counters.countOut(c.pool.stats, server.stats, nread);
  c.expiresAt = c.plane.ctx.clock.now() + c.plane.ctx.timeouts.tcpMs;
  const chunk = takeBytes(buffer, nread);
  if (c.observer !== undefined) observe(c, server, chunk);
  return c.client.write(chunk);
}

/** Feeds the server's bytes to the connection's observer; when it is done, its keys stick to the server. */
function observe(c: TcpConnection, server: RealServer, chunk: Buffer): void {
  const keys = (c.observer as ServerObserver).feed(chunk);
  if (keys === undefined) return;
  c.observer = undefined;
  if (keys.length > 0) c.pool.learn(keys, server);
}

function onClientDrain(this: net.Socket): void {
  connOf(this).upstream?.resume();
}

function onUpstreamDrain(this: net.Socket): void {
  connOf(this).client.resume();
}

function onClientEnd(this: net.Socket): void {
  const c = connOf(this);
  c.clientEnded = true;
  c.halfClosed();
  const up = c.upstream;
  if (up !== undefined) finishSide(up); // a connecting socket sends its FIN after the queued bytes
}

function onUpstreamEnd(this: net.Socket): void {
  const c = connOf(this);
  c.halfClosed();
  finishSide(c.client);
}

/**
 * The other side finished sending: pass the FIN on. When this socket has finished too and has nothing left to
 * write, closing it sends the FIN and saves a shutdown(2) (and libuv's second, failing epoll removal).
 */
function finishSide(s: net.Socket): void {
  if (s.readableEnded && s.writableLength === 0 && !s.connecting) s.destroy();
  else s.end();
}

function onUpstreamConnect(this: net.Socket): void {
  const c = connOf(this);
  if (this === c.upstream) c.connected();
}

function onUpstreamError(this: net.Socket): void {
  const c = connOf(this);
  if (this !== c.upstream) return;
  if (c.state === 'connecting') { c.connectFailed(); return; }
  c.pool.serverFailed(c.server as RealServer); // a reset from the server (passive checks count it)
  c.close('server-error');
}

function onClientError(this: net.Socket): void {
  connOf(this).close('client-error');
}

function onSocketClose(this: net.Socket): void {
  const c = connOf(this);
  if (this !== c.client && this !== c.upstream) return;
  c.socketClosed();
}
