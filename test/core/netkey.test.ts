import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { clientNetworkKey, parseIPv4At, parseNetmask } from '../../core/netkey.ts';

const M32 = 0xffffffff;
const M24 = 0xffffff00;
const M16 = 0xffff0000;

/** Octet text as people (and fuzzers) write it: 0..999, sometimes with leading zeros. */
const octetText = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map(String),
  fc.integer({ min: 0, max: 999 }).map(String),
  fc.tuple(fc.constantFrom('0', '00'), fc.integer({ min: 0, max: 99 })).map(([z, n]) => z + n),
  fc.constant(''),
);
const dottedish = fc.array(octetText, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.'));
const noise = fc.string({ unit: fc.constantFrom(...'0123456789..:abf x-'.split('')), maxLength: 20 });

describe('clientNetworkKey', () => {
  it('under /32 an IPv4 client is its own network: its 32-bit address', () => {
    assert.equal(clientNetworkKey('10.1.2.3', M32, 128), 0x0a010203);
    assert.notEqual(clientNetworkKey('10.1.2.3', M32, 128), clientNetworkKey('10.1.2.4', M32, 128));
  });

  it('under /24 every client of one /24 has the same key, and the next /24 another', () => {
    assert.equal(clientNetworkKey('10.1.2.3', M24, 128), 0x0a010200);
    assert.equal(clientNetworkKey('10.1.2.254', M24, 128), 0x0a010200);
    assert.notEqual(clientNetworkKey('10.1.3.3', M24, 128), 0x0a010200);
  });

  it('under /16 every client of one /16 has the same key', () => {
    assert.equal(clientNetworkKey('172.16.0.1', M16, 128), clientNetworkKey('172.16.255.254', M16, 128));
    assert.notEqual(clientNetworkKey('172.16.0.1', M16, 128), clientNetworkKey('172.17.0.1', M16, 128));
  });

  it('keys addresses above 128.0.0.0 as unsigned numbers', () => {
    assert.equal(clientNetworkKey('255.255.255.255', M32, 128), 0xffffffff);
    assert.equal(clientNetworkKey('200.1.2.3', M24, 128), 0xc8010200);
  });

  it('treats an IPv4-mapped IPv6 client (::ffff:10.1.2.3, as a dual-stack listener reports it) as IPv4', () => {
    assert.equal(clientNetworkKey('::ffff:10.1.2.3', M32, 128), clientNetworkKey('10.1.2.3', M32, 128));
    assert.equal(clientNetworkKey('::ffff:10.1.2.99', M24, 64), clientNetworkKey('10.1.2.3', M24, 64));
  });

  it('under prefix 128 an IPv6 client is its own network', () => {
    assert.equal(clientNetworkKey('2001:db8::1', M24, 128), '2001:db8::1');
    assert.notEqual(clientNetworkKey('2001:db8::1', M24, 128), clientNetworkKey('2001:db8::2', M24, 128));
  });

  it('under prefix 64 clients of one /64 share a key and another /64 differs', () => {
    const k = clientNetworkKey('2001:db8:1:2::1', M32, 64);
    assert.equal(clientNetworkKey('2001:db8:1:2:ffff:ffff:ffff:ffff', M32, 64), k);
    assert.notEqual(clientNetworkKey('2001:db8:1:3::1', M32, 64), k);
  });

  it('under a prefix, different spellings of one IPv6 network give one key', () => {
    assert.equal(clientNetworkKey('2001:0db8:0000:0002::1', M32, 64), clientNetworkKey('2001:db8:0:2:a:b:c:d', M32, 64));
  });

  it('masks IPv6 inside a group too (a /56 splits the fourth group)', () => {
    assert.equal(clientNetworkKey('2001:db8:1:2ff::1', M32, 56), clientNetworkKey('2001:db8:1:200::1', M32, 56));
    assert.notEqual(clientNetworkKey('2001:db8:1:2ff::1', M32, 56), clientNetworkKey('2001:db8:1:3ff::1', M32, 56));
  });

  it('ignores an IPv6 zone index', () => {
    assert.equal(clientNetworkKey('fe80::1%eth0', M32, 64), clientNetworkKey('fe80::2', M32, 64));
  });

  it('never keys an IPv4 client like an IPv6 one (numbers and strings never collide)', () => {
    assert.equal(typeof clientNetworkKey('10.1.2.3', M24, 64), 'number');
    assert.equal(typeof clientNetworkKey('::1', M24, 64), 'string');
  });

  it('never throws, whatever text it is given', () => {
    for (const s of ['', '::', ':::', 'abc', '1.2.3.4.5', '1::2::3', '%', '::ffff:', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8:1.2.3.4']) {
      for (const prefix of [0, 48, 64, 128]) assert.doesNotThrow(() => clientNetworkKey(s, M24, prefix), `${JSON.stringify(s)} /${prefix}`);
    }
    fc.assert(fc.property(fc.oneof(fc.string(), noise, dottedish), fc.integer({ min: 0, max: 128 }), (s, prefix) => {
      clientNetworkKey(s, M24, prefix);
    }));
  });
});

describe('parseIPv4At', () => {
  it('parses dotted IPv4 into an unsigned 32-bit number', () => {
    assert.equal(parseIPv4At('0.0.0.0', 0), 0);
    assert.equal(parseIPv4At('10.1.2.3', 0), 0x0a010203);
    assert.equal(parseIPv4At('255.255.255.255', 0), 0xffffffff);
  });

  it('starts at the given offset and reads to the end', () => {
    assert.equal(parseIPv4At('::ffff:10.1.2.3', 7), 0x0a010203);
    assert.equal(parseIPv4At('x10.1.2.3', 0), -1);
  });

  it('rejects bad input with -1', () => {
    for (const s of ['', '1.2.3', '1.2.3.4.', '.1.2.3', '1..2.3', '256.1.1.1', '1.2.3.256', '1.2.3.4.5', '1.2.3.4\n', ' 1.2.3.4', '1.2.3.-4', '1.2.3.a', '1234.1.1.1']) {
      assert.equal(parseIPv4At(s, 0), -1, JSON.stringify(s));
    }
  });

  it('rejects leading zeros (010 is octal 8 to inet_aton and invalid to node:net and inet_pton)', () => {
    for (const s of ['010.1.2.3', '00.1.2.3', '1.2.3.04', '1.02.3.4', '0001.2.3.4']) assert.equal(parseIPv4At(s, 0), -1, s);
    assert.equal(parseIPv4At('0.10.100.0', 0), 0x000a6400, 'a lone 0 is fine, and 10 and 100 are not leading zeros');
  });

  it('agrees with node:net isIPv4 on every string, and gives the octets\' value when valid', () => {
    fc.assert(fc.property(fc.oneof(dottedish, noise, fc.string({ maxLength: 16 })), (s) => {
      const v = parseIPv4At(s, 0);
      assert.equal(v >= 0, isIPv4(s), JSON.stringify(s));
      if (v >= 0) assert.equal(v, s.split('.').reduce((acc, o) => acc * 256 + Number(o), 0));
    }), { numRuns: 5000 });
  });
});

describe('parseNetmask', () => {
  it('accepts every contiguous mask from 0.0.0.0 to 255.255.255.255 as its 32-bit value', () => {
    for (let bits = 0; bits <= 32; bits++) {
      const value = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const text = [24, 16, 8, 0].map((sh) => (value >>> sh) & 255).join('.');
      assert.equal(parseNetmask(text), value, text);
    }
  });

  it('rejects non-contiguous masks', () => {
    for (const m of ['255.0.255.0', '0.255.255.255', '255.255.255.1', '255.255.254.255', '128.0.0.1']) assert.throws(() => parseNetmask(m), RangeError, m);
  });

  it('rejects text that is not IPv4', () => {
    for (const m of ['', '255.255.255', '/24', '24', 'ffff:ffff::', '255.255.255.0 ', '255.255.255.00']) assert.throws(() => parseNetmask(m), RangeError, m);
  });

  it('accepts a 32-bit value exactly when its ones are contiguous from the top', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
      const text = [24, 16, 8, 0].map((sh) => (v >>> sh) & 255).join('.');
      const ones = Math.clz32(~v);
      const contiguous = v === (ones === 0 ? 0 : (0xffffffff << (32 - ones)) >>> 0);
      if (contiguous) assert.equal(parseNetmask(text), v);
      else assert.throws(() => parseNetmask(text), RangeError);
    }));
  });
});
