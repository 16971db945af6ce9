/**
 * IMAP command arguments over a command collected as parts: text, literal, text, literal, …, text (the `{n}` heads
 * already cut from the text). Just what the not-authenticated state needs (RFC 9051 9: tag, atom, astring with
 * quoted strings and literals), plus the encoder yoke uses to write a LOGIN for the backend.
 */
import { ascii, concat } from './types.ts';

/** ATOM-CHAR minus the atom-specials, as a 128-entry table; resp-specials `]` is allowed in an astring only. */
const ATOM = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) ATOM[c] = 1;
for (const c of '(){%*"\\]') ATOM[c.charCodeAt(0)] = 0;

function isAtomChar(c: number): boolean {
  return c < 128 && ATOM[c] === 1;
}
function isAstringChar(c: number): boolean {
  return isAtomChar(c) || c === 0x5d;
}

/** A reading position in a collected command. */
export class Args {
  readonly #parts: readonly Uint8Array[];
  #i = 0;
  #pos = 0;

  constructor(parts: readonly Uint8Array[]) {
    this.#parts = parts;
  }

  #text(): Uint8Array {
    return this.#parts[this.#i] as Uint8Array;
  }

  /** Whether the whole command has been read. */
  atEnd(): boolean {
    return this.#i === this.#parts.length - 1 && this.#pos === this.#text().length;
  }

  /** Reads one SP. */
  sp(): boolean {
    if (this.#text()[this.#pos] !== 0x20) return false;
    this.#pos++;
    return true;
  }

  /** A tag: ASTRING-CHARs except `+` (RFC 9051 tag). */
  tag(): Uint8Array | undefined {
    return this.#run((c) => isAstringChar(c) && c !== 0x2b);
  }

  /** An atom (command names, mechanism names). */
  atom(): Uint8Array | undefined {
    return this.#run(isAtomChar);
  }

  /** The rest of the current text, unparsed (ID's parameter list, an initial response). */
  restOfLine(): Uint8Array | undefined {
    if (this.#i !== this.#parts.length - 1) return undefined;
    const out = this.#text().subarray(this.#pos);
    this.#pos = this.#text().length;
    return out;
  }

  /** An astring: a literal, a quoted string (`\"` and `\\` escapes only) or ASTRING-CHARs; undefined if malformed. */
  astring(): Uint8Array | undefined {
    const text = this.#text();
    if (this.#pos === text.length) {
      if (this.#i + 2 >= this.#parts.length) return undefined;
      const literal = this.#parts[this.#i + 1] as Uint8Array;
      this.#i += 2;
      this.#pos = 0;
      return literal;
    }
    if (text[this.#pos] !== 0x22) return this.#run(isAstringChar);
    const out: number[] = [];
    for (let p = this.#pos + 1; p < text.length; p++) {
      let c = text[p] as number;
      if (c === 0x22) {
        this.#pos = p + 1;
        return Uint8Array.from(out);
      }
      if (c === 0x5c) {
        c = text[++p] ?? 0;
        if (c !== 0x22 && c !== 0x5c) return undefined;
      } else if (c === 0 || c === 0x0d || c === 0x0a) {
        return undefined;
      }
      out.push(c);
    }
    return undefined;
  }

  #run(ok: (c: number) => boolean): Uint8Array | undefined {
    const text = this.#text();
    let p = this.#pos;
    while (p < text.length && ok(text[p] as number)) p++;
    if (p === this.#pos) return undefined;
    const out = text.subarray(this.#pos, p);
    this.#pos = p;
    return out;
  }
}

/**
 * Writes an astring for the backend as segments: a quoted string when every byte is 7-bit text, else a
 * synchronizing literal, so the segment ends after `{n}\r\n` and the next (after the server's `+`) starts with the
 * octets. Only base IMAP4rev1 forms: any backend understands them without a CAPABILITY round trip.
 */
export function writeAstring(into: Uint8Array[], current: Uint8Array, value: Uint8Array): Uint8Array {
  let quotable = true;
  for (const c of value) if (c === 0 || c === 0x0d || c === 0x0a || c >= 0x80) quotable = false;
  if (!quotable) {
    into.push(concat(current, ascii(`{${value.length}}\r\n`)));
    return value;
  }
  const out: number[] = [0x22];
  for (const c of value) {
    if (c === 0x22 || c === 0x5c) out.push(0x5c);
    out.push(c);
  }
  out.push(0x22);
  return concat(current, Uint8Array.from(out));
}
