/**
 * The ServerHello parser (RFC 8446 4.1.3, RFC 5246 7.4.1.3), for the server's first bytes: what yoke learns
 * for stickiness — the session id a TLS 1.2 server assigns or echoes, the version chosen, whether a TLS 1.3
 * server accepted an offered PSK — and whether it is a HelloRetryRequest. Total, as the ClientHello parser.
 */
import { findExtension, parseExtensions, readHelloStart, u16 } from './hello-fields.ts';
import { DEFAULT_LIMITS, readHandshake, type HandshakeLimits } from './records.ts';
import {
  EXTENSION_TYPE,
  HANDSHAKE_TYPE,
  HELLO_RETRY_REQUEST_RANDOM,
  malformed,
  type TlsError,
  type TlsExtension,
  type TlsNeedMore,
} from './types.ts';

/** What yoke reads from a ServerHello. Byte fields are views into the parsed body: copy what outlives it. */
export interface ServerHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  /** TLS 1.2: a new id (full handshake), the client's id echoed (resumption), or empty; TLS 1.3: the client's echoed. */
  readonly sessionId: Uint8Array;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  readonly extensions: readonly TlsExtension[];
  /** The version in force: supported_versions when the server sent it (TLS 1.3), else legacyVersion. */
  readonly version: number;
  /** The special random of RFC 8446 4.1.3: the server wants a second ClientHello; nothing is settled yet. */
  readonly helloRetryRequest: boolean;
  /** TLS 1.3: the index of the client's PSK identity the server accepted (a resumption); undefined if none. */
  readonly pskSelectedIdentity: number | undefined;
  /** TLS 1.2: an empty session_ticket extension, the server's promise to send a NewSessionTicket. */
  readonly ticketPromised: boolean;
}

export type ServerHelloParse = { readonly kind: 'ok'; readonly hello: ServerHello } | TlsError;

/** A ServerHello read from the start of a server's stream, or the alert it answered with instead. */
export type ServerHelloRead =
  | TlsNeedMore
  | { readonly kind: 'ok'; readonly hello: ServerHello; readonly end: number; readonly records: number }
  | { readonly kind: 'alert'; readonly level: number; readonly description: number }
  | TlsError;

/**
 * Reads and parses the ServerHello at the start of `bytes` (all the server sent so far). Unlike a ClientHello,
 * a TLS 1.2 ServerHello may share its record with the Certificate that follows, so trailing bytes are allowed.
 */
export function readServerHello(bytes: Uint8Array, limits: HandshakeLimits = DEFAULT_LIMITS): ServerHelloRead {
  const read = readHandshake(bytes, HANDSHAKE_TYPE.SERVER_HELLO, limits);
  if (read.kind !== 'ok') return read;
  const parsed = parseServerHello(read.body);
  if (parsed.kind === 'error') return parsed;
  return { kind: 'ok', hello: parsed.hello, end: read.end, records: read.records };
}

/** Parses a ServerHello body (the handshake message without its 4-byte header). */
export function parseServerHello(body: Uint8Array): ServerHelloParse {
  const n = body.length;
  const start = readHelloStart(body, 'ServerHello');
  if ('kind' in start) return start;
  const { legacyVersion, random, sessionId } = start;
  let pos = start.next;
  if (n - pos < 3) return malformed('the ServerHello ends before its cipher suite and compression method');
  const cipherSuite = u16(body, pos);
  const compressionMethod = body[pos + 2] as number;
  pos += 3;
  const ext = parseExtensions(body, pos);
  if (ext.kind === 'error') return ext;
  const extensions = ext.list;

  let version = legacyVersion;
  const sv = findExtension(extensions, EXTENSION_TYPE.SUPPORTED_VERSIONS);
  if (sv !== undefined) {
    // RFC 8446 4.2.1, ServerHello form: the one selected version.
    if (sv.length !== 2) return malformed(`a ServerHello supported_versions of ${sv.length} bytes; it holds one version (2)`);
    version = u16(body, sv.offset);
  }
  const helloRetryRequest = sameBytes(random, HELLO_RETRY_REQUEST_RANDOM);
  let pskSelectedIdentity: number | undefined;
  const psk = findExtension(extensions, EXTENSION_TYPE.PRE_SHARED_KEY);
  if (psk !== undefined) {
    if (psk.length !== 2) return malformed(`a ServerHello pre_shared_key of ${psk.length} bytes; it holds one index (2)`);
    if (helloRetryRequest) return malformed('a HelloRetryRequest with pre_shared_key (RFC 8446 4.2.11 allows it only in a ServerHello)');
    pskSelectedIdentity = u16(body, psk.offset);
  }
  const ticket = findExtension(extensions, EXTENSION_TYPE.SESSION_TICKET);
  if (ticket !== undefined && ticket.length !== 0) return malformed(`a ServerHello session_ticket of ${ticket.length} bytes; it is empty`);
  const hello: ServerHello = {
    legacyVersion,
    random,
    sessionId,
    cipherSuite,
    compressionMethod,
    extensions,
    version,
    helloRetryRequest,
    pskSelectedIdentity,
    ticketPromised: ticket !== undefined,
  };
  return { kind: 'ok', hello };
}

function sameBytes(a: Uint8Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
