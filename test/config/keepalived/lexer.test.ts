import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lex, type Token } from '../../../services/config/keepalived/lexer.ts';

/** Tokens as short strings: words as `text@line:col` (quoted ones in «»), braces and line ends as { } ⏎. */
function shown(text: string): string[] {
  return lex(text).tokens.map((t: Token) => {
    if (t.kind === 'word') return `${t.quoted ? `«${t.text}»` : t.text}@${t.at.line}:${t.at.col}`;
    return { open: '{', close: '}', eol: '⏎' }[t.kind];
  });
}

describe('keepalived lexer', () => {
  it('splits words on blanks and tabs and marks each line end', () => {
    assert.deepEqual(shown('a b\tc\n  d\n'), ['a@1:1', 'b@1:3', 'c@1:5', '⏎', 'd@2:3', '⏎']);
  });

  it('treats CR before LF and a last line without LF alike', () => {
    assert.deepEqual(shown('a\r\nb'), ['a@1:1', '⏎', 'b@2:1']);
  });

  it('drops a leading byte-order mark', () => {
    assert.deepEqual(shown('\uFEFFglobal_defs {'), ['global_defs@1:1', '{']);
  });

  it('ends a line at # and ! anywhere outside quotes', () => {
    assert.deepEqual(shown('weight 1 # one\n! all\ninhibit_on_failure! x\n'), ['weight@1:1', '1@1:8', '⏎', '⏎', 'inhibit_on_failure@3:1', '⏎']);
  });

  it('keeps # and ! inside quotes', () => {
    assert.deepEqual(shown('misc_path "/bin/x #1 !"'), ['misc_path@1:1', '«/bin/x #1 !»@1:11']);
  });

  it('makes braces tokens of their own, even when glued to words', () => {
    assert.deepEqual(shown('url{path /}'), ['url@1:1', '{', 'path@1:5', '/@1:10', '}']);
  });

  it('joins quoted and unquoted pieces into one word, with either quote', () => {
    assert.deepEqual(shown(`a"b c"d 'e"f'`), ['«ab cd»@1:1', '«e"f»@1:9']);
  });

  it('decodes shell-like escapes inside quotes only', () => {
    const [, word] = lex('x "\\t\\n\\x41\\101\\cA\\q\\\\\\"" a\\tb').tokens;
    assert.equal(word?.kind === 'word' && word.text, '\t\nAA\x01q\\"');
    assert.equal(lex('a\\tb').tokens[0]?.kind === 'word' && (lex('a\\tb').tokens[0] as { text: string }).text, 'a\\tb');
  });

  it('counts columns in characters, not UTF-16 units or bytes', () => {
    assert.deepEqual(shown('"😀é" x'), ['«😀é»@1:1', 'x@1:6']);
  });

  it('reports an unterminated quote at the quote and goes on with the next line', () => {
    const r = lex('helo_name "foo\nweight 1\n');
    assert.deepEqual(r.faults, [{ at: { line: 1, col: 11 }, message: 'unterminated double quote: close it on the same line' }]);
    assert.deepEqual(shown('helo_name "foo\nweight 1\n').slice(2), ['⏎', 'weight@2:1', '1@2:8', '⏎']);
  });

  it('reads an include line\'s argument whole, braces and all', () => {
    assert.deepEqual(shown('include conf.d/{a,b}.conf # both\n'), ['include@1:1', 'conf.d/{a,b}.conf@1:9', '⏎']);
    assert.deepEqual(shown('  includer "my dir/*.conf"\n'), ['includer@1:3', '«my dir/*.conf»@1:12', '⏎']);
  });

  it('reads "include" elsewhere on a line as an ordinary word', () => {
    assert.deepEqual(shown('x include {a}'), ['x@1:1', 'include@1:3', '{', 'a@1:12', '}']);
  });

  it('never throws on any byte', () => {
    for (let c = 0; c < 256; c++) lex(`a${String.fromCharCode(c)}"${String.fromCharCode(c)}\\`);
  });
});
