/**
 * The ClientHello parser (RFC 8446 4.1.2, RFC 5246 7.4.1.2): the fixed fields, the extensions by offset, and
 * the few extensions yoke routes or sticks on, decoded. It is total: any bytes give ok or an error result,
 * never an exception, and every length is checked against what remains before a byte is read.
 */
import { findExtension, parseExtensions, readHelloStart, u16 } from './hello-fields.ts';
import { checkHostName } from './hostname.ts';
import { DEFAULT_LIMITS, readHandshake, type HandshakeLimits } from './records.ts';
import { EXTENSION_TYPE, HANDSHAKE_TYPE, TLS_VERSION, malformed, type TlsError, type TlsExtension, type TlsNeedMore } from './types.ts';

/** One identity of a TLS 1.3 pre_shared_key offer: a ticket (or a stateful server's session handle). */
export interface PskIdentity {
  readonly identity: Uint8Array;
  readonly obfuscatedTicketAge: number;
}

/** What yoke reads from a ClientHello. Byte fields are views into the parsed body: copy what outlives it. */
export interface ClientHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  /** 0–32 bytes: a TLS 1.2 session to resume, a client-made id beside a ticket, or TLS 1.3's random filler. */
  readonly sessionId: Uint8Array;
  readonly cipherSuiteCount: number;
  readonly compressionMethods: Uint8Array;
  readonly extensions: readonly TlsExtension[];
  /** server_name host_name, lower-cased, no trailing dot; undefined when the client sent none. */
  readonly serverName: string | undefined;
  /** ALPN protocol names in the client's order; undefined when the extension is absent. */
  readonly alpn: readonly string[] | undefined;
  /** supported_versions as sent (GREASE values included); undefined when absent (a TLS 1.2-only client). */
  readonly supportedVersions: readonly number[] | undefined;
  readonly offersTls13: boolean;
  /** session_ticket (TLS 1.2): undefined = not offered, empty = "issue me one", else the ticket to resume. */
  readonly sessionTicket: Uint8Array | undefined;
  /** pre_shared_key identities (TLS 1.3 resumption); undefined when absent. */
  readonly pskIdentities: readonly PskIdentity[] | undefined;
  readonly earlyData: boolean;
}

export type ClientHelloParse = { readonly kind: 'ok'; readonly hello: ClientHello } | TlsError;

/** A ClientHello read from the start of a client's stream: `end` is where its last record ends. */
export type ClientHelloRead =
  | TlsNeedMore
  | { readonly kind: 'ok'; readonly hello: ClientHello; readonly end: number; readonly records: number }
  | TlsError;

/**
 * Reads and parses the ClientHello at the start of `bytes` (all the client sent so far), reassembled across
 * records. Needs-more for every prefix of a valid ClientHello; an error for anything else that cannot become one.
 */
export function readClientHello(bytes: Uint8Array, limits: HandshakeLimits = DEFAULT_LIMITS): ClientHelloRead {
  const read = readHandshake(bytes, HANDSHAKE_TYPE.CLIENT_HELLO, limits);
  if (read.kind === 'need-more' || read.kind === 'error') return read;
  if (read.kind === 'alert') return malformed(`the client sent an alert (level ${read.level}, description ${read.description}) before any ClientHello`);
  // RFC 8446 5.1: a ClientHello must end at a record boundary, and no other client handshake message can precede the server's reply.
  if (read.trailing !== 0) return malformed(`${read.trailing} bytes follow the ClientHello in its record`);
  const parsed = parseClientHello(read.body);
  if (parsed.kind === 'error') return parsed;
  return { kind: 'ok', hello: parsed.hello, end: read.end, records: read.records };
}

