import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import net from 'node:net';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { CloseReason, ServiceConnection } from '../../core/connection.ts';
import type { Plane, PlaneContext } from '../../core/dataplane/plane.ts';
import { readShared, takeBytes } from '../../core/dataplane/reads.ts';
import { admit, boundPort, listenTcp } from '../../core/dataplane/tcp.ts';
import type { Template } from '../../core/persistence.ts';
import type { RealServer } from '../../core/server.ts';
import type { VirtualService } from '../../core/service.ts';
import type { TlsTerminationSpec } from '../../core/spec.ts';
import { Counters } from '../../core/stats.ts';
import { ChunkedDecoder } from '../../l7/http/chunked.ts';
import { requestFraming, type Framing } from '../../l7/http/framing.ts';
import { RequestHeadParser, type RequestHead } from '../../l7/http/request-head.ts';
import { HttpRouter, hostOf, pathOf } from '../../l7/http/router.ts';
import type { HttpError } from '../../l7/http/types.ts';
import type { Sticky, StickyRequest } from '../../l7/http/sticky.ts';
import { ownResponse, requestCookies, responseHead, upstreamFields, type ResponseFraming } from './http-message.ts';
import { httpStats } from './http-stats.ts';
import { PoolStickiness } from './http-sticky.ts';
import { findCookie } from '../../l7/http/cookie.ts';
import { httpSettings } from '../config/normalize.ts';
import type { HttpSettings, ServiceConfig } from '../config/types.ts';
import type { Directory } from '../mail/directory.ts';
import type { MailRouter } from '../mail/router.ts';

/** What webmail routing needs from the mail farm: its router (shared affinity) and its directories by name. */
export interface WebmailRouting {
  readonly router: MailRouter;
  directory(name: string): Directory | undefined;
}

/** Published for every request answered (built only when someone subscribes: the daemon's access log). */
export const accessChannel = channel('yoke:http:access');

/** The access-log record of one request. */
export interface AccessRecord {
  readonly id: string;
  readonly service: string;
  readonly pool: string;
  readonly client: string;
  readonly method: string;
  readonly target: string;
  readonly host: string;
  readonly status: number;
  readonly server: string | undefined;
  /** Milliseconds from the head read to the response head sent, and to the last byte. */
  readonly headerMs: number;
  readonly totalMs: number;
  readonly bytesOut: number;
  readonly retries: number;
  /** The error code when yoke refused the request itself (E_HTTP_*). */
  readonly code?: string | undefined;
}

/** The limits of a service built without a config's `http` (the director's own tests, benches): every default. */
const DEFAULT_HTTP: HttpSettings = Object.freeze(httpSettings());

/**
 * After yoke answered and closed its side, what the client still sends is read and dropped for this long (nginx's
 * lingering close): closing with unread bytes would reset the connection and could destroy the answer unread.
 */
const LINGER_MS = 5_000;

/** The keep-alive pool to one real server, and the settings it was made with (a reload that changes them makes another). */
interface Upstream {
  readonly pool: Pool;
  readonly connectMs: number;
  readonly idleMs: number;
  readonly connections: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

let requestSeq = 0;
const requestPrefix = randomBytes(4).toString('hex');

/**
 * mode http: an HTTP/1.1 reverse proxy. Client requests are read by yoke's own strict parser (l7/http), so the
 * smuggling shapes Node's parser lets through never reach a real server; each request is routed to a pool,
 * scheduled there like a connection, and sent through an undici pool of keep-alive connections to the chosen
 * server; the answer streams back with yoke's framing. Requests on one client connection are answered in order
 * (pipelined ones wait their turn in the buffer).
 */
export class HttpPlane implements Plane {
  readonly service: VirtualService;
  readonly ctx: PlaneContext;
  readonly #server: net.Server;
  /** 'https' when the listener terminates TLS (a certificate in the service's tls). */
  readonly proto: 'http' | 'https';
  #tls: TlsTerminationSpec | undefined = undefined;
  readonly #upstreams = new Map<RealServer, Upstream>();
  readonly stickiness: PoolStickiness;
  /** Webmail: the mail farm's router and directories, for services that route by a mail user. */
  readonly mail: WebmailRouting | undefined;
  #router: HttpRouter | undefined;
  #routes: unknown;

