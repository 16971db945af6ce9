// The ClientHello parser byte by byte: fixed fields, the decoded extensions, and what it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientHello, readClientHello } from '../../l7/tls/client-hello.ts';
import { EXTENSION_TYPE as X } from '../../l7/tls/types.ts';
import {
  alpnData, assertError, capture, captureNames, clientHelloBody, clientHelloStream, ext, hex, okClient, pskData, sniData, toHex, vec16, versionsData,
} from './helpers.ts';

const withExtensions = (...extensions: Buffer[]) => readClientHello(clientHelloStream({ extensions }));
const sni = (...names: (string | [number, string])[]) => withExtensions(ext(X.SERVER_NAME, sniData(...names)));

describe('fixed fields', () => {
  it('a minimal hello: version, random, empty session id, suites, compression, no extension block', () => {
    const h = okClient(readClientHello(clientHelloStream({ random: Buffer.alloc(32, 7), suites: [0x1301, 0x1302, 0x00ff] })));
    assert.equal(h.legacyVersion, 0x0303);
    assert.equal(toHex(h.random), '07'.repeat(32));
    assert.equal(h.sessionId.length, 0);
    assert.equal(h.cipherSuiteCount, 3);
    assert.deepEqual([...h.compressionMethods], [0]);
    assert.deepEqual(h.extensions, []);
    assert.equal(h.serverName, undefined);
    assert.equal(h.offersTls13, false);
  });

  it('extensions are listed by type, offset and length in the body', () => {
    const body = clientHelloBody({ extensions: [ext(0x0a0a), ext(0x0017), ext(0x0015, hex('000000'))] });
    const r = parseClientHello(body);
    assert.ok(r.kind === 'ok');
    const start = body.length - 3;
    assert.deepEqual(r.hello.extensions, [
      { type: 0x0a0a, offset: start - 12 + 4, length: 0 },
      { type: 0x0017, offset: start - 8 + 4, length: 0 },
      { type: 0x0015, offset: start, length: 3 },
    ]);
  });

  const bad: [string, Buffer, RegExp][] = [
    ['a session id of 33 bytes', Buffer.concat([hex('0303'), Buffer.alloc(32), hex('21'), Buffer.alloc(33), hex('0002 1301 0100')]), /33 bytes; at most 32/],
    ['an odd cipher suites length', clientHelloBody().fill(0x03, 36, 37), /cipher suites length of 3/],
    ['no cipher suites', Buffer.concat([hex('0303'), Buffer.alloc(32), hex('00 0000 0100')]), /cipher suites length of 0/],
    ['no compression methods', Buffer.concat([hex('0303'), Buffer.alloc(32), hex('00 0002 1301 00')]), /no compression methods/],
    ['a version that is not 3.x', clientHelloBody({ version: 0x0200 }), /0x0200 is not 0x03xx/],
    ['one stray byte after the compression methods', Buffer.concat([clientHelloBody(), hex('00')]), /one byte after the fixed fields/],
    ['an extensions length short of the body', Buffer.concat([clientHelloBody(), hex('0005 0017 0000')]), /extensions length 5 but 4/],
    ['an extension longer than the block', Buffer.concat([clientHelloBody(), hex('0004 0017 0001')]), /claims 1 bytes but 0 remain/],
    ['an extension header cut short', Buffer.concat([clientHelloBody(), hex('0002 0017')]), /cut short/],
    ['the same extension twice', clientHelloBody({ extensions: [ext(0x17), ext(0x16), ext(0x17)] }), /extension 23 appears twice/],
  ];
  for (const [what, body, reason] of bad) {
    it(`malformed: ${what}`, () => assertError(parseClientHello(body), 'E_TLS_MALFORMED', reason));
  }

  it('every truncation of every captured body is an error, except where a hello without extensions ends', () => {
    for (const name of captureNames('clienthello')) {
      const body = capture(`${name}.clienthello.bin`).subarray(9);
      const first = okClient(readClientHello(capture(`${name}.clienthello.bin`))).extensions[0];
      const fixedEnd = (first?.offset ?? 0) - 6; // before the block's length (2) and the first extension's header (4)
      for (let k = 0; k < body.length; k++) {
        assert.equal(parseClientHello(body.subarray(0, k)).kind, k === fixedEnd ? 'ok' : 'error', `${name} at ${k}`);
      }
    }
  });
});

