// Record reassembly: TCP segments cut anywhere, a ClientHello over several records, bounds, and streams that are not TLS.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readClientHello, type ClientHelloRead } from '../../l7/tls/client-hello.ts';
import { readHandshake } from '../../l7/tls/records.ts';
import { readServerHello } from '../../l7/tls/server-hello.ts';
import { assertError, capture, captureNames, clientHelloBody, ext, clientHelloStream, handshake, hex, messageOf, okClient, records } from './helpers.ts';

const CLIENT_HELLOS = captureNames('clienthello').map((name) => ({ name, bytes: capture(`${name}.clienthello.bin`) }));
const MANY_RECORDS = { maxMessageBytes: 64 * 1024, maxRecords: 4096 };

/** A ClientHello result with views replaced by their bytes, so that two reads of different buffers compare equal. */
function comparable(r: ClientHelloRead): unknown {
  const plain = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (Array.isArray(v)) return v.map(plain);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
  };
  return plain(r);
}

describe('TCP segments: a growing buffer', () => {
  it('every capture cut into two segments at every offset: need-more for the first, the same hello for both', () => {
    for (const { name, bytes } of CLIENT_HELLOS) {
      const whole = comparable(readClientHello(bytes));
      for (let cut = 0; cut < bytes.length; cut++) {
        const first = readClientHello(bytes.subarray(0, cut));
        assert.equal(first.kind, 'need-more', `${name} cut at ${cut}`);
        // The second segment arrives in a fresh buffer, as a caller that concatenates would hold it.
        assert.deepEqual(comparable(readClientHello(Buffer.concat([bytes.subarray(0, cut), bytes.subarray(cut)]))), whole, `${name} cut at ${cut}`);
      }
    }
  });

  it('every capture fed one byte at a time: need-more until the last byte, atLeast never past the end nor behind', () => {
    const streams = [
      ...CLIENT_HELLOS.map((c) => ({ ...c, read: readClientHello })),
      ...captureNames('s2c').map((name) => ({ name: `${name}.s2c`, bytes: capture(`${name}.s2c.bin`), read: readServerHello })),
    ];
    for (const { name, bytes, read } of streams) {
      const full = read(bytes);
      assert.equal(full.kind, 'ok', name);
      const end = full.kind === 'ok' ? full.end : 0;
      for (let k = 0; k < end; k++) {
        const r = read(bytes.subarray(0, k));
        if (r.kind !== 'need-more') assert.fail(`${name} at ${k}: ${JSON.stringify(r)}`);
        assert.ok(r.atLeast > k && r.atLeast <= end, `${name} at ${k}: atLeast ${r.atLeast}, end ${end}`);
      }
    }
  });

  it('atLeast follows the record header byte by byte, then jumps to the message end', () => {
    const bytes = capture('curl-default.clienthello.bin'); // one record of 512 bytes
    const atLeast = (k: number): number => {
      const r = readHandshake(bytes.subarray(0, k));
      return r.kind === 'need-more' ? r.atLeast : -1;
    };
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map(atLeast), [1, 2, 3, 5, 5, 6, 7, 8, 9]);
    assert.equal(atLeast(9), 517);
    assert.equal(atLeast(516), 517);
  });
});

describe('a ClientHello over several records', () => {
  it('every capture re-cut into two records at every offset reads the same hello', () => {
    for (const { name, bytes } of CLIENT_HELLOS) {
      const whole = comparable(readClientHello(bytes));
      const message = messageOf(bytes);
      for (let cut = 1; cut < message.length; cut++) {
        const r = readClientHello(records(message, [cut]));
        assert.equal(r.kind === 'ok' && r.records, 2, `${name} cut at ${cut}`);
        assert.deepEqual({ ...(comparable(r) as object), end: 0, records: 0 }, { ...(whole as object), end: 0, records: 0 }, `${name} cut at ${cut}`);
      }
    }
  });

  it('every capture in 1-byte records reads the same hello (with the record bound raised)', () => {
    for (const { name, bytes } of CLIENT_HELLOS) {
      const message = messageOf(bytes);
      const r = readClientHello(records(message, Array.from({ length: message.length }, () => 1)), MANY_RECORDS);
      assert.equal(r.kind === 'ok' && r.records, message.length, name);
      assert.deepEqual(okClient(r).extensions, okClient(readClientHello(bytes)).extensions, name);
    }
  });

  it('one record: the body is a view into the caller\'s bytes; several: a copy', () => {
    const one = capture('tls12-sni.clienthello.bin');
    const a = readHandshake(one);
    assert.ok(a.kind === 'ok' && a.body.buffer === one.buffer && a.body.byteOffset === one.byteOffset + 9);
    const two = records(messageOf(one), [100]);
    const b = readHandshake(two);
    assert.ok(b.kind === 'ok' && b.body.buffer !== two.buffer);
    assert.ok(a.kind === 'ok' && b.kind === 'ok' && Buffer.from(a.body).equals(Buffer.from(b.body)));
  });

  it('the 4-byte handshake header itself split over records (1 + 2 + rest)', () => {
    const message = handshake(1, clientHelloBody());
    const r = readHandshake(records(message, [1, 2]));
    assert.ok(r.kind === 'ok' && r.records === 3 && r.type === 1 && Buffer.from(r.body).equals(clientHelloBody()));
  });

  it('records after the message are not read; its end is reported', () => {
    const stream = Buffer.concat([clientHelloStream(), hex('14 03 03 00 01 01'), hex('17 03 03 00 05 0102030405')]);
    const r = readClientHello(stream);
    assert.equal(r.kind === 'ok' && r.end, clientHelloStream().length);
  });
});

