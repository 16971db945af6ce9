/**
 * The shapes and constants the TLS codec shares: record and handshake numbers (RFC 8446, RFC 5246), the
 * extension types yoke decodes, and the error result every reader and parser returns instead of throwing.
 */
import type { ErrorCode } from '../../core/errors.ts';

/** TLS record content types (RFC 8446 5.1). */
export const CONTENT_TYPE = {
  CHANGE_CIPHER_SPEC: 20,
  ALERT: 21,
  HANDSHAKE: 22,
  APPLICATION_DATA: 23,
} as const;

/** The handshake message types yoke reads (RFC 8446 4). */
export const HANDSHAKE_TYPE = {
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  NEW_SESSION_TICKET: 4,
} as const;

/** The extension types yoke decodes; every other type is listed by offset and left alone. */
export const EXTENSION_TYPE = {
  SERVER_NAME: 0, // RFC 6066 3
  ALPN: 16, // RFC 7301
  SESSION_TICKET: 35, // RFC 5077
  PRE_SHARED_KEY: 41, // RFC 8446 4.2.11
  EARLY_DATA: 42, // RFC 8446 4.2.10
  SUPPORTED_VERSIONS: 43, // RFC 8446 4.2.1
} as const;

/** Protocol versions as they appear on the wire. */
export const TLS_VERSION = {
  SSL3: 0x0300,
  TLS1_0: 0x0301,
  TLS1_1: 0x0302,
  TLS1_2: 0x0303,
  TLS1_3: 0x0304,
} as const;

/** The largest plaintext record fragment a peer may send (RFC 8446 5.1: 2^14). */
export const MAX_FRAGMENT = 16384;

/**
 * The ServerHello random that marks a HelloRetryRequest (RFC 8446 4.1.3: SHA-256 of "HelloRetryRequest").
 * A frozen array rather than a Uint8Array (typed arrays cannot be frozen), so no caller can corrupt it.
 */
export const HELLO_RETRY_REQUEST_RANDOM: readonly number[] = Object.freeze([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

/** The codes a TLS reader or parser can give; each is in core/errors.ts with what it means for an operator. */
export type TlsErrorCode = Extract<ErrorCode, 'E_TLS_NOT_TLS' | 'E_TLS_MALFORMED' | 'E_TLS_TOO_LARGE'>;

/** Why bytes were refused: a stable code for counters and a short reason for the log. */
export interface TlsError {
  readonly kind: 'error';
  readonly code: TlsErrorCode;
  readonly reason: string;
}

/** More bytes are needed; no answer can change before the buffer holds `atLeast` bytes in all. */
export interface TlsNeedMore {
  readonly kind: 'need-more';
  readonly atLeast: number;
}

/** One extension of a hello: its type and where its data lies in the handshake body (offset, length). */
export interface TlsExtension {
  readonly type: number;
  readonly offset: number;
  readonly length: number;
}

/** A malformed-input result; a function so that reasons are built only on the error path. */
export function malformed(reason: string): TlsError {
  return { kind: 'error', code: 'E_TLS_MALFORMED', reason };
}

/** Lower-case hex of a byte range, as stickiness keys and reasons print bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
