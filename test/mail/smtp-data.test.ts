// The end-of-data scanner (l7/mail/smtp-data.ts) byte by byte, split at every offset, and as properties: any
// message, dot-stuffed and cut anywhere, is recovered exactly with its end at the right offset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DATA_START, scanData, type DataScan, type DataScanResult } from '../../l7/mail/smtp-data.ts';

const B = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** What feeding `chunks` in order finds: the content before the end (or the bare byte), and where in the whole. */
interface Found {
  readonly kind: 'end' | 'bare' | 'more';
  /** offset in the concatenated input: after the terminator (end), of the revealing byte (bare) */
  readonly at: number;
  /** the bytes scanned as content before it (for end: the terminator included) */
  readonly content: string;
}

function feed(chunks: readonly Uint8Array[], strict = true): Found {
  let state: DataScan = DATA_START;
  let base = 0;
  let content = '';
  for (const chunk of chunks) {
    const r: DataScanResult = scanData(state, chunk, 0, strict);
    if (r.kind === 'more') { state = r.state; content += Buffer.from(chunk).toString('latin1'); base += chunk.length; continue; }
    const at = r.kind === 'end' ? r.next : r.at;
    content += Buffer.from(chunk.subarray(0, at)).toString('latin1');
    return { kind: r.kind, at: base + at, content };
  }
  return { kind: 'more', at: base, content };
}

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Uint8Array, at: readonly number[]): Uint8Array[] {
  const points = [...new Set(at.map((a) => Math.min(a, bytes.length)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) { out.push(bytes.subarray(from, p)); from = p; }
  out.push(bytes.subarray(from));
  return out;
}

/** The reference: the first `CRLF.CRLF` of CRLF + content, or -1 (the naive search, on the whole). */
function oracle(text: string): number {
  const k = `\r\n${text}`.indexOf('\r\n.\r\n');
  return k < 0 ? -1 : k + 3;
}

/** RFC 5321 4.5.2: a line starting with `.` gets one more. */
function stuff(lines: readonly string[]): string {
  return lines.map((l) => `${l.startsWith('.') ? '.' : ''}${l}\r\n`).join('');
}
function unstuff(content: string): string[] {
  const lines = content.split('\r\n');
  lines.pop(); // after the last CRLF
  return lines.map((l) => (l.startsWith('.') ? l.slice(1) : l));
}

describe('smtp end of data: bytes', () => {
  it('ends at CRLF . CRLF; the bytes after it are not content', () => {
    const msg = 'Subject: x\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@b>\r\n';
    const r = scanData(DATA_START, B(msg), 0, true);
    assert.deepEqual(r, { kind: 'end', next: msg.indexOf('MAIL') });
  });
  it('the empty message: a lone . as the first line', () => {
    assert.deepEqual(scanData(DATA_START, B('.\r\nQUIT\r\n'), 0, true), { kind: 'end', next: 3 });
  });
  it('dot-stuffed lines, a dot inside a line, dots followed by text are content', () => {
    for (const body of ['..\r\n', '...\r\n', '..x\r\n', 'a.\r\n', 'x\r\n.x\r\n', 'x\r\n. \r\n', 'x\r\n..\r\n']) {
      assert.deepEqual(scanData(DATA_START, B(body), 0, true), { kind: 'more', state: 2 }, body);
    }
  });
  it('starts where told; the state carries a terminator across chunks', () => {
    assert.deepEqual(scanData(DATA_START, B('xx\r\n.\r\n'), 2, true), { kind: 'end', next: 7 });
    let st: DataScan = DATA_START;
    const parts = ['a\r', '\n', '.', '\r', '\n'];
    parts.slice(0, -1).forEach((p) => {
      const r = scanData(st, B(p), 0, true);
      assert.equal(r.kind, 'more');
      if (r.kind === 'more') st = r.state;
    });
    assert.deepEqual(scanData(st, B('\nRSET'), 0, true), { kind: 'end', next: 1 });
  });
  it('strict: a bare LF, a bare CR, LF . LF, CR . CR and CRLF . LF are reported at the byte that shows them', () => {
    const cases: [string, number][] = [
      ['a\nb', 1], ['a\rb', 2], ['x\r\n.\nMAIL', 4], ['x\r\n.\rx', 5], ['\n.\n', 0], ['x\r.\r', 2], ['x\r\n\n', 3], ['.\n', 1], ['\r\r\n', 1],
    ];
    for (const [text, at] of cases) assert.deepEqual(feed([B(text)]), { kind: 'bare', at, content: text.slice(0, at) }, JSON.stringify(text));
  });
  it('not strict (a message being thrown away): bare CR/LF are content and only CRLF . CRLF ends', () => {
    const text = 'a\nb\r\n.\n\rc\r\r\n.\r\n';
    assert.deepEqual(feed([B(text)], false), { kind: 'end', at: text.length, content: text });
  });
  it('every split, and byte by byte, finds the same', () => {
    const texts = ['Subject: s\r\n\r\n..\r\n.x\r\nend\r\n.\r\nQUIT\r\n', '.\r\n', 'x\r\n.\rx', 'a\r\n\nb', 'no end yet\r\n.'];
    for (const text of texts) {
      const whole = feed([B(text)]);
      const bytes = B(text);
      for (let k = 0; k <= bytes.length; k++) assert.deepEqual(feed(cut(bytes, [k])), whole, `${JSON.stringify(text)} cut at ${k}`);
      assert.deepEqual(feed([...bytes].map((x) => Uint8Array.of(x))), whole, `${JSON.stringify(text)} byte by byte`);
    }
  });
});

describe('smtp end of data: properties', () => {
  const line = fc.string({ unit: fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x0d && b !== 0x0a).map((b) => String.fromCharCode(b)), maxLength: 40 });
  const dotty = fc.oneof(line, line.map((l) => `.${l}`), fc.constant('.'), fc.constant('..'));
  const cuts = fc.array(fc.nat(), { maxLength: 12 });

  it('any message, dot-stuffed and cut anywhere, is recovered exactly; the end is found right after its terminator', () => {
    fc.assert(fc.property(fc.array(dotty, { maxLength: 30 }), fc.string({ maxLength: 30 }), cuts, (lines, after, at) => {
      const content = stuff(lines);
      const wire = B(`${content}.\r\n${after}`);
      const r = feed(cut(wire, at.map((a) => a % (wire.length + 1))));
      assert.equal(r.kind, 'end');
      assert.equal(r.at, content.length + 3);
      assert.equal(r.content, `${content}.\r\n`);
      assert.deepEqual(unstuff(r.content.slice(0, -3)), lines);
    }), { numRuns: 500 });
  });

  it('any bytes, cut anywhere: the same answer as the whole, which is the first CRLF . CRLF or the first bare CR/LF', () => {
    const noisy = fc.array(fc.constantFrom('\r', '\n', '.', 'a', '\r\n', '\r\n.', '\r\n.\r\n', '..'), { maxLength: 30 }).map((p) => p.join(''));
    fc.assert(fc.property(noisy, cuts, (text, at) => {
      const bytes = B(text);
      const whole = feed([bytes]);
      assert.deepEqual(feed(cut(bytes, at.map((a) => a % (bytes.length + 1)))), whole);
      // Not strict: exactly the oracle.
      const lax = feed(cut(bytes, at.map((a) => a % (bytes.length + 1))), false);
      const end = oracle(text);
      assert.deepEqual(lax, end < 0 ? { kind: 'more', at: bytes.length, content: text } : { kind: 'end', at: end, content: text.slice(0, end) });
      // Strict: the end only when no bare CR/LF comes before it.
      if (whole.kind === 'end') {
        assert.equal(whole.at, end);
        assert.doesNotMatch(text.slice(0, end), /\r(?!\n)|(?<!\r)\n/);
      } else if (whole.kind === 'bare') {
        assert.ok(end < 0 || whole.at < end);
        assert.doesNotMatch(text.slice(0, whole.at), /(?<!\r)\n/, 'no bare LF before the one reported');
      } else {
        assert.equal(end, -1);
      }
    }), { numRuns: 1000 });
  });
});
