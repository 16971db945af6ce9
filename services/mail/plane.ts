// mode imap, pop3 and smtp: yoke holds the login dialogue itself (l7/mail), asks the router where the user lives,
// logs in there the way the client did, and from then on copies bytes both ways (SMTP delivery instead stays in the
// dialogue, which streams each message to its transaction's server). The dialogue decides; this file only performs
// its actions on sockets and feeds back what happened.
import { channel } from 'node:diagnostics_channel';
import net from 'node:net';
import tls from 'node:tls';
import type { CloseReason, ServiceConnection } from '../../core/connection.ts';
import type { Plane, PlaneContext } from '../../core/dataplane/plane.ts';
import { admit, boundPort, listenTcp, resetConnectionsOf } from '../../core/dataplane/tcp.ts';
import type { Template } from '../../core/persistence.ts';
import type { RealServer } from '../../core/server.ts';
import type { VirtualService } from '../../core/service.ts';
import type { TlsTerminationSpec } from '../../core/spec.ts';
import { Counters } from '../../core/stats.ts';
import { upgradeStart, upgradeStep } from '../../l7/mail/backend-starttls.ts';
import type { LookupAnswer, MailAction, MailEvent } from '../../l7/mail/types.ts';
import { startDialogue, type Dialogue } from './dialogue.ts';
import type { Directory } from './directory.ts';
import type { MailRouter } from './router.ts';
import { isMailMode, type BackendTls, type MailMode, type MailSpec } from './settings.ts';

/** Published for every routed login or recipient: `{ service, user, server, why }`, or `{ service, user, failure }`. */
export const mailRouteChannel = channel('yoke:mail:route');

/** Fixed limits of the mail front (the login deadline is the service's login_timeout). */
export const MAIL_LIMITS = Object.freeze({
  /** After yoke's last words, the client has this long to read them before the socket is destroyed. */
  lingerMs: 5_000,
});

/** What the mail planes share: the router (and its affinity table) and the directories by name. */
export interface MailDeps {
  readonly router: MailRouter;
  /** The directory of this name now (a reload may replace it); undefined = none configured. */
  directory(name: string): Directory | undefined;
}

/** The mail settings of a service's spec (the config layer puts them on mail services). */
export function mailSpecOf(service: VirtualService): MailSpec {
  const spec = service.spec as { mail?: MailSpec; directory?: string };
  return spec.mail ?? { tlsMode: 'off', loginTimeoutMs: 30_000, backendTls: undefined, smtp: { auth: true, delivery: true, hostname: 'yoke' } };
}

/** tls.connect options for a mail server: its CA, whether to verify, and the name to send and check. */
function backendTlsOptions(b: BackendTls, server: RealServer): tls.ConnectionOptions {
  const name = b.serverName ?? server.name ?? server.address.host;
  return {
    // Node passes allowHalfOpen on to the TLSSocket; its types leave it out of tls.connect's options.
    ...({ allowHalfOpen: true } as tls.ConnectionOptions),
    rejectUnauthorized: b.verify,
    ...(b.ca === undefined ? {} : { ca: b.ca }),
    // SNI takes no IP address (RFC 6066 3); Node then checks the certificate against the host connected to.
    ...(net.isIP(name) === 0 ? { servername: name } : {}),
  };
}

/** How a STARTTLS upgrade toward a mail server ended: the TLS socket over the same connection, or why not. */
type Upgraded =
  | { readonly kind: 'secure'; readonly socket: tls.TLSSocket; readonly greeting: Uint8Array }
  | { readonly kind: 'failed'; readonly reason: string };

/**
 * Runs the protocol's STARTTLS (l7/mail/backend-starttls.ts) on a clear connection to a mail server, then the TLS
 * handshake over it with `options` (the certificate checked as configured); calls `done` once. Each step is bounded
 * by `timeoutMs` of silence, as a connect is. On failure the connection is destroyed.
 */