describe('bounds', () => {
  it('a message declaring more than maxMessageBytes is refused as soon as its header arrives', () => {
    const header = hex('16 03 01 40 00 01 01 00 01'); // a ClientHello of 65537 bytes
    assertError(readClientHello(header), 'E_TLS_TOO_LARGE', /65537 bytes, over the limit of 65536/);
    assert.equal(readClientHello(header.subarray(0, 8)).kind, 'need-more');
    const small = { maxMessageBytes: 100, maxRecords: 64 };
    assertError(readClientHello(clientHelloStream({ extensions: [ext(0x15, Buffer.alloc(100))] }), small), 'E_TLS_TOO_LARGE');
  });

  it('a message spanning more than maxRecords is refused when that record completes', () => {
    const message = handshake(1, clientHelloBody({ extensions: [ext(0x15, Buffer.alloc(100))] }));
    const stream = records(message, Array.from({ length: 64 }, () => 1));
    assertError(readClientHello(stream), 'E_TLS_TOO_LARGE', /more than 64 records/);
    // The 64th record's bytes are what tip it: one byte earlier it is still need-more.
    assert.equal(readClientHello(stream.subarray(0, 64 * 6 - 1)).kind, 'need-more');
    assertError(readClientHello(stream.subarray(0, 64 * 6)), 'E_TLS_TOO_LARGE');
    assert.equal(readClientHello(records(message, Array.from({ length: 63 }, () => 1))).kind, 'ok');
  });

  it('a record over 16384 bytes, or empty, is malformed', () => {
    assertError(readHandshake(hex('16 03 01 40 01')), 'E_TLS_MALFORMED', /16385 bytes/);
    assertError(readHandshake(hex('16 03 01 00 00')), 'E_TLS_MALFORMED', /empty handshake record/);
  });
});

describe('streams that are not a TLS handshake', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['HTTP', Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), /0x47 .*"GET \/ HTTP\/1\.1"/],
    ['SSH banner', Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), /"SSH-2\.0-OpenSSH_"/],
    ['SSLv2-style ClientHello', hex('80 2e 01 03 01 00 15 00 00 00 10'), /SSLv2-style/],
    ['TLS application data first', hex('17 03 03 00 10'), /0x17/],
    ['PROXY protocol v1', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), /"PROXY TCP4 1\.2\.3"/],
    ['record version 2.0', hex('16 02 00 00 10'), /record version 0x0200/],
    ['record version 3.9', hex('16 03 09 00 10'), /record version 0x0309/],
  ];
  for (const [what, bytes, reason] of cases) {
    it(`${what}: not-TLS from the first bytes`, () => {
      assertError(readClientHello(bytes), 'E_TLS_NOT_TLS', reason);
      // Decided before the whole message: the first byte (or the version's bytes) suffice.
      const decisive = bytes[0] === 0x16 ? 3 : 1;
      assert.equal(readClientHello(bytes.subarray(0, decisive)).kind, 'error', what);
    });
  }

  it('an empty buffer is need-more, one byte at least', () => {
    assert.deepEqual(readClientHello(new Uint8Array(0)), { kind: 'need-more', atLeast: 1 });
  });
});

describe('TLS, but not what was expected', () => {
  it('a ServerHello where a ClientHello belongs is malformed from its type byte', () => {
    const sh = capture('tls13-full.s2c.bin');
    assertError(readClientHello(sh.subarray(0, 6)), 'E_TLS_MALFORMED', /type 2 where type 1/);
  });

  it('an alert opening the server\'s stream is reported as an alert; in the client\'s, malformed', () => {
    const alert = hex('15 03 03 00 02 02 28');
    assert.deepEqual(readServerHello(alert), { kind: 'alert', level: 2, description: 40 });
    assert.equal(readServerHello(alert.subarray(0, 6)).kind, 'need-more');
    assertError(readClientHello(alert), 'E_TLS_MALFORMED', /alert/);
    assertError(readServerHello(hex('15 03 03 00 03 02 28 00')), 'E_TLS_MALFORMED', /alerts are 2/);
  });

  it('another record type inside a message that spans records is malformed', () => {
    const message = handshake(1, clientHelloBody());
    const first = records(message.subarray(0, 20));
    assertError(readClientHello(Buffer.concat([first, hex('14 03 03 00 01 01')])), 'E_TLS_MALFORMED', /content type 20 interrupts/);
    assertError(readClientHello(Buffer.concat([first, hex('16 04 03 00 01 01')])), 'E_TLS_MALFORMED', /continuation record with version 0x0403/);
  });

  it('bytes after a ClientHello inside its own record are malformed (RFC 8446 5.1: it ends a record)', () => {
    const withExtra = records(Buffer.concat([handshake(1, clientHelloBody()), hex('0b 00 00 00')]));
    assertError(readClientHello(withExtra), 'E_TLS_MALFORMED', /4 bytes follow the ClientHello/);
  });
});
