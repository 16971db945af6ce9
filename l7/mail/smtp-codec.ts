/**
 * SMTP pieces without state: multi-line replies (RFC 5321 4.2: `ddd-text` lines ending in `ddd text`) read from a
 * buffer, and the reverse-path / forward-path of MAIL and RCPT (RFC 5321 4.1.2) split into local part and domain.
 */
import { readLine, type LineOptions } from './lines.ts';

/** One whole reply: its code and its raw lines (without CRLF). */
export interface Reply {
  readonly code: number;
  readonly lines: readonly Uint8Array[];
  /** offset after the reply's last line */
  readonly next: number;
}

const REPLY_LINES: LineOptions = { maxLine: 65536, bareLf: true };
/** The lines one reply may span: a backend's EHLO answer has a few dozen at most. */
const MAX_REPLY_LINES = 256;

function digit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** Reads one reply at `at`: a reply, need-more, or malformed (a line without a code, codes that differ). */
export function readReply(buf: Uint8Array, at: number): Reply | 'need-more' | 'malformed' {
  const lines: Uint8Array[] = [];
  let pos = at;
  let code = -1;
  for (;;) {
    const f = readLine(buf, pos, REPLY_LINES);
    if (f.kind === 'need-more') return 'need-more';
    if (f.kind !== 'line') return 'malformed';
    const l = f.line;
    if (!digit(l[0]) || !digit(l[1]) || !digit(l[2]) || (l.length > 3 && l[3] !== 0x20 && l[3] !== 0x2d)) return 'malformed';
    const c = ((l[0] as number) - 0x30) * 100 + ((l[1] as number) - 0x30) * 10 + ((l[2] as number) - 0x30);
    if (code >= 0 && c !== code) return 'malformed';
    code = c;
    lines.push(l);
    pos = f.next;
    if (l[3] !== 0x2d) return { code, lines, next: pos };
    if (lines.length >= MAX_REPLY_LINES) return 'malformed';
  }
}

/** atext of RFC 5322 3.2.3, plus 8-bit octets passed through as written (the backend judges SMTPUTF8). */
function isAtext(c: number): boolean {
  if (c >= 0x80) return true;
  if ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) return true;
  return "!#$%&'*+-/=?^_`{|}~".includes(String.fromCharCode(c));
}

/** A path's mailbox: the local part as meant (quoted-string unquoted) and the domain as written. */
export interface Mailbox {
  readonly local: Uint8Array;
  readonly domain: Uint8Array;
}

/**
 * Parses `<[@route,…:]local@domain>` from the start of `arg` (the text after `TO:`, spaces before `<` allowed);
 * the bytes after `>` must be empty or start with SP (ESMTP parameters). `<postmaster>` has an empty domain.
 */
export function parsePath(arg: Uint8Array): Mailbox | undefined {
  let p = 0;
  while (arg[p] === 0x20) p++;
  if (arg[p++] !== 0x3c) return undefined;
  if (arg[p] === 0x40) {
    // a source route (RFC 5321 4.1.2 A-d-l): accepted and ignored, as 4.1.1.3 asks
    const colon = arg.indexOf(0x3a, p);
    if (colon < 0) return undefined;
    p = colon + 1;
  }
  const local: number[] = [];
  if (arg[p] === 0x22) {
    for (p++; ; p++) {
      let c = arg[p];
      if (c === undefined || c === 0x0d || c === 0x0a) return undefined;
      if (c === 0x22) break;
      if (c === 0x5c) c = arg[++p];
      if (c === undefined || c < 0x20 || c === 0x7f) return undefined;
      local.push(c);
    }
    p++;
  } else {
    const start = p;
    while (p < arg.length && (isAtext(arg[p] as number) || arg[p] === 0x2e)) local.push(arg[p++] as number);
    if (p === start || arg[start] === 0x2e || arg[p - 1] === 0x2e) return undefined;
    for (let i = start + 1; i < p; i++) if (arg[i] === 0x2e && arg[i - 1] === 0x2e) return undefined;
  }
  if (local.length === 0) return undefined;
  let domain = new Uint8Array(0);
  if (arg[p] === 0x40) {
    const start = ++p;
    while (p < arg.length && arg[p] !== 0x3e) {
      const c = arg[p] as number;
      if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x40 || c === 0x22) return undefined;
      p++;
    }
    if (p === start) return undefined;
    domain = arg.slice(start, p);
  } else {
    const word = Buffer.from(local).toString('latin1').toLowerCase();
    if (word !== 'postmaster') return undefined;
  }
  if (arg[p++] !== 0x3e) return undefined;
  if (p < arg.length && arg[p] !== 0x20) return undefined;
  return { local: Uint8Array.from(local), domain };
}