describe('server_name (RFC 6066 3)', () => {
  it('a host name is lower-cased, and one trailing dot dropped', () => {
    assert.equal(okClient(sni('WWW.Example.COM')).serverName, 'www.example.com');
    assert.equal(okClient(sni('a.example.')).serverName, 'a.example');
    assert.equal(okClient(sni('xn--bcher-kva.example')).serverName, 'xn--bcher-kva.example');
    assert.equal(okClient(sni('_svc.internal-1.example')).serverName, '_svc.internal-1.example');
    assert.equal(okClient(sni('localhost')).serverName, 'localhost');
  });

  it('lengths at the DNS limits: 63-character labels and 253-character names pass, one more fails', () => {
    const label = 'a'.repeat(63);
    const name253 = `${label}.${label}.${label}.${'b'.repeat(61)}`;
    assert.equal(name253.length, 253);
    assert.equal(okClient(sni(name253)).serverName, name253);
    assertError(sni(`${name253}c`), 'E_TLS_MALFORMED', /254 characters/);
    assertError(sni(`${label}a.example`), 'E_TLS_MALFORMED', /label of 64/);
  });

  it('a name type other than host_name is skipped by its length', () => {
    assert.equal(okClient(sni([7, 'opaque'], 'a.example')).serverName, 'a.example');
    assert.equal(okClient(sni([7, 'opaque'])).serverName, undefined);
  });

  const refused: [string, Buffer, RegExp][] = [
    ['two host names', ext(X.SERVER_NAME, sniData('a.example', 'b.example')), /two host names/],
    ['an IPv4 literal', ext(X.SERVER_NAME, sniData('192.0.2.1')), /IP address/],
    ['an IPv6 literal', ext(X.SERVER_NAME, sniData('::1')), /byte 0x3a/],
    ['a NUL byte', ext(X.SERVER_NAME, sniData('a.example\0.evil')), /byte 0x00/],
    ['a space', ext(X.SERVER_NAME, sniData('a example')), /byte 0x20/],
    ['a byte over 0x7f', ext(X.SERVER_NAME, sniData('caf\xe9.example')), /byte 0xe9/],
    ['an empty label', ext(X.SERVER_NAME, sniData('a..example')), /empty label/],
    ['a lone dot', ext(X.SERVER_NAME, sniData('.')), /empty label/],
    ['a label starting with "-"', ext(X.SERVER_NAME, sniData('-a.example')), /starts or ends/],
    ['an empty host name', ext(X.SERVER_NAME, hex('0003 00 0000')), /entry of 0 bytes/],
    ['an empty list', ext(X.SERVER_NAME, hex('0000')), /empty server_name list/],
    ['a list length that disagrees', ext(X.SERVER_NAME, hex('0009 00 0003 616263')), /list length/],
    ['an entry longer than the list', ext(X.SERVER_NAME, hex('0006 00 0009 616263')), /entry of 9 bytes/],
    ['an entry header cut short', ext(X.SERVER_NAME, hex('0002 00 00')), /cut short/],
  ];
  for (const [what, extension, reason] of refused) {
    it(`refused: ${what}`, () => assertError(withExtensions(extension), 'E_TLS_MALFORMED', reason));
  }
});

