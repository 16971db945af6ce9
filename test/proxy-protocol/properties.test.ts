import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Endpoint } from '../../core/address.ts';
import { decodeProxy } from '../../l7/proxy-protocol/decode.ts';
import { encodeProxyLocal, encodeProxyV1, encodeProxyV2 } from '../../l7/proxy-protocol/encode.ts';
import { PP2_TYPE, V2_SIGNATURE, type ProxyHeader, type ProxyTlv } from '../../l7/proxy-protocol/types.ts';
import { okHeader } from './helpers.ts';

const RUNS = { numRuns: 1000 };

const host = fc.oneof(fc.ipV4(), fc.ipV6());
const endpoint: fc.Arbitrary<Endpoint> = fc.record({ host, port: fc.integer({ min: 0, max: 65535 }) })
  .map(({ host: h, port }) => ({ host: h, port, family: h.includes(':') ? 6 : 4 }));
// CRC32C is left out: its value is the encoder's to fill, and it has its own property below.
const tlv: fc.Arbitrary<ProxyTlv> = fc.record({
  type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== PP2_TYPE.CRC32C),
  value: fc.uint8Array({ maxLength: 40 }).map((v) => Buffer.from(v)),
}).map(({ type, value }) => ({ type, value })); // fc.record's objects have no prototype; decoded ones do
const tlvs = fc.array(tlv, { maxLength: 5 });
const transport = fc.constantFrom('stream' as const, 'dgram' as const);

/** The encoders' own choice of header, as the properties below need one of each kind. */
const validHeader: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(endpoint, endpoint).map(([s, d]) => encodeProxyV1(s, d)),
  fc.tuple(endpoint, endpoint, transport, tlvs).map(([s, d, t, x]) => encodeProxyV2(s, d, t, x)),
  fc.tuple(endpoint, endpoint, tlvs).map(([s, d, x]) => encodeProxyV2(s, d, 'stream', [{ type: PP2_TYPE.CRC32C, value: Buffer.alloc(4) }, ...x])),
  tlvs.map((x) => encodeProxyLocal(2, x)),
  fc.constant(encodeProxyLocal(1)),
);

/** Both sides as the decoder should report them: IPv4 only when both are IPv4, hosts compared as WHATWG URL reads them. */
function expectSides(h: ProxyHeader, src: Endpoint, dst: Endpoint): void {
  const v6 = src.host.includes(':') || dst.host.includes(':');
  const norm = (text: string): string => (v6 ? new URL(`http://[${text.includes(':') ? text : `::ffff:${text}`}]/`).hostname : text);
  for (const [got, want] of [[h.src, src], [h.dst, dst]] as const) {
    assert.ok(got !== undefined && got.family !== 'unix');
    assert.equal(got.family, v6 ? 6 : 4);
    assert.equal(got.port, want.port);
    assert.equal(norm(got.host), norm(want.host), `${got.host} for ${want.host}`);
  }
}

test('property: v2 decode(encode(x)) gives back the addresses, ports, transport and TLVs', () => {
  fc.assert(fc.property(endpoint, endpoint, transport, tlvs, (src, dst, t, x) => {
    const bytes = encodeProxyV2(src, dst, t, x);
    const h = okHeader(decodeProxy(bytes), bytes.length);
    assert.equal(h.version, 2);
    assert.equal(h.command, 'proxy');
    assert.equal(h.transport, t);
    expectSides(h, src, dst);
    assert.deepEqual(h.tlvs, x);
  }), RUNS);
});

test('property: v1 decode(encode(x)) gives back the addresses and ports, the same as v2 does', () => {
  fc.assert(fc.property(endpoint, endpoint, (src, dst) => {
    const bytes = encodeProxyV1(src, dst);
    const h = okHeader(decodeProxy(bytes), bytes.length);
    assert.equal(h.version, 1);
    expectSides(h, src, dst);
    const v2 = okHeader(decodeProxy(encodeProxyV2(src, dst, 'stream')));
    assert.deepEqual([h.src, h.dst], [v2.src, v2.dst]);
  }), RUNS);
});

test('property: decode never throws, and an ok never claims more bytes than it was given', () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([V2_SIGNATURE, Buffer.from([0x20 | (b[0] ?? 0) & 1, b[1] ?? 0]), b.subarray(2)])),
    fc.array(fc.constantFrom('TCP4', 'TCP6', 'UNKNOWN', ' ', '1.2.3.4', '::1', '0', '65535', '\r\n', '\r', '\n', ':', '.', 'x'), { maxLength: 12 })
      .map((parts) => Buffer.from(`PROXY ${parts.join('')}`, 'latin1')),
    // A valid header with one byte changed: the inputs closest to the accepting paths.
    fc.tuple(validHeader, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([h, at, v]) => {
      const b = Buffer.from(h);
      b[at % b.length] = v;
      return b;
    }),
  );
  fc.assert(fc.property(bytes, (b) => {
    const got = decodeProxy(Buffer.from(b));
    if (got.kind === 'ok') assert.ok(got.length > 0 && got.length <= b.length);
    else if (got.kind === 'malformed') assert.ok(got.reason.length > 0);
    else assert.equal(got.kind, 'need-more');
  }), { numRuns: 5000 });
});

test('property: every proper prefix of a valid header is need-more, and payload after it is left alone', () => {
  fc.assert(fc.property(validHeader, fc.uint8Array({ maxLength: 20 }), (h, payload) => {
    for (let k = 0; k < h.length; k++) assert.deepEqual(decodeProxy(h.subarray(0, k)), { kind: 'need-more' }, `prefix ${k}`);
    okHeader(decodeProxy(Buffer.concat([h, payload])), h.length);
  }), { numRuns: 300 });
});

test('property: the encoders never throw on whatever a socket might hand them, and what they write decodes', () => {
  const anyHost = fc.oneof(fc.string({ maxLength: 50 }), host, fc.constant(undefined as unknown as string));
  const anyPort = fc.oneof(fc.integer({ min: -2, max: 70000 }), fc.double(), fc.constant(undefined as unknown as number));
  const anyEndpoint = fc.record({ host: anyHost, port: anyPort }).map((e): Endpoint => ({ ...e, family: 4 }));
  fc.assert(fc.property(anyEndpoint, anyEndpoint, (src, dst) => {
    const v1 = encodeProxyV1(src, dst);
    okHeader(decodeProxy(v1), v1.length);
    const v2 = encodeProxyV2(src, dst, 'stream');
    okHeader(decodeProxy(v2), v2.length);
  }), { numRuns: 3000 });
});

test('property: with a CRC32C TLV, a bit flipped in the addresses is caught', () => {
  const crcFirst = fc.tuple(endpoint, endpoint, tlvs).map(([s, d, x]) =>
    encodeProxyV2(s, d, 'stream', [{ type: PP2_TYPE.CRC32C, value: Buffer.alloc(4) }, ...x]));
  fc.assert(fc.property(crcFirst, fc.nat(), fc.integer({ min: 0, max: 7 }), (h, at, bit) => {
    okHeader(decodeProxy(h), h.length);
    const addrLength = h[13] === 0x11 ? 12 : 36;
    const b = Buffer.from(h);
    const i = 16 + (at % addrLength);
    b[i] = (b[i] as number) ^ (1 << bit);
    const got = decodeProxy(b);
    assert.equal(got.kind, 'malformed');
    if (got.kind === 'malformed') assert.match(got.reason, /CRC32C/);
  }), RUNS);
});
