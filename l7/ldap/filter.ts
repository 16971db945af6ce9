/**
 * LDAP search filters as text (RFC 4515), pure: escaping a user name into a filter template with `{user}`, checking
 * a template once at config time, and a strict parser that turns filter text into a tree whose values are bytes.
 *
 * The parser is what the directory sends from (not the LDAP library's string parser, which reads `\c3\a9` as two
 * Latin-1 characters and so re-encodes UTF-8 names wrongly), and what the tests use to prove that no user name can
 * change a filter's structure.
 */

/** A parsed filter. Attribute names and matching rules are text; assertion values are the bytes to send. */
export type FilterNode =
  | { readonly type: 'and' | 'or'; readonly children: readonly FilterNode[] }
  | { readonly type: 'not'; readonly child: FilterNode }
  | { readonly type: 'equal' | 'approx' | 'ge' | 'le'; readonly attr: string; readonly value: Uint8Array }
  | { readonly type: 'present'; readonly attr: string }
  | {
    readonly type: 'substring'; readonly attr: string;
    readonly initial: Uint8Array | undefined; readonly any: readonly Uint8Array[]; readonly final: Uint8Array | undefined;
  }
  | { readonly type: 'extensible'; readonly attr: string | undefined; readonly dn: boolean; readonly rule: string | undefined; readonly value: Uint8Array };

export type ParseResult =
  | { readonly kind: 'ok'; readonly filter: FilterNode }
  | { readonly kind: 'malformed'; readonly at: number; readonly reason: string };

export type TemplateCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The placeholder a filter template holds for the user name. */
export const USER_PLACEHOLDER = '{user}';

const HEX = '0123456789abcdef';
const encoder = new TextEncoder();

/**
 * Escapes a value for a filter (RFC 4515 section 3): its UTF-8 bytes, with `*` `(` `)` `\`, NUL, every other control
 * byte and every byte of a non-ASCII character written as `\xx`. The result holds nothing a filter could read as syntax.
 */
export function escapeFilterValue(value: string): string {
  const bytes = encoder.encode(value);
  let out = '';
  for (const b of bytes) {
    if (b > 0x20 && b < 0x7f && b !== 0x2a && b !== 0x28 && b !== 0x29 && b !== 0x5c) out += String.fromCharCode(b);
    else if (b === 0x20) out += ' ';
    else out += '\\' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** The template with every `{user}` replaced by the escaped user name; the template must have passed checkFilterTemplate. */
export function renderFilter(template: string, user: string): string {
  return template.replaceAll(USER_PLACEHOLDER, escapeFilterValue(user));
}

/**
 * Checks a filter template: it holds `{user}`, its parentheses balance, it parses as an RFC 4515 filter, and `{user}`
 * stands only inside assertion values (never as an attribute name or a matching rule, where a name would become syntax).
 */
export function checkFilterTemplate(template: string): TemplateCheck {
  if (!template.includes(USER_PLACEHOLDER)) return { ok: false, reason: `the filter must contain ${USER_PLACEHOLDER}, where the user name goes` };
  let depth = 0;
  for (const ch of template) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) break;
  }
  if (depth !== 0) return { ok: false, reason: 'the filter\'s parentheses do not balance' };
  // An escaped byte is legal only in a value, so a probe made of escapes parses only where values are allowed.
  const probe = '\\00\\ff';
  const parsed = parseFilter(template.replaceAll(USER_PLACEHOLDER, probe));
  if (parsed.kind === 'malformed') return { ok: false, reason: `the filter is not valid RFC 4515 (with ${USER_PLACEHOLDER} standing in a value): ${parsed.reason}` };
  return { ok: true };
}

/** Parses filter text strictly by RFC 4515 (`(&…)` and `(|…)` need at least one filter); never throws. */
export function parseFilter(text: string): ParseResult {
  const p = new Parser(text);
  try {
    const filter = p.filter();
    if (p.pos !== text.length) p.fail('text after the filter\'s closing parenthesis');
    return { kind: 'ok', filter };
  } catch (e) {
    if (e instanceof Malformed) return { kind: 'malformed', at: e.at, reason: `${e.message} at offset ${e.at}` };
    throw e;
  }
}

class Malformed extends Error {
  readonly at: number;
  constructor(message: string, at: number) { super(message); this.at = at; }
}

const KEYCHAR = /[A-Za-z0-9-]/;
const NUMERICOID = /^[0-9]+(\.[0-9]+)+$|^[0-9]+$/;

class Parser {
  readonly text: string;
  pos = 0;
  constructor(text: string) { this.text = text; }

  fail(reason: string): never { throw new Malformed(reason, this.pos); }

  peek(): string | undefined { return this.text[this.pos]; }

