import type net from 'node:net';
import type { Opened, Opener, ServerObserver } from '../../core/dataplane/plane.ts';
import type { VirtualService } from '../../core/service.ts';
import { readClientHello, type ClientHello } from '../../l7/tls/client-hello.ts';
import { routeByServerName } from '../../l7/tls/router.ts';
import { readServerHello } from '../../l7/tls/server-hello.ts';
import { clientHelloKeys, serverHelloKeys } from '../../l7/tls/ticket.ts';

/** How long a client may take to send its whole ClientHello before it is closed (a slowloris of handshakes). */
export const CLIENT_HELLO_TIMEOUT_MS = 5000;

/** What the opener reports of a client it closed: not TLS, malformed, too large, or too slow. */
export type HelloRefused = (client: net.Socket, code: string, reason: string) => void;

/**
 * mode tls: reads the ClientHello (across TCP segments and TLS records), never the keys, then picks the pool by
 * server name and offers the session's stickiness keys; the whole hello is replayed to the chosen server. With
 * stickiness on, the server's ServerHello is read too, to learn which session ids and ticket key names it holds.
 * Anything that is not a well-formed ClientHello is closed, never passed on.
 */
export class TlsPassthrough implements Opener {
  readonly #service: VirtualService;
  readonly #refused: HelloRefused;

  constructor(service: VirtualService, refused: HelloRefused) {
    this.#service = service;
    this.#refused = refused;
  }

  open(client: net.Socket): Promise<Opened | undefined> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (result: Opened | undefined, code?: string, reason?: string): void => {
        clearTimeout(timer);
        client.off('data', onData);
        client.off('end', onEnd);
        client.off('close', onEnd);
        if (code !== undefined) this.#refused(client, code, reason ?? '');
        resolve(result);
      };
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        size += chunk.length;
        const bytes = chunks.length === 1 ? chunk : Buffer.concat(chunks, size);
        const read = readClientHello(bytes);
        if (read.kind === 'need-more') return;
        if (read.kind === 'error') { finish(undefined, read.code, read.reason); return; }
        finish(this.#opened(read.hello, bytes));
      };
      const onEnd = (): void => finish(undefined, 'E_TLS_MALFORMED', 'the client closed before its ClientHello was complete');
      const timer = setTimeout(() => finish(undefined, 'E_TLS_MALFORMED', `no complete ClientHello within ${CLIENT_HELLO_TIMEOUT_MS} ms`), CLIENT_HELLO_TIMEOUT_MS);
      client.on('data', onData);
      client.once('end', onEnd);
      client.once('close', onEnd);
    });
  }

  #opened(hello: ClientHello, replay: Buffer): Opened {
    const service = this.#service; // read at each connection: a reload edits routes and pools in place
    const routes = service.spec.routes;
    const pool = routes === undefined ? undefined : routeByServerName(routes, hello) ?? NO_ROUTE;
    const target = pool === undefined ? service : service.pools.get(pool);
    const sticky = target?.sticky !== undefined;
    return {
      key: undefined, // hashing schedulers (sh) keep hashing the client's address
      replay,
      pool,
      stickyKeys: sticky ? clientHelloKeys(hello).map((k) => k.key) : undefined,
      observer: sticky ? new ServerHelloObserver(hello) : undefined,
    };
  }
}

/** A pool name no pool has: the plane closes a connection that matches no route. */
const NO_ROUTE = '';

/** Gathers the server's first bytes until its ServerHello is read, then says which keys it settled. */
class ServerHelloObserver implements ServerObserver {
  readonly #client: ClientHello;
  #seen: Buffer | undefined = undefined;

  constructor(client: ClientHello) {
    this.#client = client;
  }

  feed(chunk: Buffer): readonly string[] | undefined {
    const bytes = this.#seen === undefined ? chunk : Buffer.concat([this.#seen, chunk]);
    const read = readServerHello(bytes);
    if (read.kind === 'need-more') { this.#seen = bytes; return undefined; }
    this.#seen = undefined;
    if (read.kind !== 'ok') return [];
    return serverHelloKeys(this.#client, read.hello).keys.map((k) => k.key);
  }
}
