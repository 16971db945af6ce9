/**
 * Byte classes of RFC 9110/9112 as one 256-entry table, so every per-byte test in the codecs is one load and
 * one AND instead of a chain of comparisons or a regex.
 */

/** tchar: the bytes of a token (method, field name, transfer coding, chunk-ext name). */
export const TOKEN = 1;
/** field-vchar / SP / HTAB: what a field value may hold (obs-text included, CTLs and DEL excluded). */
export const FIELD = 2;
/** VCHAR: what yoke accepts in a request-target (no SP, no CTLs, no non-ASCII). */
export const TARGET = 4;
/** HEXDIG. */
export const HEX = 8;
/** unreserved / sub-delims of RFC 3986: the bytes of a reg-name (pct-encoding is handled apart). */
export const REG_NAME = 16;
/** qdtext of a quoted-string. */
export const QDTEXT = 32;
/** SP or HTAB (OWS / BWS). */
export const WS = 64;

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

function build(): Uint8Array {
  const t = new Uint8Array(256);
  const add = (bits: number, chars: string): void => {
    for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = (t[chars.charCodeAt(i)] as number) | bits;
  };
  const range = (bits: number, from: number, to: number): void => {
    for (let c = from; c <= to; c++) t[c] = (t[c] as number) | bits;
  };
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  add(TOKEN, alnum + "!#$%&'*+-.^_`|~");
  range(FIELD, 0x21, 0x7e);
  range(FIELD, 0x80, 0xff);
  add(FIELD, ' \t');
  range(TARGET, 0x21, 0x7e);
  add(HEX, '0123456789abcdefABCDEF');
  add(REG_NAME, alnum + "-._~!$&'()*+,;=");
  add(QDTEXT, '\t !');
  range(QDTEXT, 0x23, 0x5b);
  range(QDTEXT, 0x5d, 0x7e);
  range(QDTEXT, 0x80, 0xff);
  add(WS, ' \t');
  return t;
}

export const CLASS: Uint8Array = build();

/** Value of a hex digit byte (caller checked HEX). */
export function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

/** Lower-case ASCII bytes of a literal, for eqLower. */
export function lowerBytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.toLowerCase(), 'latin1'));
}

/**
 * True if buf[start, end) equals the lower-case literal ignoring ASCII case. OR-ing 0x20 only folds letters
 * among the bytes a token may hold, and the literals are letters and '-', so no other byte can match.
 */
export function eqLower(buf: Uint8Array, start: number, end: number, lit: Uint8Array): boolean {
  if (end - start !== lit.length) return false;
  for (let k = 0; k < lit.length; k++) {
    if (((buf[start + k] as number) | 0x20) !== lit[k]) return false;
  }
  return true;
}
