import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeProxy } from '../../l7/proxy-protocol/decode.ts';
import { PP2_TYPE } from '../../l7/proxy-protocol/types.ts';
import { fixture, hex, okHeader } from './helpers.ts';

const SIG = '0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A';
const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');
const FULL_V6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

test('v1 TCP4: the spec\'s example, followed by payload', () => {
  const bytes = ascii('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n');
  assert.deepEqual(okHeader(decodeProxy(bytes), 47), {
    version: 1, command: 'proxy', transport: 'stream',
    src: { host: '192.168.0.1', port: 56324, family: 4 },
    dst: { host: '192.168.0.11', port: 443, family: 4 },
    tlvs: [],
  });
});

test('v1 TCP6 hosts come back in canonical form, whatever form was sent', () => {
  const h = okHeader(decodeProxy(ascii('PROXY TCP6 0:0:0:0:0:0:0:1 FE80:0000::A 0 65535\r\n')));
  assert.deepEqual(h.src, { host: '::1', port: 0, family: 6 });
  assert.deepEqual(h.dst, { host: 'fe80::a', port: 65535, family: 6 });
  assert.deepEqual(okHeader(decodeProxy(ascii('PROXY TCP6 ::ffff:1.2.3.4 ::FFFF:0102:0304 1 2\r\n'))).dst,
    { host: '::ffff:1.2.3.4', port: 2, family: 6 });
});

test('v1 UNKNOWN, short or with anything before CRLF, means "use the real endpoints"', () => {
  const local = { version: 1, command: 'local', transport: 'unspec', tlvs: [] };
  assert.deepEqual(okHeader(decodeProxy(ascii('PROXY UNKNOWN\r\n')), 15), local);
  assert.deepEqual(okHeader(decodeProxy(ascii('PROXY UNKNOWN whatever \x01 here\r\nX')), 31), local);
});

test('v1 lines up to 107 bytes are read; the spec\'s longest forms', () => {
  const tcp6 = `PROXY TCP6 ${FULL_V6} ${FULL_V6} 65535 65535\r\n`;
  assert.equal(tcp6.length, 104);
  assert.equal(okHeader(decodeProxy(ascii(tcp6)), 104).src?.family, 6);
  const unknown = `PROXY UNKNOWN ${FULL_V6} ${FULL_V6} 65535 65535\r\n`;
  assert.equal(unknown.length, 107);
  okHeader(decodeProxy(ascii(unknown)), 107);
  okHeader(decodeProxy(ascii(`PROXY UNKNOWN ${'x'.repeat(91)}\r\n`)), 107);
});

test('HAProxy 2.6 captures decode, the payload left after `length`', () => {
  const v2 = fixture('haproxy-2.6-v2-tcp4-crc32c-uniqueid.bin');
  assert.deepEqual(okHeader(decodeProxy(v2), 44), {
    version: 2, command: 'proxy', transport: 'stream',
    src: { host: '127.0.0.1', port: 47976, family: 4 },
    dst: { host: '127.0.0.1', port: 39833, family: 4 },
    tlvs: [{ type: PP2_TYPE.CRC32C, value: hex('16FC205C') }, { type: PP2_TYPE.UNIQUE_ID, value: ascii('abc123') }],
  });
  assert.equal(v2.subarray(44).toString(), 'hello');
  const v1 = fixture('haproxy-2.6-v1-tcp6.bin');
  const h1 = okHeader(decodeProxy(v1), 32);
  assert.deepEqual([h1.src, h1.dst], [{ host: '::1', port: 44794, family: 6 }, { host: '::1', port: 37355, family: 6 }]);
  assert.deepEqual(okHeader(decodeProxy(fixture('haproxy-2.6-v2-local-unix.bin')), 16),
    { version: 2, command: 'local', transport: 'unspec', tlvs: [] });
});

test('v2 UDP over IPv6, byte for byte', () => {
  const bytes = hex(`${SIG} 21 22 0024 20010DB8 00000000 00000000 00000001 FE800000 00000000 00000000 00000001 0035 14E9`);
  const h = okHeader(decodeProxy(bytes), 52);
  assert.equal(h.transport, 'dgram');
  assert.deepEqual([h.src, h.dst], [{ host: '2001:db8::1', port: 53, family: 6 }, { host: 'fe80::1', port: 5353, family: 6 }]);
});

