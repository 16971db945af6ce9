/**
 * Record-layer reassembly of the first handshake message of a TLS stream (RFC 8446 5.1, RFC 5246 6.2.1).
 *
 * The caller keeps every byte the peer sent so far in one growing buffer (it must replay them to the chosen
 * server anyway) and calls readHandshake again when more arrive, or only once the buffer holds `atLeast`
 * bytes. A call reads five header bytes per record, never scans the payload, and copies only when the message
 * spans records, so calling it per TCP segment costs O(records), bounded by `maxRecords`.
 *
 * It is total: any bytes give need-more (every prefix of a valid stream does), ok, an alert, or an error.
 */
import { CONTENT_TYPE, MAX_FRAGMENT, malformed, type TlsError, type TlsNeedMore } from './types.ts';

/** How much a peer may make yoke hold before a server is chosen. */
export interface HandshakeLimits {
  /** The largest handshake message body accepted (real ClientHellos are under 2 KiB, post-quantum key shares included). */
  readonly maxMessageBytes: number;
  /** The most records one message may span (a message split into 1-byte records would otherwise cost 5 bytes of header per byte). */
  readonly maxRecords: number;
}

export const DEFAULT_LIMITS: HandshakeLimits = Object.freeze({ maxMessageBytes: 64 * 1024, maxRecords: 64 });

/** The first handshake message: its type, its body (without the 4-byte header), and where its last record ends. */
export interface HandshakeMessage {
  readonly kind: 'ok';
  readonly type: number;
  /** A view into the caller's buffer when the message sat in one record, else a copy. */
  readonly body: Uint8Array;
  /** How many records carried it. */
  readonly records: number;
  /** The offset just past the record holding the message's last byte (that record may not have fully arrived). */
  readonly end: number;
  /** Bytes of that last record after the message (the start of the next handshake message, if any). */
  readonly trailing: number;
}

/** The stream opened with an alert record: the peer refused rather than spoke (level 2 = fatal). */
export interface TlsAlert {
  readonly kind: 'alert';
  readonly level: number;
  readonly description: number;
}

export type HandshakeRead = TlsNeedMore | HandshakeMessage | TlsAlert | TlsError;

const HEADER = 5;
const HANDSHAKE_HEADER = 4;
const MAX_MINOR = 4; // TLS 1.3's 0x0304; record versions above it are not a TLS this reader knows

/**
 * Reads the first handshake message from the start of a TLS stream, reassembling it across records.
 * `expectType` (a HANDSHAKE_TYPE) refuses any other message as soon as its type byte arrives.
 */
export function readHandshake(bytes: Uint8Array, expectType?: number, limits: HandshakeLimits = DEFAULT_LIMITS): HandshakeRead {
  const n = bytes.length;
  let pos = 0; // start of the current record
  let records = 0;
  let got = 0; // handshake bytes seen so far, header included
  let type = -1;
  let length = -1; // body length, known once the 4 header bytes are in
  for (;;) {
    // The record header, checked byte by byte so that a stream that is not TLS is refused from its first bytes.
    if (n <= pos) return needMore(pos + 1);
    const contentType = bytes[pos] as number;
    if (contentType !== CONTENT_TYPE.HANDSHAKE) {
      if (records > 0) return malformed(`a record of content type ${contentType} interrupts the handshake message (RFC 8446 5.1)`);
      if (contentType !== CONTENT_TYPE.ALERT) return notTls(bytes);
    }
    if (n <= pos + 1) return needMore(pos + 2);
    if (n <= pos + 2) return bytes[pos + 1] === 3 ? needMore(pos + 3) : badVersion(bytes, pos, records);
    if (bytes[pos + 1] !== 3 || (bytes[pos + 2] as number) > MAX_MINOR) return badVersion(bytes, pos, records);
    if (n < pos + HEADER) return needMore(pos + HEADER);
    const fragment = ((bytes[pos + 3] as number) << 8) | (bytes[pos + 4] as number);
    if (contentType === CONTENT_TYPE.ALERT) return readAlert(bytes, pos, fragment);
    if (fragment === 0) return malformed('an empty handshake record (RFC 8446 5.1 forbids them)');
    if (fragment > MAX_FRAGMENT) return malformed(`a record of ${fragment} bytes, over the ${MAX_FRAGMENT} a record may carry`);
    records++;
    const start = pos + HEADER;
    const end = start + fragment;
    const have = Math.min(end, n);
    let i = start;
    // The handshake header may itself be split across records, so it is read a byte at a time.
    while (got < HANDSHAKE_HEADER && i < have) {
      const b = bytes[i++] as number;
      if (got === 0) {
        type = b;
        if (expectType !== undefined && b !== expectType) {
          return malformed(`handshake message type ${b} where type ${expectType} was expected`);
        }
      } else {
        length = got === 1 ? b : (length << 8) | b;
      }
      got++;
      if (got === HANDSHAKE_HEADER && length > limits.maxMessageBytes) {
        return { kind: 'error', code: 'E_TLS_TOO_LARGE', reason: `a handshake message of ${length} bytes, over the limit of ${limits.maxMessageBytes}` };
      }
    }
    if (got < HANDSHAKE_HEADER) {
      if (have < end) return needMore(have + 1);
    } else {
      const missing = HANDSHAKE_HEADER + length - got; // body bytes still to come, this record's included
      if (missing <= end - i) {
        const last = i + missing;
        if (n < last) return needMore(last);
        const body = records === 1 ? bytes.subarray(start + HANDSHAKE_HEADER, last) : gather(bytes, length, records);
        return { kind: 'ok', type, body, records, end, trailing: end - last };
      }
      if (n < end) return needMore(end);
      got += end - i;
    }
    if (records >= limits.maxRecords) {
      return { kind: 'error', code: 'E_TLS_TOO_LARGE', reason: `the handshake message spans more than ${limits.maxRecords} records` };
    }
    pos = end;
  }
}