function startTlsOver(plain: net.Socket, proto: MailMode, hostname: string, options: tls.ConnectionOptions, timeoutMs: number, done: (r: Upgraded) => void): void {
  let state = upgradeStart(proto, hostname);
  let finished = false;
  let secure: tls.TLSSocket | undefined;
  const failed = (reason: string): void => {
    if (finished) return;
    finished = true;
    secure?.destroy();
    plain.destroy();
    done({ kind: 'failed', reason });
  };
  const onError = (err: NodeJS.ErrnoException): void => failed(err.code ?? err.message);
  const onTimeout = (): void => failed('connect timeout');
  const onEnd = (): void => failed('the server closed the connection');
  const clear = [['data', onData], ['error', onError], ['timeout', onTimeout], ['end', onEnd], ['close', onEnd]] as const;
  function onData(chunk: Buffer): void {
    const r = upgradeStep(state, chunk);
    state = r.state;
    for (const a of r.actions) {
      if (a.type === 'send') plain.write(a.bytes);
      else if (a.type === 'fail') return failed(a.reason);
      else return handshake(a.greeting);
    }
  }
  function handshake(greeting: Uint8Array): void {
    for (const [event, f] of clear) plain.off(event, f);
    plain.setTimeout(0);
    const s = tls.connect({ ...options, socket: plain });
    secure = s;
    const events = [['error', onError], ['timeout', onTimeout], ['end', onEnd], ['close', onEnd]] as const;
    for (const [event, f] of events) s.on(event, f);
    s.setTimeout(timeoutMs);
    s.once('secureConnect', () => {
      if (finished) return;
      finished = true;
      for (const [event, f] of events) s.off(event, f);
      s.setTimeout(0);
      done({ kind: 'secure', socket: s, greeting });
    });
  }
  plain.setTimeout(timeoutMs);
  for (const [event, f] of clear) plain.on(event, f);
}

const contexts = new WeakMap<TlsTerminationSpec, tls.SecureContext>();

function secureContext(spec: TlsTerminationSpec): tls.SecureContext {
  let c = contexts.get(spec);
  if (c === undefined) { c = tls.createSecureContext({ cert: spec.cert, key: spec.key }); contexts.set(spec, c); }
  return c;
}

/** The listener of one mail service. Implicit TLS is started per connection, so a reload may change tls_mode. */
export class MailPlane implements Plane {
  readonly service: VirtualService;
  readonly ctx: PlaneContext;
  readonly deps: MailDeps;
  readonly #server: net.Server;

  constructor(service: VirtualService, ctx: PlaneContext, deps: MailDeps) {
    this.service = service;
    this.ctx = ctx;
    this.deps = deps;
    this.#server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    this.#server.on('error', () => {});
    service.onServerGone = resetConnectionsOf(service);
  }