test('v2 AF_UNIX: paths end at their NUL, abstract names keep their leading NUL, unnamed is ""', () => {
  const path = (text: string): string => Buffer.concat([ascii(text), Buffer.alloc(108 - text.length)]).toString('hex');
  const junk = `${ascii('/run/a.sock\0junk').toString('hex')}${'EE'.repeat(108 - 16)}`;
  const stream = okHeader(decodeProxy(hex(`${SIG} 21 31 00D8 ${junk} ${path('')}`)), 232);
  assert.deepEqual([stream.transport, stream.src, stream.dst],
    ['stream', { family: 'unix', path: '/run/a.sock' }, { family: 'unix', path: '' }]);
  const dgram = okHeader(decodeProxy(hex(`${SIG} 21 32 00D8 ${path('\0yoke')} ${path('/x')}`)));
  assert.deepEqual([dgram.transport, dgram.src, dgram.dst],
    ['dgram', { family: 'unix', path: '\0yoke' }, { family: 'unix', path: '/x' }]);
});

test('v2 PROXY with an UNSPEC family or transport has no addresses', () => {
  assert.deepEqual(okHeader(decodeProxy(hex(`${SIG} 21 00 0000`)), 16),
    { version: 2, command: 'proxy', transport: 'unspec', tlvs: [] });
  const h = okHeader(decodeProxy(hex(`${SIG} 21 01 0003 04 0000`)), 19);
  assert.deepEqual(h, { version: 2, command: 'proxy', transport: 'stream', tlvs: [{ type: PP2_TYPE.NOOP, value: Buffer.alloc(0) }] });
  const inetUnspec = okHeader(decodeProxy(hex(`${SIG} 21 10 000C 01020304 05060708 0001 0002`)), 28);
  assert.deepEqual(inetUnspec, { version: 2, command: 'proxy', transport: 'unspec', tlvs: [] });
});

test('v2 LOCAL ignores the family and addresses but still reads TLVs after them', () => {
  const h = okHeader(decodeProxy(hex(`${SIG} 20 11 0011 01020304 05060708 0001 0002 02 0002 6869 FFFF`)), 33);
  assert.deepEqual(h, { version: 2, command: 'local', transport: 'unspec', tlvs: [{ type: PP2_TYPE.AUTHORITY, value: ascii('hi') }] });
});

test('decoded TLV values are copies, not views of the read buffer', () => {
  const bytes = hex(`${SIG} 20 00 0004 05 0001 78`);
  const value = okHeader(decodeProxy(bytes)).tlvs[0]?.value;
  bytes[19] = 0x79;
  assert.deepEqual(value, ascii('x'));
});

test('every split of a header is need-more until its last byte arrives', () => {
  const headers = [
    ascii('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n'),
    ascii(`PROXY UNKNOWN ${FULL_V6} ${FULL_V6} 65535 65535\r\n`),
    ascii('PROXY UNKNOWN\r\n'),
    fixture('haproxy-2.6-v2-tcp4-crc32c-uniqueid.bin').subarray(0, 44),
    hex(`${SIG} 21 22 0024 20010DB8 00000000 00000000 00000001 FE800000 00000000 00000000 00000001 0035 14E9`),
    hex(`${SIG} 20 00 0000`),
  ];
  for (const header of headers) {
    for (let k = 0; k < header.length; k++) {
      assert.deepEqual(decodeProxy(header.subarray(0, k)), { kind: 'need-more' }, `${k} of ${header.length} bytes`);
    }
    okHeader(decodeProxy(header), header.length);
    okHeader(decodeProxy(Buffer.concat([header, ascii('PROXY TCP4 x\r\n')])), header.length);
  }
});