/** Copies a message body that spans `records` already-validated records into one buffer. */
function gather(bytes: Uint8Array, length: number, records: number): Uint8Array {
  const body = new Uint8Array(length);
  let skip = HANDSHAKE_HEADER;
  let filled = 0;
  let pos = 0;
  for (let r = 0; r < records && filled < length; r++) {
    const fragment = ((bytes[pos + 3] as number) << 8) | (bytes[pos + 4] as number);
    let start = pos + HEADER;
    const end = start + fragment;
    const dropped = Math.min(skip, fragment);
    start += dropped;
    skip -= dropped;
    const take = Math.min(end - start, length - filled);
    body.set(bytes.subarray(start, start + take), filled);
    filled += take;
    pos = end;
  }
  return body;
}

/** An alert opening the stream: exactly two bytes, level then description (RFC 8446 6). */
function readAlert(bytes: Uint8Array, pos: number, fragment: number): HandshakeRead {
  if (fragment !== 2) return malformed(`an alert record of ${fragment} bytes; alerts are 2`);
  if (bytes.length < pos + HEADER + 2) return needMore(pos + HEADER + 2);
  return { kind: 'alert', level: bytes[pos + HEADER] as number, description: bytes[pos + HEADER + 1] as number };
}

function needMore(atLeast: number): TlsNeedMore {
  return { kind: 'need-more', atLeast };
}

function badVersion(bytes: Uint8Array, pos: number, records: number): TlsError {
  const version = ((bytes[pos + 1] as number) << 8) | (bytes[pos + 2] ?? 0);
  const text = bytes.length > pos + 2 ? `0x${version.toString(16).padStart(4, '0')}` : `0x${(bytes[pos + 1] as number).toString(16).padStart(2, '0')}..`;
  if (records > 0) return malformed(`a continuation record with version ${text}, not 0x03xx`);
  return notTlsBecause(`record version ${text} is not a TLS version`, bytes);
}

/** Names what the first bytes look like, so that a log says "plain HTTP" rather than "byte 0x47". */
function notTls(bytes: Uint8Array): TlsError {
  const first = bytes[0] as number;
  // SSL 2.0's record header sets the top bit of a 2-byte length; its ClientHello is message type 1 (RFC 5246 E.2).
  if (first & 0x80 && bytes[2] === 1) {
    return notTlsBecause('an SSLv2-style ClientHello (RFC 5246 E.2); yoke reads only TLS records', bytes);
  }
  return notTlsBecause(`first byte 0x${first.toString(16).padStart(2, '0')} is not a TLS handshake record (0x16)`, bytes);
}

function notTlsBecause(why: string, bytes: Uint8Array): TlsError {
  let text = '';
  const shown = Math.min(bytes.length, 16);
  for (let i = 0; i < shown; i++) {
    const c = bytes[i] as number;
    if (c < 0x20 || c > 0x7e) break;
    text += String.fromCharCode(c);
  }
  const reason = text.length >= 3 ? `${why}: it starts with text ${JSON.stringify(text)}` : why;
  return { kind: 'error', code: 'E_TLS_NOT_TLS', reason };
}
