// Chunked body rules byte by byte: each body text, and whether it decodes (with its data) or is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedDecoder } from '../../l7/http/chunked.ts';

/** Decodes text (latin1) fed in pieces at `splits`; returns data and where the message ended, or the error. */
function run(text: string, splits: readonly number[] = []): { data: string; next: number } | { error: string } | 'more' {
  const buf = Buffer.from(text, 'latin1');
  const d = new ChunkedDecoder({ maxExtensionBytes: 64, maxTrailerBytes: 64, maxTrailerCount: 2 });
  let data = '';
  let at = 0;
  for (const s of [...splits, buf.length]) {
    const piece = buf.subarray(at, s);
    const r = d.decode(piece, 0, piece.length, (b, x, y) => { data += b.toString('latin1', x, y); });
    if (r.kind === 'error') return { error: r.reason };
    if (r.kind === 'done') return { data, next: at + r.next };
    at = s;
  }
  return 'more';
}

const OK: ReadonlyArray<readonly [string, string]> = [
  ['5\r\nhello\r\n0\r\n\r\n', 'hello'],
  ['A\r\n0123456789\r\n0\r\n\r\n', '0123456789'],
  ['5;a=b\r\nhello\r\n000\r\n\r\n', 'hello'],
  ['5 ;a\t=\t"q\\"x";b\r\nhello\r\n0\r\n\r\n', 'hello'],
  ['5\r\nhello\r\n0\r\nX-T: v\r\nY:\r\n\r\n', 'hello'],
  ['0\r\n\r\n', ''],
  ['0000000000000001\r\nz\r\n0\r\n\r\n', 'z'],
];

const BAD: readonly string[] = [
  '\r\n\r\n', // empty size
  ' 0\r\n\r\n', // leading whitespace
  '0x5\r\nhello\r\n0\r\n\r\n',
  '-1\r\nz\r\n0\r\n\r\n',
  '5 \r\nhello\r\n0\r\n\r\n', // whitespace without extension
  '5;\r\nhello\r\n0\r\n\r\n', // ; without a name
  '5;a="x\r\nhello\r\n0\r\n\r\n', // unbalanced quote
  '5\rx\nhello\r\n0\r\n\r\n', // bare CR
  '5\nhello\r\n0\r\n\r\n', // bare LF
  '5\r\nhelloX\r\n0\r\n\r\n', // data longer than size
  '5\r\nhello\n0\r\n\r\n', // bare LF after data
  '00000000000000001\r\nz\r\n0\r\n\r\n', // 17 digits
  '20000000000000\r\n', // over 2^53
  '0\r\n X: y\r\n\r\n', // obs-fold in trailer
  '0\r\nX : y\r\n\r\n', // space before colon in trailer
  '0\r\nX: a\0\r\n\r\n', // NUL in trailer value
  '0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', // too many trailers
  `5;${'a'.repeat(70)}\r\nhello\r\n0\r\n\r\n`, // extension too long
  `0\r\nX: ${'a'.repeat(70)}\r\n\r\n`, // trailer too long
  '0\r\n\r\r', // bad final line end
];

describe('chunked body decoder', () => {
  for (const [text, want] of OK) {
    it(`decodes ${JSON.stringify(text)}`, () => {
      const r = run(`${text}NEXT`);
      assert.deepEqual(r, { data: want, next: text.length }, 'stops exactly at the end of the message');
      for (let s = 1; s < text.length; s++) assert.deepEqual(run(`${text}NEXT`, [s]), r, `split at ${s}`);
    });
  }
  for (const text of BAD) {
    it(`refuses ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`, () => {
      const r = run(text);
      assert.ok(typeof r === 'object' && 'error' in r, JSON.stringify(r));
      for (let s = 1; s < text.length; s++) assert.deepEqual(run(text, [s]), r, `split at ${s}`);
    });
  }
  it('waits for more inside a body', () => {
    assert.equal(run('5\r\nhel'), 'more');
    assert.equal(run('5\r\nhello\r\n0\r\n'), 'more');
  });
});
