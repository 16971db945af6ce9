/*
 * keepalived.conf as tokens: words, `{`, `}` and line ends, each at its 1-based line and column (the column counts
 * characters, as yoke's YAML positions do). The rules are Keepalived's, as its keepalived.conf(5) states them:
 * `#` and `!` start a comment anywhere outside quotes; a word may be built of quoted and unquoted pieces
 * (`ab"c d"e` is the one word `abc de`), with shell-like escapes inside quotes; braces outside quotes stand alone.
 * The argument of an include line is read whole, so that a brace pattern (`{a,b}.conf`) stays one word.
 */

/** A place in a source text. */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

export type Token =
  | { readonly kind: 'word'; readonly text: string; readonly quoted: boolean; readonly at: Pos }
  | { readonly kind: 'open' | 'close' | 'eol'; readonly at: Pos };

/** Something the lexer could not read: an unterminated quote. */
export interface LexFault {
  readonly at: Pos;
  readonly message: string;
}

export interface Lexed {
  readonly tokens: Token[];
  readonly faults: LexFault[];
}

/** The include keyword and its variants, whose argument is read as one word. */
export const INCLUDE_KEYWORDS: ReadonlySet<string> = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Splits a keepalived.conf text into tokens; never throws. */
export function lex(text: string): Lexed {
  const chars = Array.from(text.startsWith('\uFEFF') ? text.slice(1) : text);
  const tokens: Token[] = [];
  const faults: LexFault[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  let lineStart = true;
  const at = (): Pos => ({ line, col });
  const advance = (): void => { i++; col++; };

  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '\n') {
      tokens.push({ kind: 'eol', at: at() });
      i++; line++; col = 1; lineStart = true;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      advance();
    } else if (c === '#' || c === '!') {
      while (i < chars.length && chars[i] !== '\n') advance();
    } else if (c === '{' || c === '}') {
      tokens.push({ kind: c === '{' ? 'open' : 'close', at: at() });
      advance();
      lineStart = false;
    } else {
      const start = at();
      const word = readWord(chars, i, start, faults);
      tokens.push({ kind: 'word', text: word.text, quoted: word.quoted, at: start });
      col += word.end - i;
      i = word.end;
      if (lineStart && INCLUDE_KEYWORDS.has(word.text) && !word.quoted) {
        const arg = readRestOfLine(chars, i, { line, col }, faults);
        if (arg) tokens.push({ kind: 'word', text: arg.text, quoted: arg.quoted, at: arg.at });
        col += (arg?.end ?? i) - i;
        i = arg?.end ?? i;
      }
      lineStart = false;
    }
  }
  return { tokens, faults };
}

interface WordRead {
  text: string;
  quoted: boolean;
  /** Index just past the word. */
  end: number;
}

/** Reads one word from `i`: unquoted runs up to white space, a brace or a comment, joined with quoted runs. */
function readWord(chars: readonly string[], first: number, start: Pos, faults: LexFault[]): WordRead {
  let i = first;
  let text = '';
  let quoted = false;
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '"' || c === "'") {
      // A word never spans lines (a quote ends at the line's end), so columns advance with the index.
      const q = readQuoted(chars, i, { line: start.line, col: start.col + (i - first) }, faults);
      text += q.text;
      quoted = true;
      i = q.end;
    } else if (/[ \t\r\f\v\n{}#!]/.test(c)) {
      break;
    } else {
      text += c;
      i++;
    }
  }
  return { text, quoted, end: i };
}

/** Reads a quoted run from the quote at `i`; an unterminated one is a fault at its opening quote and ends at the line's end. */
function readQuoted(chars: readonly string[], i: number, at: Pos, faults: LexFault[]): { text: string; end: number } {
  const quote = chars[i]!;
  let text = '';
  let j = i + 1;
  while (j < chars.length && chars[j] !== quote && chars[j] !== '\n') {
    if (chars[j] === '\\' && j + 1 < chars.length && chars[j + 1] !== '\n') {
      const e = escape(chars, j + 1);
      text += e.text;
      j = e.end;
    } else {
      text += chars[j];
      j++;
    }
  }
  if (chars[j] !== quote) {
    faults.push({ at, message: `unterminated ${quote === '"' ? 'double' : 'single'} quote: close it on the same line` });
    return { text, end: j };
  }
  return { text, end: j + 1 };
}

/** Decodes the escape after a backslash at `j`: \a \b \E \f \n \r \t \v, \nnn (octal), \xXX, \cC, else the character itself. */
function escape(chars: readonly string[], j: number): { text: string; end: number } {
  const c = chars[j]!;
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return { text: simple, end: j + 1 };
  if (/[0-7]/.test(c)) {
    let digits = '';
    while (digits.length < 3 && /[0-7]/.test(chars[j + digits.length] ?? '')) digits += chars[j + digits.length];
    return { text: String.fromCharCode(parseInt(digits, 8) & 0xff), end: j + digits.length };
  }
  if (c === 'x') {
    let digits = '';
    while (digits.length < 2 && /[0-9a-fA-F]/.test(chars[j + 1 + digits.length] ?? '')) digits += chars[j + 1 + digits.length];
    return digits ? { text: String.fromCharCode(parseInt(digits, 16)), end: j + 1 + digits.length } : { text: 'x', end: j + 1 };
  }
  if (c === 'c' && j + 1 < chars.length && chars[j + 1] !== '\n') {
    return { text: String.fromCharCode(chars[j + 1]!.toUpperCase().charCodeAt(0) ^ 0x40), end: j + 2 };
  }
  return { text: c, end: j + 1 };
}

/** An include line's argument: the rest of the line up to a comment, trimmed; one quoted string loses its quotes. */
function readRestOfLine(chars: readonly string[], i: number, at: Pos, faults: LexFault[]): (WordRead & { at: Pos }) | undefined {
  let j = i;
  while (j < chars.length && (chars[j] === ' ' || chars[j] === '\t')) j++;
  const start: Pos = { line: at.line, col: at.col + (j - i) };
  if (chars[j] === '"' || chars[j] === "'") {
    const q = readQuoted(chars, j, start, faults);
    return { text: q.text, quoted: true, end: q.end, at: start };
  }
  let end = j;
  while (end < chars.length && !/[\n#!]/.test(chars[end]!)) end++;
  const text = chars.slice(j, end).join('').trimEnd();
  if (!text) return undefined;
  return { text, quoted: false, end: j + Array.from(text).length, at: start };
}