describe('ALPN, supported_versions, early_data', () => {
  it('ALPN names in order, as latin1 (opaque bytes kept one to one)', () => {
    assert.deepEqual(okClient(withExtensions(ext(X.ALPN, alpnData('h2', 'http/1.1', '\xff')))).alpn, ['h2', 'http/1.1', '\xff']);
  });

  it('ALPN refused: an empty name, an empty list, a name cut short', () => {
    assertError(withExtensions(ext(X.ALPN, alpnData('h2', ''))), 'E_TLS_MALFORMED', /empty ALPN protocol name/);
    assertError(withExtensions(ext(X.ALPN, hex('0000'))), 'E_TLS_MALFORMED', /empty ALPN list/);
    assertError(withExtensions(ext(X.ALPN, hex('0003 05 6832'))), 'E_TLS_MALFORMED', /cut short/);
  });

  it('supported_versions: the list as sent; TLS 1.3 offered when 0x0304 is in it', () => {
    const h = okClient(withExtensions(ext(X.SUPPORTED_VERSIONS, versionsData(0x7a7a, 0x0304, 0x0303))));
    assert.deepEqual(h.supportedVersions, [0x7a7a, 0x0304, 0x0303]);
    assert.equal(h.offersTls13, true);
    assert.equal(okClient(withExtensions(ext(X.SUPPORTED_VERSIONS, versionsData(0x0303)))).offersTls13, false);
    assertError(withExtensions(ext(X.SUPPORTED_VERSIONS, hex('03 0304 03'))), 'E_TLS_MALFORMED', /supported_versions/);
    assertError(withExtensions(ext(X.SUPPORTED_VERSIONS, hex('00'))), 'E_TLS_MALFORMED', /supported_versions/);
  });

  it('early_data: present and empty; data in it is malformed', () => {
    assert.equal(okClient(withExtensions(ext(X.EARLY_DATA))).earlyData, true);
    assertError(withExtensions(ext(X.EARLY_DATA, hex('00'))), 'E_TLS_MALFORMED', /early_data/);
  });
});

describe('session_ticket and pre_shared_key', () => {
  it('session_ticket: absent, empty (asking for one), or a ticket', () => {
    assert.equal(okClient(withExtensions()).sessionTicket, undefined);
    assert.equal(okClient(withExtensions(ext(X.SESSION_TICKET))).sessionTicket?.length, 0);
    assert.equal(toHex(okClient(withExtensions(ext(X.SESSION_TICKET, hex('aabbcc')))).sessionTicket ?? new Uint8Array()), 'aabbcc');
  });

  it('pre_shared_key: each identity with its obfuscated age', () => {
    const h = okClient(withExtensions(ext(X.PRE_SHARED_KEY, pskData([hex('01020304'), hex('05')]))));
    assert.deepEqual(h.pskIdentities?.map((p) => [toHex(p.identity), p.obfuscatedTicketAge]), [['01020304', 0x1234], ['05', 0x1234]]);
  });

  it('pre_shared_key must be the last extension (RFC 8446 4.2.11)', () => {
    assertError(withExtensions(ext(X.PRE_SHARED_KEY, pskData([hex('01')])), ext(0x17)), 'E_TLS_MALFORMED', /not the last/);
  });

  const refused: [string, Buffer, RegExp][] = [
    ['fewer binders than identities', pskData([hex('01'), hex('02')], 1), /2 pre_shared_key identities but 1 binders/],
    ['an empty identity', Buffer.concat([vec16(hex('0000 00000000 00')), vec16(Buffer.concat([hex('20'), Buffer.alloc(32)]))]), /cut short or empty/],
    ['a binder under 32 bytes', Buffer.concat([vec16(hex('0001 01 00000000')), vec16(Buffer.concat([hex('1f'), Buffer.alloc(32)]))]), /binder of 31 bytes/],
    ['identities longer than the extension', hex('0100 0001 01 00000000'), /identities length 256/],
    ['no binders', vec16(hex('0001 01 00000000')), /no binders/],
    ['a binders length that disagrees', Buffer.concat([vec16(hex('0001 01 00000000')), hex('0030'), hex('20'), Buffer.alloc(32)]), /binders length/],
  ];
  for (const [what, data, reason] of refused) {
    it(`pre_shared_key refused: ${what}`, () => assertError(withExtensions(ext(X.PRE_SHARED_KEY, data)), 'E_TLS_MALFORMED', reason));
  }
});
