// The ServerHello parser byte by byte: versions, session ids, PSK acceptance, HelloRetryRequest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServerHello, readServerHello } from '../../l7/tls/server-hello.ts';
import { EXTENSION_TYPE as X, HELLO_RETRY_REQUEST_RANDOM } from '../../l7/tls/types.ts';
import { assertError, capture, captureNames, ext, handshake, hex, okServer, records, serverHelloBody } from './helpers.ts';

const stream = (spec: Parameters<typeof serverHelloBody>[0]) => readServerHello(records(handshake(2, serverHelloBody(spec)), [], 0x0303));
const HRR_RANDOM = Buffer.from(HELLO_RETRY_REQUEST_RANDOM);

describe('ServerHello', () => {
  it('TLS 1.2: legacy version is the version; the assigned session id and cipher suite are read', () => {
    const sid = Buffer.alloc(32, 0xab);
    const h = okServer(stream({ sessionId: sid, suite: 0xc02c, extensions: [ext(0xff01, hex('00')), ext(X.SESSION_TICKET)] }));
    assert.equal(h.version, 0x0303);
    assert.ok(Buffer.from(h.sessionId).equals(sid));
    assert.equal(h.cipherSuite, 0xc02c);
    assert.equal(h.compressionMethod, 0);
    assert.equal(h.ticketPromised, true);
    assert.equal(h.pskSelectedIdentity, undefined);
    assert.equal(h.helloRetryRequest, false);
  });

  it('no extension block at all (a TLS 1.0 server) still parses', () => {
    const h = okServer(stream({ version: 0x0301 }));
    assert.equal(h.version, 0x0301);
    assert.deepEqual(h.extensions, []);
  });

  it('TLS 1.3: supported_versions selects 0x0304; pre_shared_key gives the accepted identity', () => {
    const h = okServer(stream({ extensions: [ext(X.SUPPORTED_VERSIONS, hex('0304')), ext(X.PRE_SHARED_KEY, hex('0002'))] }));
    assert.equal(h.legacyVersion, 0x0303);
    assert.equal(h.version, 0x0304);
    assert.equal(h.pskSelectedIdentity, 2);
  });

  it('a HelloRetryRequest is known by its random (RFC 8446 4.1.3)', () => {
    const hrr = okServer(stream({ random: HRR_RANDOM, extensions: [ext(X.SUPPORTED_VERSIONS, hex('0304')), ext(51, hex('001d'))] }));
    assert.equal(hrr.helloRetryRequest, true);
    assert.equal(hrr.version, 0x0304);
    const almost = Buffer.from(HRR_RANDOM);
    almost[31] = 0;
    assert.equal(okServer(stream({ random: almost })).helloRetryRequest, false);
  });

  it('a TLS 1.2 flight packed in one record (ServerHello, then Certificate): trailing bytes allowed', () => {
    const hello = handshake(2, serverHelloBody({ sessionId: Buffer.alloc(32, 1) }));
    const flight = records(Buffer.concat([hello, handshake(11, Buffer.alloc(40))]), [], 0x0303);
    const r = readServerHello(flight);
    assert.ok(r.kind === 'ok' && r.end === flight.length);
    // Complete as soon as the ServerHello's last byte is in; the Certificate need not have arrived.
    assert.equal(readServerHello(flight.subarray(0, 5 + hello.length)).kind, 'ok');
    assert.equal(readServerHello(flight.subarray(0, 5 + hello.length - 1)).kind, 'need-more');
  });

  const refused: [string, Buffer, RegExp][] = [
    ['supported_versions holding a list', serverHelloBody({ extensions: [ext(X.SUPPORTED_VERSIONS, hex('020304'))] }), /one version/],
    ['pre_shared_key of 3 bytes', serverHelloBody({ extensions: [ext(X.PRE_SHARED_KEY, hex('000000'))] }), /one index/],
    ['pre_shared_key in a HelloRetryRequest', serverHelloBody({ random: HRR_RANDOM, extensions: [ext(X.PRE_SHARED_KEY, hex('0000'))] }), /HelloRetryRequest with pre_shared_key/],
    ['a session_ticket with data', serverHelloBody({ extensions: [ext(X.SESSION_TICKET, hex('00'))] }), /session_ticket of 1 bytes/],
    ['a session id of 33 bytes', Buffer.concat([hex('0303'), Buffer.alloc(32), hex('21'), Buffer.alloc(36)]), /33 bytes/],
    ['a version that is not 3.x', serverHelloBody({ version: 0x7f1c }), /0x7f1c/],
    ['the same extension twice', serverHelloBody({ extensions: [ext(0x17), ext(0x17)] }), /appears twice/],
  ];
  for (const [what, body, reason] of refused) {
    it(`malformed: ${what}`, () => assertError(parseServerHello(body), 'E_TLS_MALFORMED', reason));
  }

  it('every truncation of every captured ServerHello body is an error, except where one without extensions ends', () => {
    for (const name of captureNames('s2c')) {
      const bytes = capture(`${name}.s2c.bin`);
      const h = okServer(readServerHello(bytes));
      const length = bytes.readUIntBE(6, 3);
      const body = bytes.subarray(9, 9 + length);
      const fixedEnd = 35 + h.sessionId.length + 3;
      for (let k = 0; k < body.length; k++) {
        assert.equal(parseServerHello(body.subarray(0, k)).kind, k === fixedEnd ? 'ok' : 'error', `${name} at ${k}`);
      }
    }
  });
});