/** Parses a ClientHello body (the handshake message without its 4-byte header). */
export function parseClientHello(body: Uint8Array): ClientHelloParse {
  const n = body.length;
  const start = readHelloStart(body, 'ClientHello');
  if ('kind' in start) return start;
  const { legacyVersion, random, sessionId } = start;
  let pos = start.next;
  if (n - pos < 2) return malformed('the ClientHello ends before its cipher suites length');
  const suitesLength = u16(body, pos);
  pos += 2;
  if (suitesLength < 2 || suitesLength % 2 !== 0) return malformed(`a cipher suites length of ${suitesLength}; it must be even and at least 2`);
  if (n - pos < suitesLength + 1) return malformed('the ClientHello ends inside its cipher suites or compression methods length');
  pos += suitesLength;
  const compressionLength = body[pos++] as number;
  if (compressionLength < 1) return malformed('no compression methods; the null method must be offered');
  if (n - pos < compressionLength) return malformed('the ClientHello ends inside its compression methods');
  const compressionMethods = body.subarray(pos, pos + compressionLength);
  pos += compressionLength;

  const ext = parseExtensions(body, pos);
  if (ext.kind === 'error') return ext;
  const extensions = ext.list;

  let serverName: string | undefined;
  let alpn: string[] | undefined;
  let supportedVersions: number[] | undefined;
  let sessionTicket: Uint8Array | undefined;
  let pskIdentities: PskIdentity[] | undefined;
  for (const e of extensions) {
    switch (e.type) {
      case EXTENSION_TYPE.SERVER_NAME: {
        const r = serverNameOf(body, e);
        if (typeof r !== 'string' && r !== undefined) return r;
        serverName = r;
        break;
      }
      case EXTENSION_TYPE.ALPN: {
        const r = alpnOf(body, e);
        if (!Array.isArray(r)) return r as TlsError;
        alpn = r;
        break;
      }
      case EXTENSION_TYPE.SUPPORTED_VERSIONS: {
        const r = versionsOf(body, e);
        if (!Array.isArray(r)) return r as TlsError;
        supportedVersions = r;
        break;
      }
      case EXTENSION_TYPE.SESSION_TICKET:
        sessionTicket = body.subarray(e.offset, e.offset + e.length);
        break;
      case EXTENSION_TYPE.PRE_SHARED_KEY: {
        // RFC 8446 4.2.11: the binders cover the hello up to them, so the offer must come last.
        if (e !== extensions[extensions.length - 1]) return malformed('pre_shared_key is not the last extension');
        const r = pskOf(body, e);
        if (!Array.isArray(r)) return r as TlsError;
        pskIdentities = r;
        break;
      }
      case EXTENSION_TYPE.EARLY_DATA:
        if (e.length !== 0) return malformed(`an early_data extension of ${e.length} bytes; in a ClientHello it is empty`);
        break;
    }
  }
  const hello: ClientHello = {
    legacyVersion,
    random,
    sessionId,
    cipherSuiteCount: suitesLength / 2,
    compressionMethods,
    extensions,
    serverName,
    alpn,
    supportedVersions,
    offersTls13: supportedVersions !== undefined && supportedVersions.includes(TLS_VERSION.TLS1_3),
    sessionTicket,
    pskIdentities,
    earlyData: findExtension(extensions, EXTENSION_TYPE.EARLY_DATA) !== undefined,
  };
  return { kind: 'ok', hello };
}

/**
 * RFC 6066 3: a list of (name_type, opaque name<1..2^16-1>). Only host_name (0) is defined; other types are
 * skipped as their length says, and host_name may appear once. Undefined for a list with no host_name.
 */
function serverNameOf(body: Uint8Array, e: TlsExtension): string | undefined | TlsError {
  let pos = e.offset;
  const end = e.offset + e.length;
  if (e.length < 2 || u16(body, pos) !== e.length - 2) return malformed('server_name list length does not match the extension');
  pos += 2;
  if (pos === end) return malformed('an empty server_name list');
  let name: string | undefined;
  while (pos < end) {
    if (end - pos < 3) return malformed('a server_name entry cut short');
    const nameType = body[pos] as number;
    const length = u16(body, pos + 1);
    pos += 3;
    if (length === 0 || length > end - pos) return malformed(`a server_name entry of ${length} bytes where ${end - pos} remain`);
    if (nameType === 0) {
      if (name !== undefined) return malformed('two host names in server_name (RFC 6066 3 allows one)');
      const checked = checkHostName(body, pos, length);
      if (!checked.ok) return malformed(`server_name: ${checked.reason}`);
      name = checked.name;
    }
    pos += length;
  }
  return name;
}