  constructor(service: VirtualService, ctx: PlaneContext, mail?: WebmailRouting) {
    this.service = service;
    this.ctx = ctx;
    this.mail = mail;
    this.stickiness = new PoolStickiness(ctx.clock);
    // Half-open: a client that sends its requests and shuts its side still gets every answer.
    const spec = service.spec.tls;
    this.proto = spec === undefined ? 'http' : 'https';
    if (spec === undefined) {
      this.#server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    } else {
      this.#tls = spec;
      const server = tls.createServer({ allowHalfOpen: true, cert: spec.cert, key: spec.key, ALPNProtocols: ['http/1.1'] }, (socket) => this.#accept(socket));
      // Before each handshake: a reload that read new certificate files takes effect for the next client, no restart.
      server.prependListener('connection', () => this.#freshCertificate(server));
      server.on('tlsClientError', () => {});
      this.#server = server;
    }
    this.#server.on('error', () => {});
    const gone = (server: RealServer, reset: boolean) => {
      const up = this.#upstreams.get(server);
      if (up !== undefined) { this.#upstreams.delete(server); void up.pool.destroy().catch(() => {}); }
      if (reset) for (const c of service.connections) (c as HttpConnection).serverGone(server);
    };
    service.onServerGone = gone;
  }

  get port(): number { return boundPort(this.#server); }

  listen(): Promise<void> { return listenTcp(this.#server, this.service); }

  close(): Promise<void> {
    if (this.#server.listening) this.#server.close();
    for (const up of this.#upstreams.values()) void up.pool.close().catch(() => {});
    this.#upstreams.clear();
    return Promise.resolve();
  }

  #freshCertificate(server: tls.Server): void {
    const spec = this.service.spec.tls;
    if (spec === undefined || spec === this.#tls) return;
    this.#tls = spec;
    server.setSecureContext({ cert: spec.cert, key: spec.key });
  }

  /** The router for the service's current routes (a reload may have replaced them). */
  router(): HttpRouter | undefined {
    const routes = this.service.spec.routes;
    if (routes !== this.#routes) { this.#routes = routes; this.#router = routes === undefined ? undefined : new HttpRouter(routes); }
    return this.#router;
  }

  /** The service's current limits (a reload may have replaced them): read once per request. */
  limits(): HttpSettings {
    return (this.service.spec as ServiceConfig).http ?? DEFAULT_HTTP;
  }

  /**
   * The keep-alive connection pool to one real server. A reload that changed how its connections are made
   * (connect_timeout, server_idle_timeout, server_connections) gets a new pool for new requests; the old one
   * finishes the requests it holds, then closes.
   */
  upstream(server: RealServer, pool: VirtualService, limits: HttpSettings): Pool {
    const connectMs = pool.spec.connectTimeoutMs;
    let up = this.#upstreams.get(server);
    if (up !== undefined && (up.connectMs !== connectMs || up.idleMs !== limits.serverIdleTimeoutMs || up.connections !== limits.serverConnections)) {
      void up.pool.close().catch(() => {});
      up = undefined;
    }
    if (up === undefined) {
      const { host, port, family } = server.address;
      up = {
        pool: new Pool(`http://${family === 6 ? `[${host}]` : host}:${port}`, {
          connect: { timeout: connectMs },
          connections: limits.serverConnections === 0 ? null : limits.serverConnections,
          // The server's Keep-Alive hint may shorten the idle time, never lengthen it.
          keepAliveTimeout: limits.serverIdleTimeoutMs,
          keepAliveMaxTimeout: limits.serverIdleTimeoutMs,
          headersTimeout: limits.serverHeadersTimeoutMs,
          bodyTimeout: limits.serverBodyTimeoutMs,
        }),
        connectMs, idleMs: limits.serverIdleTimeoutMs, connections: limits.serverConnections,
      };
      this.#upstreams.set(server, up);
    }
    return up.pool;
  }

  #accept(socket: net.Socket): void {
    admit(this.service, socket, () => new HttpConnection(this, socket));
  }
}

/** One client connection: reads requests in turn, one exchange at a time. It is the front's connection-table entry. */
class HttpConnection implements ServiceConnection {
  readonly plane: HttpPlane;
  readonly socket: net.Socket;
  key: string | undefined = undefined;
  server: RealServer | undefined = undefined;
  template: Template | undefined = undefined;
  tried: RealServer[] | undefined = undefined;
  state: ServiceConnection['state'] = 'established';
  expiresAt: number;
  gone = false;
  tableIndex: number | undefined = undefined;
  /** The limits of the request being read: the service's when its head began (a reload applies to the next one). */
  #limits: HttpSettings;
  #parser: RequestHeadParser;
  #buffer: Buffer = Buffer.alloc(0);
  #exchange: Exchange | undefined = undefined;
  #clientIp: string | undefined;
  /** The client half-closed: the answers still due are sent, then the connection ends. */
  #ended = false;
  /** yoke ended its side: what the client still sends is dropped until it closes too, or LINGER_MS pass. */
  #closing = false;
  /** After a protocol switch: the server connection the client's bytes go to. */
  #tunnel: net.Socket | undefined = undefined;

  constructor(plane: HttpPlane, socket: net.Socket) {
    this.plane = plane;
    this.socket = socket;
    this.#limits = plane.limits();
    this.#parser = new RequestHeadParser(this.#limits.head);
    this.expiresAt = plane.ctx.clock.now() + this.#limits.headerTimeoutMs; // a first request is due from the start
    plane.ctx.wheel.schedule(this);
    // Plain sockets read into the shared buffer (core/dataplane/reads.ts) and keep a copy; TLS sockets keep 'data'.
    (socket as Tagged)[kConn] = this;
    if (socket instanceof tls.TLSSocket || !readShared(socket, onClientRead)) socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('error', () => this.close('client-error'));
    socket.on('close', () => this.#finish('done'));
    socket.on('end', () => { this.#ended = true; if (this.#exchange === undefined) this.socket.end(); });
    socket.on('drain', () => this.#exchange?.clientDrained());
  }

  get clientIp(): string { return (this.#clientIp ??= this.socket.remoteAddress ?? ''); }
  get clientPort(): number { return this.socket.remotePort ?? 0; }

  /**
   * The wheel says time is up: a head not complete in time gets 408; an idle keep-alive connection just closes; a
   * request body that stalled is cut (408 while no answer began); a lingering close ends.
   */
  expire(): void {
    const ex = this.#exchange;
    if (ex !== undefined) {
      if (!ex.wantsBody) return;
      // Paused by yoke itself (the server reads slowly): that wait is not the client's.
      if (this.socket.isPaused()) { this.#deadline(ex.limits.bodyTimeoutMs); return; }
      ex.bodyStalled();
      return;
    }
    if (this.#closing) this.close('timeout');
    else if (this.#buffer.length > 0) this.#refuse(408, 'the request head did not arrive in time', 'E_HTTP_TIMEOUT');
    else this.close('timeout');
  }

  close(_reason: CloseReason): void {
    this.#exchange?.abort();
    if (!this.socket.destroyed) this.socket.destroy();
    this.#finish('done');
  }

  /** A server removed with reset: an exchange on it is cut. */
  serverGone(server: RealServer): void {
    if (this.#exchange?.server === server) this.close('server-removed');
  }

  #finish(_reason: CloseReason): void {
    if (this.gone) return;
    this.gone = true;
    this.plane.ctx.wheel.cancel(this);
    this.plane.service.connections.delete(this);
    this.#exchange?.abort();
  }

  /** Client bytes (a copy the connection owns). */
  data(chunk: Buffer): void {
    this.#data(chunk);
  }

  /** From now on the client's bytes go to `up` as they are (a protocol switch), with backpressure. */
  tunnelTo(up: net.Socket): void {
    this.#tunnel = up;
    up.on('drain', () => this.socket.resume());
  }

  /** The exchange reads a request body: it must keep coming, each read within body_timeout. */
  watchBody(ms: number): void {
    this.#deadline(ms);
  }

  /** The request body is whole (or was cut): no deadline until the exchange ends. */
  bodyDone(): void {
    this.expiresAt = Infinity;
    this.plane.ctx.wheel.cancel(this);
  }

  #data(chunk: Buffer): void {
    if (this.#closing) return;
    const tunnel = this.#tunnel;
    if (tunnel !== undefined) { if (!tunnel.write(chunk)) this.socket.pause(); return; }
    const ex = this.#exchange;
    // Each read of body bytes pushes the body deadline (the wheel refiles it lazily: a field write per read).
    if (ex !== undefined && ex.wantsBody) { this.expiresAt = this.plane.ctx.clock.now() + ex.limits.bodyTimeoutMs; ex.body(chunk); return; }
    // The head deadline runs from a head's first byte and is not pushed by later bytes: a trickle cannot hold on.
    if (this.#buffer.length === 0 && ex === undefined) this.#deadline(this.#limits.headerTimeoutMs);
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (ex === undefined) this.#next();
  }

  /** Parses the next request from the buffer (pipelined requests wait here for their turn). */
  #next(): void {
    if (this.gone || this.#closing || this.#buffer.length === 0) return;
    const r = this.#parser.parse(this.#buffer);
    if (r.kind === 'need-more') return;
    if (r.kind === 'error') { this.#refuse(r.status, r.reason, r.code); return; }
    const head = r.head;
    const framing = requestFraming(head);
    if (framing.kind === 'error') { this.#refuse((framing as HttpError).status, (framing as HttpError).reason, (framing as HttpError).code); return; }
    // The head is copied out: the buffer is reused for what follows.
    const rest = this.#buffer.subarray(head.consumed);
    this.#buffer = Buffer.alloc(0);
    this.expiresAt = Infinity;
    this.plane.ctx.wheel.cancel(this);
    this.#exchange = new Exchange(this, head, framing as Framing, this.#limits);
    this.#exchange.start(rest);
  }

  /** An exchange ended: keep-alive goes on to the next request (maybe already buffered); else the connection ends. */
  exchangeDone(keepAlive: boolean, leftover: Buffer | undefined): void {
    this.#exchange = undefined;
    if (this.gone) return;
    if (!keepAlive || (this.#ended && this.#buffer.length === 0 && (leftover === undefined || leftover.length === 0))) { this.#linger(); return; }
    // The next request is read with the limits in force now.
    const limits = this.plane.limits();
    if (limits.head !== this.#limits.head) this.#parser = new RequestHeadParser(limits.head);
    else this.#parser.reset();
    this.#limits = limits;
    if (leftover !== undefined && leftover.length > 0) this.#buffer = this.#buffer.length === 0 ? leftover : Buffer.concat([leftover, this.#buffer]);
    this.#deadline(this.#buffer.length > 0 ? limits.headerTimeoutMs : limits.idleTimeoutMs);
    if (this.socket.isPaused()) this.socket.resume();
    this.#next();
  }

  /** Ends yoke's side and drops what the client still sends, until it closes or LINGER_MS pass. */
  #linger(): void {
    this.#closing = true;
    this.#buffer = Buffer.alloc(0);
    this.socket.end();
    if (this.socket.isPaused()) this.socket.resume();
    this.#deadline(LINGER_MS);
  }

  #deadline(ms: number): void {
    this.expiresAt = this.plane.ctx.clock.now() + ms;
    this.plane.ctx.wheel.schedule(this);
  }

  /** Answers a bad request itself and closes: nothing of it reaches a real server. */
  #refuse(status: number, reason: string, code: string): void {
    if (this.gone) return;
    const id = nextRequestId();
    if (!this.socket.destroyed) this.socket.write(ownResponse(status, reason, id, true));
    publishAccess({
      id, service: this.plane.service.name, pool: '', client: this.clientIp, method: '', target: '', host: '', status,
      server: undefined, headerMs: 0, totalMs: 0, bytesOut: 0, retries: 0, code,
    });
    this.#exchange = undefined;
    this.#linger();
  }
}

const kConn = Symbol('yoke.http.conn');
type Tagged = net.Socket & { [kConn]: HttpConnection };

function onClientRead(this: net.Socket, nread: number, buffer: Buffer): boolean {
  (this as Tagged)[kConn].data(takeBytes(buffer, nread));
  return true; // backpressure is the body stream's: it pauses the socket itself
}

function nextRequestId(): string {
  return `${requestPrefix}-${(++requestSeq).toString(36)}`;
}

function publishAccess(r: AccessRecord): void {
  if (accessChannel.hasSubscribers) accessChannel.publish(r);
}

/**
 * One request and its answer. Scheduled in its pool like a connection (so least-connection schedulers count
 * requests in flight), dispatched through undici, retried on another server when an idempotent request without a
 * body fails to connect or is reset before any byte of the answer, and streamed back with backpressure both ways.
 */
class Exchange implements ServiceConnection, Dispatcher.DispatchHandler {
  readonly conn: HttpConnection;
  readonly head: RequestHead;
  readonly framing: Framing;
  /** The service's limits when the request's head began: they hold for the whole exchange. */
  readonly limits: HttpSettings;
  readonly id = nextRequestId();
  readonly startedAt = Date.now();
  readonly #t0 = performance.now();
  key: string | undefined = undefined;
  server: RealServer | undefined = undefined;
  template: Template | undefined = undefined;
  tried: RealServer[] | undefined = undefined;
  state: ServiceConnection['state'] = 'connecting';
  expiresAt = Infinity;
  gone = false;
  pool: VirtualService;
  #host = '';
  /** The request body as undici reads it, and whether client bytes still belong to it. */
  #body: Readable | undefined = undefined;
  #receiving = false;
  #bodyLeft = 0;
  /** Decoded bytes of a chunked body so far (against max_body_size). */
  #bodyBytes = 0;
  #chunked: ChunkedDecoder | undefined = undefined;
  /** The error code when yoke answered the request itself (E_HTTP_*), for the access record. */
  #code: string | undefined = undefined;
  /** Bytes after this request's body (a pipelined request), handed back when the exchange ends. */
  #leftover: Buffer | undefined = undefined;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #responded = false;
  #out: ResponseFraming = 'none';
  #keepAlive: boolean;
  #status = 0;
  #headerAt = 0;
  #bytesOut = 0;
  #retries = 0;
  #upgrade: net.Socket | undefined = undefined;
  /** The pool's cookie stickiness and what the request's cookie said; the Cookie to forward (null = none, undefined = as sent). */
  #sticky: Sticky | undefined = undefined;
  /** Webmail: the user, the server the mail router chose, and the server whose affinity this request holds. */
  #user: string | undefined = undefined;
  #forced: string | undefined = undefined;
  #entered: RealServer | undefined = undefined;
  #stuck: StickyRequest | undefined = undefined;
  #cookie: string | null | undefined = undefined;

  constructor(conn: HttpConnection, head: RequestHead, framing: Framing, limits: HttpSettings) {
    this.conn = conn;
    this.head = head;
    this.framing = framing;
    this.limits = limits;
    this.pool = conn.plane.service;
    this.#keepAlive = framing.keepAlive;
  }

  get clientIp(): string { return this.conn.clientIp; }
  get clientPort(): number { return this.conn.clientPort; }

  /** True while client bytes belong to this request's body. */
  get wantsBody(): boolean { return this.#receiving; }

  /**
   * Its wheel deadline passed before the server's answer began: a tunnel's server did not accept the connection
   * (502, connect_timeout) or answer the upgrade (504); a server did not begin its answer after the body (504).
   */
  expire(): void {
    if (this.gone || this.#responded) return;
    const up = this.#upgrade;
    const connecting = up !== undefined && up.connecting;
    if (connecting) this.pool.serverFailed(this.server as RealServer);
    const controller = this.#controller;
    if (connecting) this.#ownAfterAssign(502, 'the real server did not accept the connection in time');
    else this.#ownAfterAssign(504, 'the real server did not answer in time');
    controller?.abort(new Error('the real server did not answer in time'));
    up?.destroy();
  }

  close(_reason: CloseReason): void { this.abort(); }

  #deadline(ms: number): void {
    this.expiresAt = this.conn.plane.ctx.clock.now() + ms;
    this.conn.plane.ctx.wheel.schedule(this);
  }

  #noDeadline(): void {
    if (this.expiresAt === Infinity) return;
    this.expiresAt = Infinity;
    this.conn.plane.ctx.wheel.cancel(this);
  }

  start(rest: Buffer): void {
    const { head, framing } = this;
    const service = this.conn.plane.service;
    const max = this.limits.maxBodySize;
    if (framing.body === 'length' && max > 0 && framing.length > max) {
      // Refused on its Content-Length, before any route or server: nothing of it is sent on (nor a 100 Continue).
      this.#keepAlive = false;
      this.#code = 'E_HTTP_BODY_TOO_LARGE';
      this.#own(413, `the request body (${framing.length} bytes) is larger than the limit of ${max} bytes`, undefined);
      return;
    }
    this.#host = hostOf(head.authority);
    const path = pathOf(head.target);
    const router = this.conn.plane.router();
    if (router !== undefined) {
      const name = router.route(head, this.#host, path);
      const pool = name === undefined ? undefined : service.pools.get(name);
      if (pool === undefined) { this.#own(503, 'no route for this request', rest); return; }
      this.pool = pool;
    }
    this.key = `${this.#host}${path}`;
    if (framing.body === 'length') { this.#bodyLeft = framing.length; this.#openBody(); }
    else if (framing.body === 'chunked') { this.#chunked = new ChunkedDecoder(); this.#openBody(); }
    else this.#leftover = rest;
    if (framing.expectContinue && this.#receiving) this.conn.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    if (this.#receiving && rest.length > 0) this.body(rest); // buffered in the body stream until a server reads it
    if (this.gone) return; // the body already broke (and was answered)
    const user = this.#webmailUser();
    if (user !== undefined) { void this.#routeUser(user, rest); return; }
    this.#proceed(rest);
  }

  /** Scheduled (the webmail user's route decided, when there is one): dispatch, or tunnel. */
  #proceed(rest: Buffer): void {
    if (this.gone) return;
    if (!this.#schedule()) { this.#own(503, 'no real server is available', undefined); return; }
    this.pool.stats.conns++;
    // A protocol switch, and OPTIONS * (which undici cannot send), go over a connection of their own.
    if (this.framing.upgrade !== undefined || this.head.form === 'asterisk') { this.#tunnel(rest); return; }
    this.#dispatch();
  }

  /** Webmail: the mail user a request names (by the header or cookie the pool's webmail_user says), if any. */
  #webmailUser(): string | undefined {
    const w = (this.pool.spec as ServiceConfig).webmailUser;
    if (w === undefined || this.conn.plane.mail === undefined) return undefined;
    const user = w.header !== undefined ? this.head.get(w.header) : findCookie(requestCookies(this.head), w.cookie as string);
    return user === undefined || user === '' ? undefined : user;
  }

  /**
   * Webmail goes where the user's mail sessions go (the mail router: the directory's home, else the affinity of
   * open sessions, else the user's hash), so the webmail server and the IMAP server of a user are one machine.
   */
  async #routeUser(user: string, rest: Buffer): Promise<void> {
    const mail = this.conn.plane.mail as WebmailRouting;
    const name = (this.pool.spec as ServiceConfig).directory;
    const route = await mail.router.route(this.pool, name === undefined ? undefined : mail.directory(name), user);
    if (this.gone) return;
    if (route.kind === 'temp-failure') { this.#own(503, `the user's server is not available: ${route.reason}`, undefined); return; }
    if (route.kind === 'server') { this.#user = user; this.#forced = route.server.id; }
    this.#proceed(rest);
  }

  /** Unbinds from the server (and the webmail user's affinity). */
  #release(): void {
    if (this.#entered !== undefined) { this.conn.plane.mail?.router.leave(this.#user as string, this.#entered); this.#entered = undefined; }
    this.pool.release(this);
  }

  /** The server its sticky cookie names when it can still take the request, else the pool's choice. */
  #schedule(): boolean {
    if (this.#forced !== undefined) {
      if (!this.pool.assignSticky(this, this.#forced)) return false;
      const server = this.server as RealServer;
      if (server.id === this.#forced) { this.conn.plane.mail?.router.enter(this.#user as string, server); this.#entered = server; }
      return true;
    }
    const sticky = (this.#sticky = this.conn.plane.stickiness.of(this.pool));
    if (sticky === undefined) return this.pool.assign(this);
    const cookies = requestCookies(this.head);
    const stuck = (this.#stuck = sticky.request(cookies));
    if (stuck.cookie !== cookies) this.#cookie = stuck.cookie ?? null;
    return stuck.server === undefined ? this.pool.assign(this) : this.pool.assignSticky(this, stuck.server);
  }

  #openBody(): void {
    this.#body = new Readable({ read: () => { if (this.conn.socket.isPaused()) this.conn.socket.resume(); } });
    this.#body.on('error', () => {}); // a broken body is answered by yoke; undici aborts its request on its own listener
    this.#receiving = true;
    this.conn.watchBody(this.limits.bodyTimeoutMs);
  }

  /** Client bytes of the request body: passed on exactly to the body's end; what follows is the next request. */
  body(chunk: Buffer): void {
    const bodyIn = this.#body as Readable;
    let more = true;
    if (this.#chunked !== undefined) {
      const max = this.limits.maxBodySize;
      let over = false;
      const r = this.#chunked.decode(chunk, 0, chunk.length, (b, s, e) => {
        if (over || (max > 0 && (this.#bodyBytes += e - s) > max)) { over = true; return; } // nothing past the limit goes on
        more = bodyIn.push(Buffer.from(b.subarray(s, e))) && more;
        this.#countIn(e - s);
      });
      if (over) { this.#cutBody(413, `the chunked request body grew past the limit of ${max} bytes`, 'E_HTTP_BODY_TOO_LARGE'); return; }
      if (r.kind === 'error') { this.#cutBody(400, `bad chunked body: ${r.reason}`, 'E_HTTP_CHUNKED'); return; }
      if (r.kind === 'done') { this.#endBody(chunk.subarray(r.next)); return; }
    } else {
      const take = Math.min(this.#bodyLeft, chunk.length);
      if (take > 0) { more = bodyIn.push(chunk.subarray(0, take)); this.#bodyLeft -= take; this.#countIn(take); }
      if (this.#bodyLeft === 0) { this.#endBody(chunk.subarray(take)); return; }
    }
    if (!more) this.conn.socket.pause();
  }

  #countIn(n: number): void {
    const server = this.server;
    if (server !== undefined) Counters.countIn(this.pool.stats, server.stats, n);
  }

  #endBody(rest: Buffer): void {
    this.#receiving = false;
    this.#leftover = rest;
    this.conn.bodyDone();
    (this.#body as Readable).push(null);
    if (this.#controller !== undefined) this.#awaitAnswer();
  }

  /**
   * A request with a body: the server's time to begin its answer runs from the body's end (undici's own timer would
   * run from the head, and cut a slow upload that is still coming).
   */
  #awaitAnswer(): void {
    if (!this.#responded && !this.gone) this.#deadline(this.limits.serverHeadersTimeoutMs);
  }

  /** The client stopped sending its body for body_timeout: cut as a broken body is. */
  bodyStalled(): void {
    this.#cutBody(408, 'the request body did not arrive in time', 'E_HTTP_BODY_TIMEOUT');
  }

  /**
   * A body that broke (bad chunk), grew past max_body_size or stalled: nothing after that byte goes on, the upstream
   * request is aborted, and the client is told (400, 413, 408) while no answer began, else its connection is closed.
   */
  #cutBody(status: number, detail: string, code: string): void {
    this.#receiving = false;
    this.#keepAlive = false;
    this.conn.bodyDone();
    const err = new Error(detail);
    if (this.#responded) { this.#body?.destroy(err); this.conn.close('client-error'); return; }
    const controller = this.#controller;
    this.#code = code;
    this.#ownAfterAssign(status, detail); // first: undici may call back synchronously when aborted
    controller?.abort(err);
    this.#body?.destroy(err);
  }

  #dispatch(): void {
    const { head, framing } = this;
    const server = this.server as RealServer;
    const plane = this.conn.plane;
    const fields = upstreamFields(head, { ip: this.clientIp, proto: this.conn.plane.proto }, head.authority, this.id, framing.body === 'length' ? framing.length : undefined, undefined, this.#cookie);
    const target = head.form === 'absolute' ? pathAndQuery(head.target) : head.target;
    this.state = 'established';
    const limits = this.limits;
    plane.upstream(server, this.pool, limits).dispatch({
      path: target, method: head.method, headers: fields,
      body: this.#body ?? null,
      idempotent: false, // yoke decides retries itself, before any byte of the answer
      // With a body, yoke times the answer from the body's end itself (#awaitAnswer).
      headersTimeout: this.#body === undefined ? limits.serverHeadersTimeoutMs : 0,
      bodyTimeout: limits.serverBodyTimeoutMs,
    }, this);
  }

  // --- undici's handler: the answer ---

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // Ended while it waited in undici's queue (server_connections): it never goes out.
    if (this.gone) { controller.abort(new Error('the request was already answered or abandoned')); return; }
    if (this.#body !== undefined && !this.#receiving) this.#awaitAnswer();
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    if (statusCode < 200) return; // 1xx from the server: yoke already answered 100 Continue itself
    this.#responded = true;
    this.#noDeadline();
    this.#status = statusCode;
    this.#headerAt = Date.now();
    const server = this.server as RealServer;
    this.pool.serverWorked(server);
    if (this.#sticky !== undefined) {
      const set = headers['set-cookie'];
      const given = typeof set === 'string' ? [set] : set;
      const out = this.#sticky.response(given, server.id, this.#stuck as StickyRequest);
      if (out !== given) headers['set-cookie'] = out === undefined ? undefined : [...out];
    }
    const r = responseHead(statusCode, statusMessage, headers, this.head.method, this.head.version, this.#keepAlive);
    this.#out = r.framing;
    this.#keepAlive = r.keepAlive;
    // The head and whatever of the body arrives in the same turn leave in one write(v): corked until the next tick.
    const socket = this.conn.socket;
    socket.cork();
    process.nextTick(uncork, socket);
    if (!socket.write(r.head, 'latin1')) controller.pause(); // field values are latin1 text: one char per byte
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const socket = this.conn.socket;
    this.#bytesOut += chunk.length;
    Counters.countOut(this.pool.stats, (this.server as RealServer).stats, chunk.length);
    let ok: boolean;
    if (this.#out === 'chunked') {
      socket.cork(); // size line, data and CRLF in one writev
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      ok = socket.write('\r\n');
      socket.uncork();
    }
    else if (this.#out === 'none') ok = true;
    else ok = socket.write(chunk);
    if (!ok) controller.pause();
  }

  /** The client socket drained: let the server's answer flow again. */
  clientDrained(): void {
    const c = this.#controller;
    if (c !== undefined && c.paused) c.resume();
  }

  onResponseEnd(): void {
    if (this.#out === 'chunked') this.conn.socket.write('0\r\n\r\n');
    this.#done(this.#out === 'close' ? false : this.#keepAlive && !this.#receiving);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.gone) return;
    const server = this.server as RealServer;
    const code = (err as NodeJS.ErrnoException).code ?? ((err.cause as NodeJS.ErrnoException | undefined)?.code);
    if (this.#responded) { this.#release(); this.gone = true; this.conn.close('server-error'); return; }
    if (code !== undefined && RETRYABLE.has(code)) this.pool.serverFailed(server);
    const replayable = this.framing.body === 'none' && IDEMPOTENT.has(this.head.method);
    if (replayable && code !== undefined && RETRYABLE.has(code)) {
      this.pool.unassignFailed(this);
      if ((this.tried as RealServer[]).length <= this.pool.spec.retries && this.pool.assign(this)) { this.#retries++; this.#dispatch(); return; }
      this.#ownAfterAssign(502, `no real server answered (${code})`, true);
      return;
    }
    const timeout = code === 'UND_ERR_HEADERS_TIMEOUT';
    this.#ownAfterAssign(timeout ? 504 : 502, timeout ? 'the real server did not answer in time' : `the real server failed: ${code ?? err.message}`);
  }

  /**
   * A connection of its own to the chosen server: the head goes first, then bytes flow both ways as they are. For a
   * protocol switch (WebSocket and the like) that is the tunnel; for OPTIONS * the server answers and closes.
   */
  #tunnel(rest: Buffer): void {
    const { head } = this;
    const server = this.server as RealServer;
    const fields = upstreamFields(head, { ip: this.clientIp, proto: this.conn.plane.proto }, head.authority, this.id, undefined, this.framing.upgrade);
    if (this.framing.upgrade === undefined) fields.push('connection', 'close');
    let text = `${head.method} ${head.target} HTTP/1.1\r\n`;
    for (let i = 0; i < fields.length; i += 2) text += `${fields[i]}: ${fields[i + 1]}\r\n`;
    const up = net.connect(server.address.port, server.address.host);
    this.#upgrade = up;
    const client = this.conn.socket;
    up.setNoDelay(true);
    up.write(text + '\r\n');
    if (rest.length > 0) up.write(rest);
    // No bare connect: the server has connect_timeout to accept, then server_headers_timeout to answer (expire()).
    this.#deadline(this.pool.spec.connectTimeoutMs);
    up.on('connect', () => { this.state = 'established'; this.pool.serverWorked(server); this.#deadline(this.limits.serverHeadersTimeoutMs); });
    up.on('error', () => {
      if (this.gone) return;
      if (!this.#responded) this.#ownAfterAssign(502, 'the real server refused the upgrade connection');
      else this.conn.close('server-error');
    });
    this.conn.tunnelTo(up);
    up.once('data', () => { this.#responded = true; this.#status = 101; this.#headerAt = Date.now(); this.#noDeadline(); });
    up.pipe(client);
    // Once yoke answered itself (502, 504) the client connection closes after that answer, not at once.
    up.on('close', () => { if (this.gone) return; this.#done(false); client.destroy(); });
    client.on('close', () => up.destroy());
  }

  /** yoke answers itself before any server was chosen (no route, no server). */
  #own(status: number, detail: string, rest: Buffer | undefined): void {
    this.#status = status;
    this.#headerAt = Date.now();
    this.#responded = true;
    const close = !this.#keepAlive || this.#receiving;
    this.conn.socket.write(ownResponse(status, detail, this.id, close));
    this.gone = true;
    this.#noDeadline();
    this.#log();
    this.conn.exchangeDone(!close, rest ?? this.#leftover);
  }

  #ownAfterAssign(status: number, detail: string, alreadyReleased = false): void {
    this.#status = status;
    this.#headerAt = Date.now();
    this.#responded = true;
    this.conn.socket.write(ownResponse(status, detail, this.id, true));
    this.gone = true;
    this.#noDeadline();
    this.#log();
    if (!alreadyReleased) this.#release();
    this.conn.exchangeDone(false, undefined);
  }

  #done(keepAlive: boolean): void {
    if (this.gone) return;
    this.gone = true;
    this.#noDeadline();
    this.#log();
    this.#release();
    this.conn.exchangeDone(keepAlive, this.#leftover);
  }

  abort(): void {
    if (this.gone) return;
    this.gone = true;
    this.#noDeadline();
    this.#controller?.abort(new Error('client went away'));
    this.#body?.destroy();
    this.#upgrade?.destroy();
    this.#release();
  }

  /** Counts the answer in the pool's and the server's HTTP stats, and tells the access log (when one listens). */
  #log(): void {
    const micros = (performance.now() - this.#t0) * 1000;
    httpStats(this.pool).record(this.#status, micros);
    if (this.server !== undefined) httpStats(this.server).record(this.#status, micros);
    if (!accessChannel.hasSubscribers) return;
    const now = Date.now();
    publishAccess({
      id: this.id, service: this.conn.plane.service.name, pool: this.pool.name, client: this.clientIp, method: this.head.method,
      target: this.head.target, host: this.#host, status: this.#status, server: this.server?.id, headerMs: this.#headerAt - this.startedAt,
      totalMs: now - this.startedAt, bytesOut: this.#bytesOut, retries: this.#retries, code: this.#code,
    });
  }
}

function uncork(socket: net.Socket): void {
  socket.uncork();
}

/** The origin-form of an absolute-form target (`http://a/b?c` → `/b?c`). */
function pathAndQuery(target: string): string {
  const scheme = target.indexOf('://');
  const slash = target.indexOf('/', scheme + 3);
  return slash < 0 ? '/' : target.slice(slash);
}
