/**
 * The end of an SMTP message (RFC 5321 4.1.1.4, 4.5.2): the content after a 354 ends at the first line that is a
 * lone `.`, i.e. at `CRLF . CRLF` (or `. CRLF` as the very first line: the empty message). A line `..` is a
 * dot-stuffed data line, never the end. Found incrementally, chunk by chunk, without holding any message bytes: the
 * state is the few terminator bytes matched so far, so a terminator split across reads (even byte by byte) is found
 * where it ends.
 *
 * Strict mode also reports the first bare CR or bare LF (RFC 5321 2.3.8: not allowed in message content). That is
 * the shape of SMTP smuggling: a server that takes `LF . LF` (or `CR . CR`) as the end would see a second
 * transaction yoke never routed, so the caller stops the message where it turns ambiguous.
 */

/** Where the scanner stands between chunks: how much of `CRLF . CRLF` the last bytes matched. */
export type DataScan = typeof MID | typeof CR_SEEN | typeof LINE_START | typeof DOT | typeof DOT_CR;

/** inside a line */
const MID = 0;
/** a CR ended the last chunk or was just read inside a line */
const CR_SEEN = 1;
/** at the start of a line: a `.` here may be the end */
const LINE_START = 2;
/** `.` at the start of a line */
const DOT = 3;
/** `.` CR at the start of a line: a LF ends the message */
const DOT_CR = 4;

/** The state at the start of the content, right after the 354: the first line may be the lone `.`. */
export const DATA_START: DataScan = LINE_START;

export type DataScanResult =
  /** every byte given is content; go on with `state` */
  | { readonly kind: 'more'; readonly state: DataScan }
  /** the message (terminator included) ends before offset `next`; the bytes from `next` on are commands */
  | { readonly kind: 'end'; readonly next: number }
  /** strict only: the byte at `at` shows a bare CR (a CR before it not followed by LF) or is a bare LF; the bytes
   * before `at` are plain content, scanning may go on from `at` with `state` (not strict) to find the end */
  | { readonly kind: 'bare'; readonly at: number; readonly state: DataScan };

const CR = 0x0d;
const LF = 0x0a;
const DOT_BYTE = 0x2e;

/** Scans `bytes` from `from` in state `state`: the end of the message, a bare CR/LF (when `strict`), or more. */
export function scanData(state: DataScan, bytes: Uint8Array, from: number, strict: boolean): DataScanResult {
  let st: DataScan = state;
  let i = from;
  const n = bytes.length;
  while (i < n) {
    if (st === MID) {
      // The fast path: a whole line at a time, two memchr-like searches instead of a loop over its bytes.
      const cr = bytes.indexOf(CR, i);
      if (strict) {
        const lf = bytes.indexOf(LF, i);
        if (lf >= 0 && (cr < 0 || lf < cr)) return { kind: 'bare', at: lf, state: MID };
      }
      if (cr < 0) return { kind: 'more', state: MID };
      i = cr + 1;
      st = CR_SEEN;
      continue;
    }
    const c = bytes[i] as number;
    switch (st) {
      case CR_SEEN:
        if (c === LF) { st = LINE_START; i++; continue; }
        if (strict) return { kind: 'bare', at: i, state: MID };
        st = MID; // look at this byte again inside the line (it may be a CR)
        continue;
      case LINE_START:
        if (c === DOT_BYTE) { st = DOT; i++; continue; }
        break;
      case DOT:
        if (c === CR) { st = DOT_CR; i++; continue; }
        break;
      case DOT_CR:
        if (c === LF) return { kind: 'end', next: i + 1 };
        if (strict) return { kind: 'bare', at: i, state: MID };
        st = MID;
        continue;
    }
    // Any other byte puts the scan inside a line; the MID path reads it (a CR, a bare LF, or text).
    st = MID;
  }
  return { kind: 'more', state: st };
}