  get port(): number { return boundPort(this.#server); }

  listen(): Promise<void> { return listenTcp(this.#server, this.service); }

  close(): Promise<void> {
    if (this.#server.listening) this.#server.close();
    return Promise.resolve();
  }

  #accept(socket: net.Socket): void {
    admit(this.service, socket, () => new MailConnection(this, socket))?.start();
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** One client session: the dialogue, the client socket (TLS after STARTTLS), and the backend once routed. */
class MailConnection implements ServiceConnection {
  readonly plane: MailPlane;
  readonly #plain: net.Socket;
  client: net.Socket;
  key: string | undefined = undefined;
  server: RealServer | undefined = undefined;
  template: Template | undefined = undefined;
  tried: RealServer[] | undefined = undefined;
  state: ServiceConnection['state'] = 'connecting';
  expiresAt: number;
  #dialogue: Dialogue | undefined = undefined;
  #backend: net.Socket | undefined = undefined;
  /** The user last looked up: the affinity entry of the backend session. */
  #user: string | undefined = undefined;
  /** The affinity entry this session holds. */
  #held: { readonly user: string; readonly server: RealServer } | undefined = undefined;
  #piping = false;
  /** An SMTP delivery session has streamed message bytes: the idle timeout applies, not the login deadline. */
  #established = false;
  /** The client half-closed before its login was piped. */
  #ended = false;
  /** yoke said its last words and ended the client; the socket is destroyed after lingerMs at the latest. */
  #closing = false;
  gone = false;
  tableIndex: number | undefined = undefined;
  readonly #clientIp: string;
  readonly #clientPort: number;

  constructor(plane: MailPlane, socket: net.Socket) {
    this.plane = plane;
    this.#plain = socket;
    this.client = socket;
    // Read once: the admin API may list the session after the socket is gone.
    this.#clientIp = socket.remoteAddress ?? '';
    this.#clientPort = socket.remotePort ?? 0;
    this.expiresAt = plane.ctx.clock.now() + mailSpecOf(plane.service).loginTimeoutMs;
    plane.ctx.wheel.schedule(this);
  }

  get clientIp(): string { return this.#clientIp; }
  get clientPort(): number { return this.#clientPort; }

  start(): void {
    const service = this.plane.service;
    const spec = mailSpecOf(service);
    this.#plain.on('error', () => this.close('client-error'));
    this.#plain.on('close', () => this.#clientClosed());
    if (!isMailMode(service.mode)) { this.close('client-error'); return; }
    if (spec.tlsMode === 'implicit') {
      const cert = service.spec.tls;
      if (cert === undefined) { this.close('client-error'); return; }
      this.#secure(cert, false);
    } else {
      this.#listen(this.#plain);
    }
    const { dialogue, actions } = startDialogue(service.mode, spec);
    this.#dialogue = dialogue;
    this.#perform(actions);
  }

  #listen(s: net.Socket): void {
    s.on('data', (chunk: Buffer) => this.#fromClient(chunk));
    s.on('end', () => this.#clientEnded());
    s.on('drain', () => this.#backend?.resume());
  }

  /** Starts TLS on the accepted socket (implicit TLS, or after STARTTLS); `started` feeds tls-started once secure. */
  #secure(cert: TlsTerminationSpec, started: boolean): void {
    const plain = this.#plain;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    plain.removeAllListeners('drain');
    let context: tls.SecureContext;
    try { context = secureContext(cert); } catch { this.close('client-error'); return; }
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: context });
    this.client = secure;
    secure.on('error', () => this.close('client-error'));
    secure.on('close', () => this.#clientClosed());
    if (started) secure.once('secure', () => this.#feed({ type: 'tls-started' }));
    this.#listen(secure);
  }

  #fromClient(chunk: Buffer): void {
    if (this.#closing) return;
    if (!this.#piping) {
      if (this.#established) this.#touch();
      this.#feed({ type: 'client-bytes', bytes: chunk });
      return;
    }
    const backend = this.#backend;
    if (backend === undefined) return;
    Counters.countIn(this.plane.service.stats, (this.server as RealServer).stats, chunk.length);
    this.#touch();
    if (!backend.write(chunk)) this.client.pause();
  }

  #fromBackend(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.#backend || this.#closing) return;
    if (!this.#piping) {
      if (this.#established && this.server !== undefined) {
        Counters.countOut(this.plane.service.stats, this.server.stats, chunk.length);
        this.#touch();
      }
      this.#feed({ type: 'backend-bytes', bytes: chunk });
      return;
    }
    Counters.countOut(this.plane.service.stats, (this.server as RealServer).stats, chunk.length);
    this.#touch();
    if (!this.client.write(chunk)) socket.pause();
  }

  #clientEnded(): void {
    if (this.#piping) { this.#backend?.end(); this.#halfClosed(); return; }
    // Half-closed before the login was piped: what it sent is still answered; once piped the server gets the FIN.
    // A dialogue left waiting for more commands ends at the login deadline (an established delivery session: at
    // the FIN timeout).
    this.#ended = true;
    if (this.#established && !this.#closing) this.#halfClosed();
  }

  #clientClosed(): void {
    if (this.gone) return;
    if (this.#piping && this.#backend !== undefined && !this.#backend.destroyed) { this.#backend.end(); return; }
    this.#finish('done');
  }

  #feed(event: MailEvent): void {
    if (this.gone || this.#closing || this.#dialogue === undefined) return;
    let actions: MailAction[];
    try {
      actions = this.#dialogue.feed(event);
    } catch {
      this.close('client-error'); // a dialogue bug must not take the process down
      return;
    }
    this.#perform(actions);
  }

  #perform(actions: readonly MailAction[]): void {
    for (const a of actions) {
      if (this.gone) return;
      switch (a.type) {
        case 'send-to-client': this.client.write(a.bytes); break;
        case 'start-tls': {
          const cert = this.plane.service.spec.tls;
          if (cert === undefined) { this.close('client-error'); return; }
          this.#secure(cert, true);
          break;
        }
        case 'lookup': this.#lookup(a.user); break;
        case 'connect-backend': this.#connect(a.server); break;
        case 'send-to-backend': this.#backend?.write(a.bytes); break;
        case 'stream-to-backend': this.#stream(a.bytes); break;
        case 'close-backend': this.#dropBackend(a.farewell); break;
        case 'start-piping': this.#pipe(a.toBackend, a.toClient); break;
        case 'close': this.#end(); return;
      }
    }
  }

  #lookup(bytes: Uint8Array): void {
    const service = this.plane.service;
    let user: string;
    try { user = decoder.decode(bytes); } catch { user = ''; }
    this.#user = user;
    const answer = (a: LookupAnswer) => queueMicrotask(() => this.#feed({ type: 'lookup-result', answer: a }));
    // A name that is not UTF-8 is no directory entry's (LDAP strings are UTF-8).
    if (user === '') { answer({ kind: 'unknown-user' }); return; }
    const name = (service.spec as { directory?: string }).directory;
    const directory = name === undefined ? undefined : this.plane.deps.directory(name);
    if (name !== undefined && directory === undefined) { answer({ kind: 'temp-failure', reason: `directory ${name} is not running` }); return; }
    void this.plane.deps.router.route(service, directory, user).then((r) => {
      if (mailRouteChannel.hasSubscribers) {
        mailRouteChannel.publish(r.kind === 'server'
          ? { service: service.name, user, server: r.server.name ?? r.server.id, why: r.why }
          : { service: service.name, user, failure: r.kind === 'temp-failure' ? r.reason : 'unknown user' });
      }
      this.#feed({ type: 'lookup-result', answer: r.kind === 'server' ? { kind: 'server', server: r.server.id } : r });
    });
  }

  #connect(id: string): void {
    const service = this.plane.service;
    this.#dropBackend();
    const fail = (reason: string) => queueMicrotask(() => this.#feed({ type: 'backend-failed', reason }));
    if (!service.hasServer(id)) { fail('the server was removed'); return; }
    const target = service.server(id);
    this.tried = undefined;
    if (!service.assignSticky(this, id) || this.server !== target) { service.release(this); fail('the server cannot take the session'); return; }
    if (this.#user !== undefined) { this.plane.deps.router.enter(this.#user, target); this.#held = { user: this.#user, server: target }; }
    const spec = mailSpecOf(service);
    const backendTls = spec.backendTls;
    const at = { host: target.address.host, port: target.address.port, allowHalfOpen: true };
    if (backendTls?.mode === 'starttls') { this.#upgrade(target, backendTls, spec.smtp.hostname); return; }
    const backend = backendTls === undefined ? net.connect(at) : tls.connect({ ...at, ...backendTlsOptions(backendTls, target) });
    backend.setNoDelay(true);
    backend.setTimeout(service.spec.connectTimeoutMs);
    this.#wire(backend, target, backendTls === undefined ? 'connect' : 'secureConnect');
  }

  /**
   * backend_tls mode starttls: in clear to the server, its protocol's upgrade and the TLS handshake over that
   * connection (startTlsOver), then the session as with implicit TLS, the greeting read in clear fed to the dialogue
   * first. An upgrade that fails counts as a failed connect: the client gets the temporary failure, the server a
   * passive-health failure, and no login is written.
   */
  #upgrade(target: RealServer, b: BackendTls, hostname: string): void {
    const service = this.plane.service;
    const plain = net.connect({ host: target.address.host, port: target.address.port, allowHalfOpen: true });
    plain.setNoDelay(true);
    plain.on('error', () => {}); // after the handshake its errors are the TLS socket's; before, startTlsOver's
    this.#backend = plain;
    // `host` as tls.connect has it on the implicit path: the name checked when no SNI name is sent
    const options = { ...backendTlsOptions(b, target), host: target.address.host };
    startTlsOver(plain, service.mode as MailMode, hostname, options, service.spec.connectTimeoutMs, (r) => {
      if (plain !== this.#backend) { if (r.kind === 'secure') r.socket.destroy(); return; } // dropped meanwhile
      if (r.kind === 'failed') {
        service.serverFailed(target);
        this.#dropBackend();
        this.#feed({ type: 'backend-failed', reason: r.reason });
        return;
      }
      this.#wire(r.socket, target, undefined);
      this.#fromBackend(r.socket, Buffer.from(r.greeting));
    });
  }

  /** Takes `backend` as the session's server connection; `ready` is the event that says it is up (undefined: it is). */
  #wire(backend: net.Socket, target: RealServer, ready: 'connect' | 'secureConnect' | undefined): void {
    const service = this.plane.service;
    this.#backend = backend;
    let connected = false;
    const up = () => { connected = true; backend.setTimeout(0); service.serverWorked(target); };
    const broken = (reason: string) => {
      if (backend !== this.#backend) return;
      if (!connected) service.serverFailed(target); // passive health: a failed connect counts
      this.#dropBackend();
      if (this.#piping) { this.close('server-error'); return; }
      this.#feed({ type: 'backend-failed', reason });
    };
    if (ready === undefined) up();
    else backend.on(ready, up);
    backend.on('timeout', () => broken('connect timeout'));
    backend.on('error', (err: NodeJS.ErrnoException) => {
      if (connected && this.#piping) service.serverFailed(target);
      broken(err.code ?? err.message);
    });
    backend.on('data', (chunk: Buffer) => this.#fromBackend(backend, chunk));
    backend.on('drain', () => this.client.resume());
    backend.on('end', () => {
      if (backend !== this.#backend) return;
      if (this.#piping) { this.client.end(); this.#halfClosed(); return; }
      broken('the server closed the connection');
    });
    backend.on('close', () => {
      if (backend !== this.#backend) return;
      if (this.#piping) { if (this.client.destroyed || this.client.writableFinished) this.#finish('done'); return; }
      broken('the server closed the connection');
    });
  }

  /** Message bytes to the backend, with backpressure; the first ones establish the session. */
  #stream(bytes: Uint8Array): void {
    const backend = this.#backend;
    const server = this.server;
    if (backend === undefined || server === undefined) return;
    const service = this.plane.service;
    if (!this.#established) {
      this.#established = true;
      service.setState(this, 'established');
      this.#touch();
      this.plane.ctx.wheel.schedule(this); // the idle timeout may be shorter than the login deadline
    }
    Counters.countIn(service.stats, server.stats, bytes.length);
    this.#touch();
    if (!backend.write(bytes)) this.client.pause();
  }

  /** Drops the backend: at once, or after writing `farewell` (its answer not awaited; destroyed after lingerMs). */
  #dropBackend(farewell?: Uint8Array): void {
    const b = this.#backend;
    this.#backend = undefined;
    if (b !== undefined) {
      if (farewell === undefined || b.destroyed) b.destroy();
      else {
        b.end(farewell);
        setTimeout(() => b.destroy(), MAIL_LIMITS.lingerMs).unref();
      }
      this.client.resume(); // a client paused for this backend's full buffer must not stay paused
    }
    if (this.#held !== undefined) { this.plane.deps.router.leave(this.#held.user, this.#held.server); this.#held = undefined; }
    if (this.server !== undefined) this.plane.service.release(this);
  }

  #pipe(toBackend: Uint8Array, toClient: Uint8Array): void {
    const backend = this.#backend;
    if (backend === undefined || this.server === undefined) { this.close('server-error'); return; }
    this.#piping = true;
    const service = this.plane.service;
    service.setState(this, 'established');
    if (toClient.length > 0) { Counters.countOut(service.stats, this.server.stats, toClient.length); this.client.write(toClient); }
    if (toBackend.length > 0) { Counters.countIn(service.stats, this.server.stats, toBackend.length); backend.write(toBackend); }
    this.#touch();
    if (this.#ended) { backend.end(); this.#halfClosed(); }
  }

  #touch(): void {
    const c = this.plane.ctx;
    this.expiresAt = c.clock.now() + (this.state === 'fin-wait' ? c.timeouts.tcpFinMs : c.timeouts.tcpMs);
  }

  #halfClosed(): void {
    if (this.state !== 'established') return;
    this.plane.service.setState(this, 'fin-wait');
    this.#touch();
    this.plane.ctx.wheel.schedule(this);
  }

  /** yoke's last words are queued: end the client (they are flushed first) and drop the backend. */
  #end(): void {
    this.#closing = true;
    this.#dropBackend();
    this.client.end();
    this.expiresAt = this.plane.ctx.clock.now() + MAIL_LIMITS.lingerMs;
    this.plane.ctx.wheel.schedule(this);
  }

  /** The wheel says time is up: the login deadline (the protocol says so), an idle session, or a lingering close. */
  expire(): void {
    if (this.gone) return;
    if (this.#closing) { this.close('timeout'); return; }
    if (!this.#piping) { this.#feed({ type: 'timeout' }); if (!this.#closing) this.close('timeout'); return; }
    this.close('timeout');
  }

  /** Ends the session now: both sockets destroyed. */
  close(reason: CloseReason): void {
    if (this.gone) return;
    this.#finish(reason);
    this.#backend?.destroy();
    this.client.destroy();
    this.#plain.destroy();
  }

  #finish(_reason: CloseReason): void {
    if (this.gone) return;
    this.gone = true;
    this.plane.ctx.wheel.cancel(this);
    this.plane.service.connections.delete(this);
    if (this.#held !== undefined) { this.plane.deps.router.leave(this.#held.user, this.#held.server); this.#held = undefined; }
    if (this.server !== undefined) this.plane.service.release(this);
    const b = this.#backend;
    if (b !== undefined && !b.destroyed) b.destroy();
  }
}