  expect(ch: string): void {
    if (this.text[this.pos] !== ch) this.fail(`expected '${ch}'`);
    this.pos++;
  }

  filter(): FilterNode {
    this.expect('(');
    let node: FilterNode;
    const c = this.peek();
    if (c === '&' || c === '|') {
      this.pos++;
      const children: FilterNode[] = [];
      do children.push(this.filter()); while (this.peek() === '(');
      node = { type: c === '&' ? 'and' : 'or', children };
    } else if (c === '!') {
      this.pos++;
      node = { type: 'not', child: this.filter() };
    } else {
      node = this.item();
    }
    this.expect(')');
    return node;
  }

  /** attributedescription: a descr or numericoid, then `;option`s. */
  attr(): string | undefined {
    const start = this.pos;
    while (this.pos < this.text.length && /[A-Za-z0-9.;-]/.test(this.text[this.pos] as string)) this.pos++;
    if (this.pos === start) return undefined;
    const name = this.text.slice(start, this.pos);
    const [type, ...options] = name.split(';');
    const descr = /^[A-Za-z][A-Za-z0-9-]*$/;
    if (!(descr.test(type as string) || NUMERICOID.test(type as string)) || options.some((o) => !/^[A-Za-z0-9-]+$/.test(o))) {
      this.pos = start;
      this.fail(`'${name}' is not an attribute description`);
    }
    return name;
  }

  item(): FilterNode {
    const attr = this.attr();
    const c = this.peek();
    if (c === ':') return this.extensible(attr);
    if (attr === undefined) this.fail('expected an attribute name');
    if (c === '~' || c === '>' || c === '<') {
      this.pos++;
      this.expect('=');
      return { type: c === '~' ? 'approx' : c === '>' ? 'ge' : 'le', attr, value: this.value() };
    }
    this.expect('=');
    // equal, present or substring: values separated by unescaped '*'.
    const parts: Uint8Array[] = [this.value()];
    while (this.peek() === '*') {
      this.pos++;
      const part = this.value();
      if (part.length === 0 && this.peek() === '*') this.fail('an empty substring between two \'*\'');
      parts.push(part);
    }
    if (parts.length === 1) return { type: 'equal', attr, value: parts[0] as Uint8Array };
    if (parts.length === 2 && (parts[0] as Uint8Array).length === 0 && (parts[1] as Uint8Array).length === 0) return { type: 'present', attr };
    const first = parts[0] as Uint8Array;
    const last = parts[parts.length - 1] as Uint8Array;
    const middle = parts.slice(1, -1);
    return { type: 'substring', attr, initial: first.length > 0 ? first : undefined, any: middle, final: last.length > 0 ? last : undefined };
  }

  extensible(attr: string | undefined): FilterNode {
    let dn = false;
    let rule: string | undefined;
    if (this.text.startsWith(':dn', this.pos) && !KEYCHAR.test(this.text[this.pos + 3] ?? '') && this.text[this.pos + 3] !== '.') {
      dn = true;
      this.pos += 3;
    }
    if (this.peek() === ':' && this.text[this.pos + 1] !== '=') {
      this.pos++;
      const start = this.pos;
      while (this.pos < this.text.length && /[A-Za-z0-9.-]/.test(this.text[this.pos] as string)) this.pos++;
      rule = this.text.slice(start, this.pos);
      if (!(/^[A-Za-z][A-Za-z0-9-]*$/.test(rule) || NUMERICOID.test(rule))) { this.pos = start; this.fail('expected a matching rule'); }
    }
    if (attr === undefined && rule === undefined) this.fail('an extensible match needs an attribute or a matching rule');
    this.expect(':');
    this.expect('=');
    return { type: 'extensible', attr, dn, rule, value: this.value() };
  }

  /** valueencoding: normal characters (any but NUL ( ) * \) as UTF-8, and `\xx` escapes as the byte they name. */
  value(): Uint8Array {
    const bytes: number[] = [];
    for (;;) {
      const code = this.text.codePointAt(this.pos);
      if (code === undefined || code === 0x28 || code === 0x29 || code === 0x2a) break;
      if (code === 0) this.fail('a NUL in a value must be escaped as \\00');
      if (code === 0x5c) {
        const hex = this.text.slice(this.pos + 1, this.pos + 3);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) { this.pos++; this.fail('\'\\\' must be followed by two hex digits'); }
        bytes.push(parseInt(hex, 16));
        this.pos += 3;
        continue;
      }
      if (code >= 0xd800 && code <= 0xdfff) this.fail('a lone surrogate is not a character');
      const ch = String.fromCodePoint(code);
      for (const b of encoder.encode(ch)) bytes.push(b);
      this.pos += ch.length;
    }
    return Uint8Array.from(bytes);
  }
}
