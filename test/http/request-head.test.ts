// Byte-level rules of the request head and framing, one line each: the bytes, and the status (or accept).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestFraming } from '../../l7/http/framing.ts';
import { RequestHeadParser, parseRequestHead } from '../../l7/http/request-head.ts';

const H = 'Host: h\r\n';
type Case = readonly [name: string, bytes: string, want: number | 'ok' | 'more'];

/** Head + framing of one request given as latin1 text; returns the status, 'ok' or 'more'. */
function judge(text: string, limits?: ConstructorParameters<typeof RequestHeadParser>[0]): number | 'ok' | 'more' {
  const r = new RequestHeadParser(limits).parse(Buffer.from(text, 'latin1'));
  if (r.kind === 'need-more') return 'more';
  if (r.kind === 'error') return r.status;
  const f = requestFraming(r.head);
  return f.kind === 'error' ? f.status : 'ok';
}

const CASES: Case[] = [
  ['plain GET', `GET / HTTP/1.1\r\n${H}\r\n`, 'ok'],
  ['one leading empty line', `\r\nGET / HTTP/1.1\r\n${H}\r\n`, 'ok'],
  ['bare LF before request line', `\nGET / HTTP/1.1\r\n${H}\r\n`, 400],
  ['lower-case method is a token', `get / HTTP/1.1\r\n${H}\r\n`, 'ok'],
  ['method not a token', `G@T / HTTP/1.1\r\n${H}\r\n`, 400],
  ['method over 32 bytes', `${'A'.repeat(33)} / HTTP/1.1\r\n${H}\r\n`, 400],
  ['tab separator', `GET\t/ HTTP/1.1\r\n${H}\r\n`, 400],
  ['two spaces', `GET  / HTTP/1.1\r\n${H}\r\n`, 400],
  ['space in target', `GET /a b HTTP/1.1\r\n${H}\r\n`, 400],
  ['NUL in target', `GET /a\0 HTTP/1.1\r\n${H}\r\n`, 400],
  ['UTF-8 in target', `GET /\xc3\xa9 HTTP/1.1\r\n${H}\r\n`, 400],
  ['target not a form', `GET ! HTTP/1.1\r\n${H}\r\n`, 400],
  ['asterisk with OPTIONS', `OPTIONS * HTTP/1.1\r\n${H}\r\n`, 'ok'],
  ['asterisk with GET', `GET * HTTP/1.1\r\n${H}\r\n`, 400],
  ['absolute-form', `GET http://a.test:8080/x?y HTTP/1.1\r\n${H}\r\n`, 'ok'],
  ['absolute-form HTTPS upper case', `GET HTTPS://a.test/ HTTP/1.1\r\n${H}\r\n`, 'ok'],
  ['absolute-form ftp', `GET ftp://a.test/ HTTP/1.1\r\n${H}\r\n`, 400],
  ['absolute-form empty host', `GET http:///x HTTP/1.1\r\n${H}\r\n`, 400],
  ['absolute-form userinfo', `GET http://u@a.test/ HTTP/1.1\r\n${H}\r\n`, 400],
  ['CONNECT', `CONNECT a.test:443 HTTP/1.1\r\n${H}\r\n`, 501],
  ['CONNECT without port', `CONNECT a.test HTTP/1.1\r\n${H}\r\n`, 400],
  ['HTTP/1.0 without Host', 'GET / HTTP/1.0\r\n\r\n', 'ok'],
  ['HTTP/2.0', `GET / HTTP/2.0\r\n${H}\r\n`, 505],
  ['HTTP/0.9', 'GET /\r\n\r\n', 400],
  ['lower-case http', `GET / http/1.1\r\n${H}\r\n`, 400],
  ['version junk', `GET / HTTP/1.1x\r\n${H}\r\n`, 400],
  ['bare LF after request line', `GET / HTTP/1.1\n${H}\r\n`, 400],
  ['bare CR after request line', `GET / HTTP/1.1\rHost: h\r\n\r\n`, 400],
  ['missing Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['two Host', `GET / HTTP/1.1\r\n${H}${H}\r\n`, 400],
  ['Host with space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n', 400],
  ['Host with port', 'GET / HTTP/1.1\r\nHost: a.test:8080\r\n\r\n', 'ok'],
  ['Host port too big', 'GET / HTTP/1.1\r\nHost: a.test:65536\r\n\r\n', 400],
  ['Host IPv6', 'GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n', 'ok'],
  ['Host bad IPv6', 'GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n', 400],
  ['Host pct-encoded', 'GET / HTTP/1.1\r\nHost: a%41b\r\n\r\n', 'ok'],
  ['Host bad pct', 'GET / HTTP/1.1\r\nHost: a%4\r\n\r\n', 400],
  ['empty Host value', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', 'ok'],
  ['space before colon', `GET / HTTP/1.1\r\n${H}X : y\r\n\r\n`, 400],
  ['empty field name', `GET / HTTP/1.1\r\n${H}: y\r\n\r\n`, 400],
  ['no colon', `GET / HTTP/1.1\r\n${H}X\r\n\r\n`, 400],
  ['obs-fold', `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`, 400],
  ['whitespace first line', `GET / HTTP/1.1\r\n ${H}\r\n`, 400],
  ['bare CR in value', `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`, 400],
  ['bare LF in value', `GET / HTTP/1.1\r\n${H}X: a\nb\r\n\r\n`, 400],
  ['NUL in value', `GET / HTTP/1.1\r\n${H}X: a\0b\r\n\r\n`, 400],
  ['DEL in value', `GET / HTTP/1.1\r\n${H}X: a\x7fb\r\n\r\n`, 400],
  ['HTAB and obs-text in value', `GET / HTTP/1.1\r\n${H}X: a\tb\xa0\xff\r\n\r\n`, 'ok'],
  ['bare LF as end of head', `GET / HTTP/1.1\r\n${H}\n`, 400],
  ['Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\n`, 'ok'],
  ['Content-Length leading zeros', `POST / HTTP/1.1\r\n${H}Content-Length: 007\r\n\r\n`, 'ok'],
  ['Content-Length OWS', `POST / HTTP/1.1\r\n${H}Content-Length: \t5 \t\r\n\r\n`, 'ok'],
  ['Content-Length empty', `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n`, 400],
  ['Content-Length sign', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\n`, 400],
  ['Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\n`, 400],
  ['Content-Length twice equal', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\n`, 400],
  ['Content-Length 2^53', `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`, 400],
  ['Content-Length 2^53-1', `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740991\r\n\r\n`, 'ok'],
  ['chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, 'ok'],
  ['CHUNKED', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\n\r\n`, 'ok'],
  ['chunked, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n`, 400],
  ['xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n`, 400],
  ['chunked NUL', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\0\r\n\r\n`, 400],
  ['chunked 0xA0', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\xa0\r\n\r\n`, 400],
  ['chunked 0x85', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \x85chunked\r\n\r\n`, 400],
  ['identity', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, 400],
  ['gzip, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`, 501],
  ['chunked, gzip', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 400],
  [',chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: ,chunked\r\n\r\n`, 400],
  ['TE twice', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ['TE with CL', `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ['CL with TE', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n`, 400],
  ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
  ['Expect 100-continue', `POST / HTTP/1.1\r\n${H}Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n`, 'ok'],
  ['Expect other', `POST / HTTP/1.1\r\n${H}Expect: 200-ok\r\n\r\n`, 417],
  ['Connection junk', `GET / HTTP/1.1\r\n${H}Connection: "close"\r\n\r\n`, 400],
  ['incomplete head', `GET / HTTP/1.1\r\n${H}`, 'more'],
  ['invalid version decided early', 'GET / HTTP/5.6', 505],
  ['duplicate CL decided before the head ends', `PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length:`, 400],
];

describe('request head and framing rules', () => {
  for (const [name, bytes, want] of CASES) {
    it(`${name} → ${want}`, () => assert.equal(judge(bytes), want));
  }

  it('limits: 414 for a long target, 431 for a long head or too many fields', () => {
    const limits = { maxHeadBytes: 200, maxHeaderCount: 3, maxTargetLength: 20 };
    assert.equal(judge(`GET /${'a'.repeat(20)} HTTP/1.1\r\n${H}\r\n`, limits), 414);
    assert.equal(judge(`GET /${'a'.repeat(19)} HTTP/1.1\r\n${H}\r\n`, limits), 'ok');
    assert.equal(judge(`GET / HTTP/1.1\r\n${H}X: ${'a'.repeat(200)}`, limits), 431);
    assert.equal(judge(`GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\nC: 3\r\n\r\n`, limits), 431);
    assert.equal(judge(`GET / HTTP/1.1\r\n${H}A: 1\r\nB: 2\r\n\r\n`, limits), 'ok');
  });

  it('a parsed head gives method, target, version, fields in order and the byte length', () => {
    const text = `\r\nPOST /p?q=1 HTTP/1.1\r\nHost: a.test\r\nX-Thing:  v  \r\nContent-Length: 3\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\nabc`;
    const r = parseRequestHead(Buffer.from(text, 'latin1'));
    assert.equal(r.kind, 'head');
    if (r.kind !== 'head') return;
    const h = r.head;
    assert.equal(h.method, 'POST');
    assert.equal(h.target, '/p?q=1');
    assert.equal(h.version, '1.1');
    assert.equal(h.form, 'origin');
    assert.equal(h.authority, 'a.test');
    assert.equal(h.consumed, text.length - 3);
    assert.equal(h.raw.toString('latin1'), text.slice(2, -3));
    assert.deepEqual(h.headers(), [['Host', 'a.test'], ['X-Thing', 'v'], ['Content-Length', '3'], ['Connection', 'keep-alive, Upgrade'], ['Upgrade', 'websocket']]);
    assert.equal(h.lowerNameAt(1), 'x-thing');
    assert.equal(h.get('x-thing'), 'v');
    assert.equal(h.get('nope'), undefined);
    const f = requestFraming(h);
    assert.equal(f.kind, 'framing');
    if (f.kind !== 'framing') return;
    assert.deepEqual({ ...f }, { kind: 'framing', body: 'length', length: 3, keepAlive: true, upgrade: 'websocket', expectContinue: false });
  });

  it('persistence: 1.1 unless close, 1.0 only with keep-alive; Upgrade needs the upgrade option and 1.1', () => {
    const frame = (text: string) => {
      const r = parseRequestHead(Buffer.from(text, 'latin1'));
      assert.equal(r.kind, 'head');
      const f = r.kind === 'head' ? requestFraming(r.head) : r;
      assert.equal(f.kind, 'framing');
      return f.kind === 'framing' ? f : assert.fail();
    };
    assert.equal(frame(`GET / HTTP/1.1\r\n${H}\r\n`).keepAlive, true);
    assert.equal(frame(`GET / HTTP/1.1\r\n${H}Connection: foo, CLOSE\r\n\r\n`).keepAlive, false);
    assert.equal(frame('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
    assert.equal(frame('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true);
    assert.equal(frame(`GET / HTTP/1.1\r\n${H}Upgrade: ws\r\n\r\n`).upgrade, undefined);
    assert.equal(frame('GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: ws\r\n\r\n').upgrade, undefined);
    assert.equal(frame(`GET / HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`).body, 'none');
    assert.equal(frame(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`).body, 'chunked');
  });

  it('absolute-form: the authority comes from the target, not Host (RFC 9112 3.2.2)', () => {
    const r = parseRequestHead(Buffer.from('GET http://A.test:81?x HTTP/1.1\r\nHost: other\r\n\r\n'));
    assert.ok(r.kind === 'head');
    assert.equal(r.head.form, 'absolute');
    assert.equal(r.head.authority, 'A.test:81');
    assert.equal(r.head.target, 'http://A.test:81?x');
  });

  it('resumes where it stopped and refuses reuse without reset()', () => {
    const p = new RequestHeadParser();
    const all = Buffer.from(`GET / HTTP/1.1\r\n${H}\r\n`);
    assert.equal(p.parse(all, 0, 10).kind, 'need-more');
    assert.equal(p.parse(all).kind, 'head');
    assert.equal(p.parse(all).kind, 'error');
    p.reset();
    assert.equal(p.parse(all).kind, 'head');
  });

  it('parses from an offset inside a larger buffer', () => {
    const buf = Buffer.from(`junk!GET /x HTTP/1.1\r\n${H}\r\nmore`);
    const r = parseRequestHead(buf, 5, buf.length);
    assert.ok(r.kind === 'head');
    assert.equal(r.head.target, '/x');
    assert.equal(r.head.consumed, buf.length - 9);
  });
});