test('malformed input is refused with a reason that says what is wrong', () => {
  const v4Line = (rest: string): Buffer => ascii(`PROXY TCP4 ${rest}\r\n`);
  const cases: [string, Buffer, RegExp][] = [
    ['HTTP', ascii('GET / HTTP/1.1\r\n'), /not a PROXY protocol header/],
    ['TLS', hex('16 03 01 00 2A'), /not a PROXY protocol header/],
    ['lower-case proxy', ascii('proxy TCP4'), /not a PROXY protocol header/],
    ['no space after PROXY', ascii('PROXYTCP4'), /not a PROXY protocol header/],
    ['bad v2 signature', hex('0D 0A 0D 0A 00 0D 0A 51 55 49 55'), /v2 signature does not match/],
    ['v2 version 1', hex(`${SIG} 11`), /version 1; only 2/],
    ['v2 version 3', hex(`${SIG} 31 11 000C`), /version 3; only 2/],
    ['v2 command 2', hex(`${SIG} 22`), /command 2 is neither LOCAL/],
    ['v2 family 4', hex(`${SIG} 21 41`), /address family 4/],
    ['v2 transport 3', hex(`${SIG} 21 13`), /transport 3/],
    ['v2 address block too short', hex(`${SIG} 21 11 0008 01020304 05060708`), /8 bytes; family 1 needs 12/],
    ['v2 UNIX block too short', hex(`${SIG} 21 31 000C 01020304 05060708 0001 0002`), /family 3 needs 216/],
    ['v2 TLV cut short', hex(`${SIG} 20 00 0002 01 00`), /cut short/],
    ['v2 TLV longer than the header', hex(`${SIG} 20 00 0004 01 0002 41`), /says 2 bytes; the header has 1 left/],
    ['v2 CRC32C of 3 bytes', hex(`${SIG} 20 00 0006 03 0003 000000`), /CRC32C TLV has 3 bytes/],
    ['v2 CRC32C wrong', (() => { const b = Buffer.from(fixture('haproxy-2.6-v2-tcp4-crc32c-uniqueid.bin')); b[16] = 10; return b; })(), /checksum does not match/],
    ['v1 line too long', ascii(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`), /no CRLF within 107 bytes/],
    ['v1 106 bytes, no CR', ascii(`PROXY ${'x'.repeat(100)}`), /no CRLF within 107 bytes/],
    ['v1 bare LF', ascii('PROXY UNKNOWN\n'), /bare LF/],
    ['v1 CR without LF', ascii('PROXY UNKNOWN\r\r\n'), /CR not followed by LF/],
    ['v1 unknown protocol', ascii('PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n'), /protocol "TCP5" is not TCP4, TCP6 or UNKNOWN/],
    ['v1 UNKNOWN glued', ascii('PROXY UNKNOWNX\r\n'), /protocol "UNKNOWNX"/],
    ['v1 empty', ascii('PROXY \r\n'), /protocol "" is not/],
    ['v1 port missing', v4Line('1.2.3.4 5.6.7.8 1'), /3 fields after the protocol; it needs 4/],
    ['v1 two spaces', v4Line('1.2.3.4  5.6.7.8 1 2'), /5 fields/],
    ['v1 trailing space', v4Line('1.2.3.4 5.6.7.8 1 2 '), /5 fields/],
    ['v1 octet 256', v4Line('1.2.3.256 5.6.7.8 1 2'), /source "1.2.3.256" is not an IPv4 address/],
    ['v1 octal-looking octet', v4Line('1.2.3.4 05.6.7.8 1 2'), /destination "05.6.7.8" is not an IPv4 address/],
    ['v1 IPv6 in TCP4', v4Line('::1 5.6.7.8 1 2'), /source "::1" is not an IPv4/],
    ['v1 IPv4 in TCP6', ascii('PROXY TCP6 ::1 5.6.7.8 1 2\r\n'), /destination "5.6.7.8" is not an IPv6/],
    ['v1 two ::', ascii('PROXY TCP6 1::2::3 ::1 1 2\r\n'), /source "1::2::3" is not an IPv6/],
    ['v1 host name', v4Line('localhost 5.6.7.8 1 2'), /source "localhost"/],
    ['v1 zone id', ascii('PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'), /source "fe80::1%eth0"/],
    ['v1 port 65536', v4Line('1.2.3.4 5.6.7.8 65536 2'), /source port "65536" is not a number from 0 to 65535/],
    ['v1 port 080', v4Line('1.2.3.4 5.6.7.8 1 080'), /destination port "080"/],
    ['v1 port -1', v4Line('1.2.3.4 5.6.7.8 -1 2'), /source port "-1"/],
    ['v1 port 1e3', v4Line('1.2.3.4 5.6.7.8 1 1e3'), /destination port "1e3"/],
    ['v1 port 999999', v4Line('1.2.3.4 5.6.7.8 999999 2'), /source port "999999"/],
  ];
  for (const [name, bytes, reason] of cases) {
    const got = decodeProxy(bytes);
    assert.equal(got.kind, 'malformed', `${name}: ${JSON.stringify(got)}`);
    if (got.kind === 'malformed') assert.match(got.reason, reason, name);
  }
});

test('reasons escape what the peer sent and cut it short', () => {
  const got = decodeProxy(ascii(`PROXY TCP4 \x1b[31m${'a'.repeat(60)} 1.2.3.4 1 2\r\n`));
  assert.equal(got.kind, 'malformed');
  if (got.kind === 'malformed') {
    assert.ok(!got.reason.includes('\x1b'), got.reason);
    assert.ok(got.reason.length < 120, got.reason);
  }
});
