/**
 * The parts ClientHello and ServerHello share (RFC 8446 4.1.2, 4.1.3): they open with the same three fields
 * (version, random, session id) and close with the same extensions block (RFC 8446 4.2): a 2-byte total
 * length, then type (2), length (2) and data for each, listed by offset, not copied; each parser decodes its own.
 */
import { malformed, type TlsError, type TlsExtension } from './types.ts';

/** The opening fields; `next` is the offset of what follows the session id. */
export interface HelloStart {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly next: number;
}

/** Reads legacy_version (3.x), the 32-byte random and a session id of at most 32 bytes from a hello body. */
export function readHelloStart(body: Uint8Array, what: 'ClientHello' | 'ServerHello'): HelloStart | TlsError {
  const n = body.length;
  // version (2) + random (32) + session id length (1)
  if (n < 35) return malformed(`a ${what} of ${n} bytes, too short for its fixed fields`);
  const legacyVersion = u16(body, 0);
  if (body[0] !== 3) return malformed(`${what} version 0x${legacyVersion.toString(16).padStart(4, '0')} is not 0x03xx`);
  const sidLength = body[34] as number;
  if (sidLength > 32) return malformed(`a session id of ${sidLength} bytes; at most 32 are allowed`);
  if (n - 35 < sidLength) return malformed(`the ${what} ends inside its session id`);
  return { legacyVersion, random: body.subarray(2, 34), sessionId: body.subarray(35, 35 + sidLength), next: 35 + sidLength };
}

export type ExtensionsParse = { readonly kind: 'ok'; readonly list: readonly TlsExtension[] } | TlsError;

const NONE: readonly TlsExtension[] = Object.freeze([]);

/**
 * Lists the extensions of a hello whose fixed fields end at `pos` in `body`. No bytes left means no block
 * (hellos before TLS 1.2 could end there); otherwise the block must fill the body exactly, and no type may
 * appear twice (RFC 8446 4.2), since a server would read one copy and a router the other.
 */
export function parseExtensions(body: Uint8Array, pos: number): ExtensionsParse {
  const n = body.length;
  if (pos === n) return { kind: 'ok', list: NONE };
  if (n - pos < 2) return malformed('one byte after the fixed fields, where an extensions length (2 bytes) or nothing belongs');
  const total = u16(body, pos);
  pos += 2;
  if (total !== n - pos) return malformed(`extensions length ${total} but ${n - pos} bytes follow`);
  const list: TlsExtension[] = [];
  const seen = new Set<number>();
  while (pos < n) {
    if (n - pos < 4) return malformed('an extension header cut short by the end of the block');
    const type = u16(body, pos);
    const length = u16(body, pos + 2);
    pos += 4;
    if (length > n - pos) return malformed(`extension ${type} claims ${length} bytes but ${n - pos} remain`);
    if (seen.has(type)) return malformed(`extension ${type} appears twice`);
    seen.add(type);
    list.push({ type, offset: pos, length });
    pos += length;
  }
  return { kind: 'ok', list };
}

/** The extension of `type`, if present. */
export function findExtension(list: readonly TlsExtension[], type: number): TlsExtension | undefined {
  for (const e of list) if (e.type === type) return e;
  return undefined;
}

/** A big-endian 16-bit number; the caller has checked that both bytes exist. */
export function u16(b: Uint8Array, i: number): number {
  return ((b[i] as number) << 8) | (b[i + 1] as number);
}
