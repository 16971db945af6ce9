import type net from 'node:net';
import type { Opened, Opener, ServerObserver } from '../../core/dataplane/plane.ts';
import type { VirtualService } from '../../core/service.ts';
import { readClientHello, type ClientHello } from '../../l7/tls/client-hello.ts';
import { routeByServerName } from '../../l7/tls/router.ts';
import { readServerHello } from '../../l7/tls/server-hello.ts';
import { findNewSessionTicket } from '../../l7/tls/new-session-ticket.ts';
import { clientHelloKeys, serverHelloKeys, ticketKeyName } from '../../l7/tls/ticket.ts';
import { TLS_VERSION } from '../../l7/tls/types.ts';

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

/** Bytes of the server's clear-text flight read while looking for a TLS 1.2 NewSessionTicket (certificates included). */
const TICKET_SEARCH_LIMIT = 64 * 1024;

/**
 * Gathers the server's first bytes until its ServerHello is read, then says which keys it settled. When a TLS 1.2
 * server promised a ticket, it also waits for that NewSessionTicket (sent in clear before the server's
 * ChangeCipherSpec) and learns the ticket's key name at once, so even the first resumption lands right.
 */
class ServerHelloObserver implements ServerObserver {
  readonly #client: ClientHello;
  #seen: Buffer | undefined = undefined;
  /** Keys the ServerHello settled, held while the ticket is awaited. */
  #keys: string[] | undefined = undefined;

  constructor(client: ClientHello) {
    this.#client = client;
  }

  feed(chunk: Buffer): readonly string[] | undefined {
    const bytes = this.#seen === undefined ? chunk : Buffer.concat([this.#seen, chunk]);
    if (this.#keys !== undefined) return this.#ticket(bytes, this.#keys);
    const read = readServerHello(bytes);
    if (read.kind === 'need-more') { this.#seen = bytes; return undefined; }
    this.#seen = undefined;
    if (read.kind !== 'ok') return [];
    const keys = serverHelloKeys(this.#client, read.hello).keys.map((k) => k.key);
    if (!read.hello.ticketPromised || read.hello.version === TLS_VERSION.TLS1_3) return keys;
    this.#keys = keys;
    return this.#ticket(bytes, keys);
  }

  #ticket(bytes: Buffer, keys: string[]): readonly string[] | undefined {
    const found = findNewSessionTicket(bytes, TICKET_SEARCH_LIMIT);
    if (found.kind === 'need-more') { this.#seen = bytes; return undefined; }
    this.#seen = undefined;
    const name = found.kind === 'ticket' ? ticketKeyName(found.ticket) : undefined;
    return name === undefined ? keys : [...keys, `ticket-key-name:${name}`];
  }
}
