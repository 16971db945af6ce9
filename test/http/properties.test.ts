// Properties: arbitrary bytes and mutations of valid requests never throw, never read past the message, and
// split reads agree with one read; a generated valid request parses back to what was generated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ChunkedDecoder } from '../../l7/http/chunked.ts';
import { requestFraming } from '../../l7/http/framing.ts';
import { RequestHeadParser } from '../../l7/http/request-head.ts';
import { drive, verdictOf } from './driver.ts';

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,12}$/);
const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/);
const path = fc.stringMatching(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]{0,30}$/);
const host = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?(:[0-9]{1,4})?$/);
const reserved = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect']);

const request = fc.record({
  method: token,
  path,
  host,
  fields: fc.array(fc.tuple(token.filter((n) => !reserved.has(n.toLowerCase())), value), { maxLength: 8 }),
  body: fc.uint8Array({ maxLength: 40 }),
  chunked: fc.boolean(),
}).map((r) => {
  const lines = [`${r.method} ${r.path} HTTP/1.1`, `Host: ${r.host}`, ...r.fields.map(([n, v]) => `${n}: ${v}`)];
  const body = Buffer.from(r.body);
  lines.push(r.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const framed = r.chunked
    ? Buffer.concat([body.length ? Buffer.from(`${body.length.toString(16)}\r\n`) : Buffer.alloc(0), body, body.length ? Buffer.from('\r\n') : Buffer.alloc(0), Buffer.from('0\r\n\r\n')])
    : body;
  return { ...r, bytes: Buffer.concat([head, framed]), headLength: head.length };
});

describe('HTTP codec properties', () => {
  it('a generated valid request round-trips: method, target, fields, body, consumed length', () => {
    fc.assert(fc.property(request, (r) => {
      const o = drive(r.bytes);
      assert.equal(o.end, 'clean');
      assert.equal(o.requests.length, 1);
      const q = o.requests[0]!;
      assert.equal(q.head.method, r.method);
      assert.equal(q.head.target, r.path);
      assert.equal(q.head.authority, r.host);
      assert.equal(q.head.consumed, r.headLength);
      assert.deepEqual(q.head.headers().slice(1, 1 + r.fields.length), r.fields);
      assert.deepEqual(q.body, Buffer.from(r.body));
    }), { numRuns: 500 });
  });

  it('random bytes never throw, and a head never claims bytes beyond those given', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const buf = Buffer.from(bytes);
      const r = new RequestHeadParser().parse(buf);
      if (r.kind === 'head') {
        assert.ok(r.head.consumed <= buf.length);
        requestFraming(r.head);
      }
      if (r.kind === 'error') assert.ok(r.at < buf.length);
      const c = new ChunkedDecoder().decode(buf);
      if (c.kind === 'done') assert.ok(c.next <= buf.length);
      drive(buf);
    }), { numRuns: 2000 });
  });

  it('mutated valid requests never throw, and two reads agree with one', () => {
    const mutated = fc.tuple(request, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat())
      .map(([r, edits, split]) => {
        const b = Buffer.from(r.bytes);
        for (const [at, byte] of edits) b[at % b.length] = byte;
        return { bytes: b, split: 1 + (split % Math.max(1, b.length - 1)) };
      });
    fc.assert(fc.property(mutated, ({ bytes, split }) => {
      const one = drive(bytes);
      const two = drive(bytes, [split]);
      assert.equal(verdictOf(two), verdictOf(one));
      assert.equal(two.error?.reason, one.error?.reason);
      assert.deepEqual(two.requests.map((q) => q.body), one.requests.map((q) => q.body));
      const used = one.requests.reduce((n, q) => n + q.head.consumed + q.body.length, 0);
      assert.ok(used <= bytes.length);
    }), { numRuns: 2000 });
  });
});