/** RFC 7301 3.1: ProtocolNameList<2..2^16-1> of ProtocolName<1..2^8-1>; names are opaque, read as latin1. */
function alpnOf(body: Uint8Array, e: TlsExtension): string[] | TlsError {
  let pos = e.offset;
  const end = e.offset + e.length;
  if (e.length < 2 || u16(body, pos) !== e.length - 2) return malformed('ALPN list length does not match the extension');
  pos += 2;
  if (pos === end) return malformed('an empty ALPN list');
  const names: string[] = [];
  while (pos < end) {
    const length = body[pos++] as number;
    if (length === 0) return malformed('an empty ALPN protocol name (RFC 7301 3.1)');
    if (length > end - pos) return malformed('an ALPN protocol name cut short');
    names.push(Buffer.from(body.buffer, body.byteOffset + pos, length).toString('latin1'));
    pos += length;
  }
  return names;
}

/** RFC 8446 4.2.1, ClientHello form: ProtocolVersion versions<2..254>. */
function versionsOf(body: Uint8Array, e: TlsExtension): number[] | TlsError {
  const length = e.length > 0 ? (body[e.offset] as number) : -1;
  if (length !== e.length - 1 || length < 2 || length % 2 !== 0) return malformed('supported_versions list length is wrong');
  const versions: number[] = [];
  for (let i = e.offset + 1; i < e.offset + e.length; i += 2) versions.push(u16(body, i));
  return versions;
}

/**
 * RFC 8446 4.2.11: identities<7..2^16-1> of (identity<1..2^16-1>, uint32 age), then binders<33..2^16-1> of
 * PskBinderEntry<32..255>, one binder per identity.
 */
function pskOf(body: Uint8Array, e: TlsExtension): PskIdentity[] | TlsError {
  const end = e.offset + e.length;
  let pos = e.offset;
  if (e.length < 2) return malformed('a pre_shared_key extension too short for its identities length');
  const idsLength = u16(body, pos);
  pos += 2;
  if (idsLength < 7 || idsLength > end - pos) return malformed(`pre_shared_key identities length ${idsLength} does not fit`);
  const idsEnd = pos + idsLength;
  const identities: PskIdentity[] = [];
  while (pos < idsEnd) {
    if (idsEnd - pos < 2) return malformed('a pre_shared_key identity cut short');
    const length = u16(body, pos);
    pos += 2;
    if (length === 0 || idsEnd - pos < length + 4) return malformed('a pre_shared_key identity cut short or empty');
    const identity = body.subarray(pos, pos + length);
    pos += length;
    const age = (((body[pos] as number) << 24) | ((body[pos + 1] as number) << 16) | ((body[pos + 2] as number) << 8) | (body[pos + 3] as number)) >>> 0;
    pos += 4;
    identities.push({ identity, obfuscatedTicketAge: age });
  }
  if (end - pos < 2) return malformed('pre_shared_key has no binders');
  const bindersLength = u16(body, pos);
  pos += 2;
  if (bindersLength !== end - pos || bindersLength < 33) return malformed('pre_shared_key binders length does not match the extension');
  let binders = 0;
  while (pos < end) {
    const length = body[pos++] as number;
    if (length < 32 || length > end - pos) return malformed(`a pre_shared_key binder of ${length} bytes`);
    pos += length;
    binders++;
  }
  if (binders !== identities.length) return malformed(`${identities.length} pre_shared_key identities but ${binders} binders`);
  return identities;
}
