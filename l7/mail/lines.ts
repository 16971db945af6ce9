/**
 * Framing for the CRLF mail protocols: one line, or one IMAP literal, read from a buffer at an offset. Pure and
 * total: every answer is a frame, need-more or a protocol error, whatever the bytes, so a reader that calls again
 * with more bytes gets the same frames however its reads were split.
 *
 * Bare LF: a line ends at LF; a CR right before it is dropped. A LF without that CR is accepted only where the
 * caller says so (IMAP and POP3: yes, as Dovecot does, since yoke replays its own rebuilt commands and never the
 * client's raw command bytes; SMTP: no, a bare LF is the shape of SMTP smuggling, RFC 5321 2.3.8). A CR anywhere
 * else stays in the line for the protocol's parser to refuse.
 */

/** Limits and tolerances of one protocol's lines. */
export interface LineOptions {
  /** The longest line accepted, in octets including its CRLF. */
  readonly maxLine: number;
  /** Whether LF alone ends a line. */
  readonly bareLf: boolean;
  /** IMAP only: the largest literal (`{n}` / `{n+}`) announced at a line's end; absent = no literals. */
  readonly maxLiteral?: number;
}

/** A literal announced at the end of an IMAP line (RFC 9051 4.3, RFC 7888). */
export interface LiteralHead {
  /** The announced octet count. */
  readonly size: number;
  /** `{n}`: the client waits for a `+` continuation; `{n+}` (LITERAL+): the octets follow at once. */
  readonly sync: boolean;
  /** Where the `{` starts in the line: the line's text before the literal is `line.subarray(0, textEnd)`. */
  readonly textEnd: number;
  /** A synchronizing literal above maxLiteral: refuse the command; the client sends no octets for it. */
  readonly tooLarge: boolean;
}

export type Frame =
  | { readonly kind: 'line'; readonly line: Uint8Array; readonly next: number; readonly literal: LiteralHead | undefined }
  | { readonly kind: 'literal'; readonly bytes: Uint8Array; readonly next: number }
  | { readonly kind: 'need-more' }
  | LineError;

/** Why the bytes cannot be framed; the connection cannot continue in step with the peer. */
export interface LineError {
  readonly kind: 'error';
  readonly code: 'line-too-long' | 'bare-lf' | 'literal-too-large';
  readonly reason: string;
}

const NEED_MORE: Frame = Object.freeze({ kind: 'need-more' });
const LF = 0x0a;
const CR = 0x0d;

/** Reads one line from `buf` at `at`: the line without its terminator, the offset after it, and any literal head. */
export function readLine(buf: Uint8Array, at: number, opts: LineOptions): Frame {
  const limit = Math.min(buf.length, at + opts.maxLine);
  const lf = buf.indexOf(LF, at);
  if (lf < 0 || lf >= limit) {
    return buf.length - at >= opts.maxLine ? { kind: 'error', code: 'line-too-long', reason: `a line longer than ${opts.maxLine} octets` } : NEED_MORE;
  }
  const cr = lf > at && buf[lf - 1] === CR;
  if (!cr && !opts.bareLf) return { kind: 'error', code: 'bare-lf', reason: 'a line ended in LF without CR' };
  const line = buf.subarray(at, cr ? lf - 1 : lf);
  if (opts.maxLiteral === undefined) return { kind: 'line', line, next: lf + 1, literal: undefined };
  const literal = literalHead(line, opts.maxLiteral);
  if (literal !== undefined && literal.tooLarge && !literal.sync) {
    return { kind: 'error', code: 'literal-too-large', reason: `a non-synchronizing literal of ${literal.size} octets (limit ${opts.maxLiteral})` };
  }
  return { kind: 'line', line, next: lf + 1, literal };
}

/** Reads the `size` octets of a literal from `buf` at `at`. */
export function readLiteral(buf: Uint8Array, at: number, size: number): Frame {
  if (buf.length - at < size) return NEED_MORE;
  return { kind: 'literal', bytes: buf.subarray(at, at + size), next: at + size };
}

/** The digits a literal's size may have: 10 covers every 32-bit size; more is refused as too large. */
const MAX_DIGITS = 10;

/** Parses `{n}` or `{n+}` at the end of a line (RFC 9051 literal, RFC 7888 literal-plus). */
export function literalHead(line: Uint8Array, maxLiteral: number): LiteralHead | undefined {
  let i = line.length - 1;
  if (i < 2 || line[i] !== 0x7d) return undefined; // '}'
  i--;
  const sync = line[i] !== 0x2b; // '+'
  if (!sync) i--;
  const lastDigit = i;
  while (i >= 0 && (line[i] as number) >= 0x30 && (line[i] as number) <= 0x39) i--;
  const digits = lastDigit - i;
  if (digits === 0 || i < 0 || line[i] !== 0x7b) return undefined; // '{'
  let size = 0;
  for (let j = i + 1; j <= lastDigit && j <= i + MAX_DIGITS; j++) size = size * 10 + ((line[j] as number) - 0x30);
  const tooLarge = digits > MAX_DIGITS || size > maxLiteral;
  return { size: digits > MAX_DIGITS ? Number.MAX_SAFE_INTEGER : size, sync, textEnd: i, tooLarge };
}
