/**
 * Stickiness keys from hellos, for passthrough: yoke cannot read a ticket (it is encrypted under the server's
 * key), but the ticket's first bytes name that key in clear. OpenSSL, and so Node, nginx, HAProxy and others
 * built on it, write a 16-byte key_name first, as RFC 5077 4 recommends; Node's 48-byte ticketKeys are that
 * name followed by the two secret keys. Once one resumption on a server succeeds, the server holds that key,
 * so every ticket under the same name can go to it — in TLS 1.3 and with TLS 1.2 tickets, where the session
 * id is random or client-made and session-id stickiness cannot work.
 *
 * Servers that share one ticket key see the same name, which is harmless: any of them can resume those
 * tickets. For servers that lay tickets out otherwise, the prefix length is a setting (`keyNameLength`).
 */
import type { ClientHello } from './client-hello.ts';
import type { ServerHello } from './server-hello.ts';
import { TLS_VERSION, hex } from './types.ts';

/** The key_name length OpenSSL writes at the start of every ticket it issues (TLS 1.2 and 1.3). */
export const OPENSSL_KEY_NAME_LENGTH = 16;

/** A key for the stickiness table: `key` is `kind:hex`, stable across processes so a backup director can share it. */
export interface StickinessKey {
  readonly kind: 'session-id' | 'ticket-key-name';
  readonly key: string;
}

/** What a ServerHello settled for the connection's stickiness. */
export interface ServerHelloLearning {
  /** The server resumed an offered session (session id, ticket or PSK). */
  readonly resumed: boolean;
  /** Keys to map to this server from now on. */
  readonly keys: readonly StickinessKey[];
}

/** The first `length` bytes of a ticket as hex, or undefined when the ticket is shorter (or length is 0: off). */
export function ticketKeyName(ticket: Uint8Array, length: number = OPENSSL_KEY_NAME_LENGTH): string | undefined {
  if (length <= 0 || ticket.length < length) return undefined;
  return hex(ticket.subarray(0, length));
}

/**
 * The keys to look up for a ClientHello, best first; the first one the table knows picks the server, and none
 * known means a fresh handshake, scheduled normally.
 * - `ticket-key-name` of each TLS 1.3 pre_shared_key identity, in the client's order.
 * - `ticket-key-name` of a TLS 1.2 session_ticket that carries a ticket.
 * - `session-id` when the session id is not empty and no TLS 1.2 ticket is offered: a TLS 1.2 session to
 *   resume. A TLS 1.3 client's random id looks the same and simply misses, since only ids servers assigned
 *   are ever stored (serverHelloKeys); beside a ticket the id is client-made (RFC 5077 3.4), so it is left out.
 */
export function clientHelloKeys(hello: ClientHello, keyNameLength: number = OPENSSL_KEY_NAME_LENGTH): StickinessKey[] {
  const keys: StickinessKey[] = [];
  for (const psk of hello.pskIdentities ?? []) pushKeyName(keys, psk.identity, keyNameLength);
  const ticket = hello.sessionTicket;
  const hasTicket = ticket !== undefined && ticket.length > 0;
  if (hasTicket) pushKeyName(keys, ticket, keyNameLength);
  if (!hasTicket && hello.sessionId.length > 0) keys.push({ kind: 'session-id', key: `session-id:${hex(hello.sessionId)}` });
  return keys;
}

/**
 * What the server's answer to `client` teaches: the keys to map to that server.
 * - HelloRetryRequest: nothing yet; the second ClientHello and its ServerHello settle it.
 * - TLS 1.3 with a selected PSK: a resumption; the chosen identity's key name now belongs to this server.
 *   A fresh TLS 1.3 handshake teaches nothing: its tickets arrive encrypted.
 * - TLS 1.2 echoing the client's non-empty session id: a resumption, by ticket when the client offered one
 *   (its key name is learned) or else by session id (the id is learned again, refreshing its timeout).
 * - TLS 1.2 with a new non-empty id: a full handshake; the server will resume this id, so it is learned.
 * - TLS 1.2 with an empty id: the server keeps no session or will issue a ticket; nothing to learn here.
 *   (A client that sends a ticket with an empty id cannot be seen to resume from the ServerHello alone.)
 */
export function serverHelloKeys(client: ClientHello, server: ServerHello, keyNameLength: number = OPENSSL_KEY_NAME_LENGTH): ServerHelloLearning {
  const keys: StickinessKey[] = [];
  if (server.helloRetryRequest) return { resumed: false, keys };
  if (server.version === TLS_VERSION.TLS1_3) {
    const chosen = server.pskSelectedIdentity;
    const psk = chosen === undefined ? undefined : client.pskIdentities?.[chosen];
    if (psk === undefined) return { resumed: false, keys };
    pushKeyName(keys, psk.identity, keyNameLength);
    return { resumed: true, keys };
  }
  const sid = server.sessionId;
  if (sid.length === 0) return { resumed: false, keys };
  const resumed = Buffer.compare(sid, client.sessionId) === 0;
  const ticket = client.sessionTicket;
  if (resumed && ticket !== undefined && ticket.length > 0) {
    pushKeyName(keys, ticket, keyNameLength);
    return { resumed, keys };
  }
  keys.push({ kind: 'session-id', key: `session-id:${hex(sid)}` });
  return { resumed, keys };
}

function pushKeyName(keys: StickinessKey[], ticket: Uint8Array, length: number): void {
  const name = ticketKeyName(ticket, length);
  if (name === undefined) return;
  const key = `ticket-key-name:${name}`;
  // Several PSK identities from one server share a name; one lookup each is enough.
  for (const k of keys) if (k.key === key) return;
  keys.push({ kind: 'ticket-key-name', key });
}
