import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from '../../l7/proxy-protocol/crc32c.ts';
import { encodeProxyLocal, encodeProxyV1, encodeProxyV2 } from '../../l7/proxy-protocol/encode.ts';
import { PP2_TYPE } from '../../l7/proxy-protocol/types.ts';
import { ep, fixture, hex } from './helpers.ts';

const SIG = '0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A';
const LOCAL_V2 = hex(`${SIG} 20 00 0000`);
const UNKNOWN_V1 = hex('50 52 4F 58 59 20 55 4E 4B 4E 4F 57 4E 0D 0A'); // "PROXY UNKNOWN\r\n"

test('v1 TCP4: the spec\'s example line, byte for byte', () => {
  const got = encodeProxyV1(ep('192.168.0.1', 56324), ep('192.168.0.11', 443));
  assert.equal(got.toString('latin1'), 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
  // P  R  O  X  Y  _  T  C  P  4  _  1  9  2  .  1  6  8  .  0  .  1  _
  const bytes = hex(`50 52 4F 58 59 20 54 43 50 34 20 31 39 32 2E 31 36 38 2E 30 2E 31 20
    31 39 32 2E 31 36 38 2E 30 2E 31 31 20 35 36 33 32 34 20 34 34 33 0D 0A`);
  assert.deepEqual(got, bytes);
});

test('v1 TCP6: IPv6 hosts as given, a zone id dropped, ports 0 and 65535 allowed', () => {
  const got = encodeProxyV1(ep('::1', 0), ep('fe80::1%eth0', 65535));
  assert.deepEqual(got, hex('50 52 4F 58 59 20 54 43 50 36 20 3A 3A 31 20 66 65 38 30 3A 3A 31 20 30 20 36 35 35 33 35 0D 0A'));
  assert.equal(got.toString('latin1'), 'PROXY TCP6 ::1 fe80::1 0 65535\r\n');
});

test('v1 with one IPv4 and one IPv6 side writes TCP6 with the IPv4 side mapped', () => {
  assert.equal(encodeProxyV1(ep('1.2.3.4', 1), ep('::1', 2)).toString('latin1'), 'PROXY TCP6 ::ffff:1.2.3.4 ::1 1 2\r\n');
  assert.equal(encodeProxyV1(ep('2001:db8::5', 1), ep('10.0.0.1', 2)).toString('latin1'), 'PROXY TCP6 2001:db8::5 ::ffff:10.0.0.1 1 2\r\n');
});

test('v1 falls back to UNKNOWN when an endpoint cannot be written, so a line is never injected', () => {
  const bad = [
    [ep('localhost', 80), ep('1.2.3.4', 80)],
    [ep('1.2.3.4 5.6.7.8', 80), ep('1.2.3.4', 80)],
    [ep('1.2.3.4\r\nGET', 80), ep('1.2.3.4', 80)],
    [ep('1.2.3.4', 65536), ep('1.2.3.4', 80)],
    [ep('1.2.3.4', 80), ep('1.2.3.4', -1)],
    [ep('1.2.3.4', 8.5), ep('1.2.3.4', 80)],
    [ep('1.2.3.4', Number.NaN), ep('1.2.3.4', 80)],
    [{ host: undefined as unknown as string, port: 1, family: 4 as const }, ep('1.2.3.4', 80)],
  ] as const;
  for (const [src, dst] of bad) assert.deepEqual(encodeProxyV1(src, dst), UNKNOWN_V1, `${src.host}:${src.port} ${dst.host}:${dst.port}`);
});

test('v2 TCP over IPv4, byte for byte', () => {
  const got = encodeProxyV2(ep('192.168.0.1', 56324), ep('192.168.0.11', 443), 'stream');
  //                 ver|cmd fam|proto length  src addr     dst addr     sport dport
  assert.deepEqual(got, hex(`${SIG} 21 11 000C C0A80001 C0A8000B DC04 01BB`));
});

test('v2 UDP over IPv6, byte for byte', () => {
  const got = encodeProxyV2(ep('2001:db8::1', 53), ep('fe80::1', 5353), 'dgram');
  assert.deepEqual(got, hex(`${SIG} 21 22 0024
    20010DB8 00000000 00000000 00000001
    FE800000 00000000 00000000 00000001
    0035 14E9`));
});

test('v2 with mixed families sends IPv6 with the IPv4 side mapped', () => {
  const got = encodeProxyV2(ep('1.2.3.4', 1), ep('::1', 2), 'stream');
  assert.deepEqual(got, hex(`${SIG} 21 21 0024
    00000000 00000000 0000FFFF 01020304
    00000000 00000000 00000000 00000001
    0001 0002`));
});

test('v2 TLVs follow the addresses in the order given', () => {
  const tlvs = [
    { type: PP2_TYPE.ALPN, value: Buffer.from('h2') },
    { type: PP2_TYPE.AUTHORITY, value: Buffer.from('example.com') },
    { type: PP2_TYPE.NOOP, value: Buffer.alloc(0) },
  ];
  const got = encodeProxyV2(ep('10.0.0.1', 1000), ep('10.0.0.2', 80), 'stream', tlvs);
  assert.deepEqual(got, hex(`${SIG} 21 11 0022 0A000001 0A000002 03E8 0050
    01 0002 6832
    02 000B 6578616D706C652E636F6D
    04 0000`));
});

test('v2 with a CRC32C TLV is the same, byte for byte, as HAProxy 2.6 sends', () => {
  const haproxy = fixture('haproxy-2.6-v2-tcp4-crc32c-uniqueid.bin');
  const tlvs = [
    { type: PP2_TYPE.CRC32C, value: Buffer.alloc(4) },
    { type: PP2_TYPE.UNIQUE_ID, value: Buffer.from('abc123') },
  ];
  const got = encodeProxyV2(ep('127.0.0.1', 47976), ep('127.0.0.1', 39833), 'stream', tlvs);
  assert.deepEqual(got, haproxy.subarray(0, 44));
  assert.deepEqual(tlvs[0]?.value, Buffer.alloc(4), 'the caller\'s TLV is not written to');
});

test('v2 falls back to LOCAL when an endpoint cannot be written', () => {
  assert.deepEqual(encodeProxyV2(ep('1.2.3.999', 1), ep('1.2.3.4', 2), 'stream'), LOCAL_V2);
  assert.deepEqual(encodeProxyV2(ep('1.2.3.4', 1), ep('::1::2', 2), 'stream'), LOCAL_V2);
  assert.deepEqual(encodeProxyV2(ep('::1', 1), ep('::1', 70000), 'dgram'), LOCAL_V2);
  const unique = { type: PP2_TYPE.UNIQUE_ID, value: Buffer.from('x') };
  assert.deepEqual(encodeProxyV2(ep('nope', 1), ep('::1', 2), 'stream', [unique]), hex(`${SIG} 20 00 0004 05 0001 78`));
});

test('LOCAL: v2 family UNSPEC with no addresses, v1 "PROXY UNKNOWN"', () => {
  assert.deepEqual(encodeProxyLocal(), LOCAL_V2);
  assert.deepEqual(encodeProxyLocal(2), LOCAL_V2);
  assert.deepEqual(encodeProxyLocal(1), UNKNOWN_V1);
  assert.deepEqual(encodeProxyLocal(2, [{ type: PP2_TYPE.NOOP, value: hex('AA BB') }]), hex(`${SIG} 20 00 0005 04 0002 AABB`));
  const a = encodeProxyLocal();
  a[0] = 0;
  assert.deepEqual(encodeProxyLocal(), LOCAL_V2, 'each call returns its own buffer');
});

test('TLVs that cannot be encoded are a programming error: RangeError', () => {
  const v4 = [ep('1.2.3.4', 1), ep('1.2.3.4', 2)] as const;
  assert.throws(() => encodeProxyV2(...v4, 'stream', [{ type: 256, value: Buffer.alloc(0) }]), RangeError);
  assert.throws(() => encodeProxyV2(...v4, 'stream', [{ type: -1, value: Buffer.alloc(0) }]), RangeError);
  assert.throws(() => encodeProxyV2(...v4, 'stream', [{ type: 1, value: Buffer.alloc(65536) }]), RangeError);
  assert.throws(() => encodeProxyV2(...v4, 'stream', [{ type: PP2_TYPE.CRC32C, value: Buffer.alloc(3) }]), RangeError);
  // Each TLV fits, but with the addresses the length field would overflow.
  assert.throws(() => encodeProxyV2(...v4, 'stream', [{ type: 1, value: Buffer.alloc(65535 - 12 - 3 + 1) }]), RangeError);
  assert.equal(encodeProxyV2(...v4, 'stream', [{ type: 1, value: Buffer.alloc(65535 - 12 - 3) }]).length, 16 + 65535);
});

test('CRC32c matches the RFC 4960 check value, and skips the zeroed field', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.from('12345XXXX'), 5), crc32c(Buffer.from('12345\0\0\0\0')));
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});
