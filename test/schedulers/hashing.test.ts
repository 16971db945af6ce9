// sh and dh (IPVS ip_vs_sh.c, ip_vs_dh.c), their bucket table, and the string hash under them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildBuckets } from '../../core/schedulers/buckets.ts';
import { createDh } from '../../core/schedulers/dh.ts';
import { fmix32, hashString } from '../../core/schedulers/hash.ts';
import { createSh } from '../../core/schedulers/sh.ts';
import type { RealServer } from '../../core/server.ts';
import { ctx, mapKeys, movedShare, randomKeys, server, servers } from './helpers.ts';

const KEYS = randomKeys(100_000, 3);

describe('string hash', () => {
  it('is FNV-1a finished with murmur3 fmix32, fixed for all time (tables built elsewhere must agree)', () => {
    assert.equal(fmix32(0), 0);
    assert.equal(hashString(''), fmix32(0x811c9dc5));
    assert.equal(hashString('a'), fmix32(Math.imul(0x811c9dc5 ^ 0x61, 0x01000193) >>> 0));
    assert.notEqual(hashString('a', 1), hashString('a'));
  });

  it('fills 256 buckets evenly from similar keys (10.0.0.0/16): every bucket within ±25% of the mean', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 65_536; i++) counts[hashString(`10.0.${i >> 8}.${i & 255}`) & 255]!++;
    assert.ok(Math.min(...counts) > 192 && Math.max(...counts) < 320, `min ${Math.min(...counts)} max ${Math.max(...counts)}`);
  });
});

describe('sh/dh bucket table', () => {
  it('deals buckets in proportion to weight, interleaved (smooth weighted round robin)', () => {
    assert.deepEqual(Array.from(buildBuckets(servers(1, 2, 3), 12)), [2, 1, 0, 2, 1, 2, 2, 1, 0, 2, 1, 2]);
  });

  it('keeps every share within one bucket of size*weight/sum, where IPVS runs would give 100,100,56', () => {
    const counts = [0, 0, 0];
    for (const b of buildBuckets(servers(100, 100, 100))) counts[b]!++;
    assert.deepEqual(counts, [86, 85, 85]);
  });

  it('leaves servers of weight 0 out and the table empty (-1) when no one has weight', () => {
    assert.ok(!buildBuckets(servers(0, 1), 16).includes(0));
    assert.deepEqual(new Set(buildBuckets(servers(0, 0), 16)), new Set([-1]));
  });
});

for (const [name, create] of [['sh', createSh], ['dh', createDh]] as const) {
  describe(name, () => {
    it('sends a key to the same server every time, and uses ctx.key before ctx.client', () => {
      const s = create({});
      s.update(servers(1, 1, 1, 1));
      for (const k of KEYS.slice(0, 100)) assert.equal(s.pick(ctx(k, 0, '192.0.2.1')), s.pick(ctx(k, 5, '192.0.2.99')));
      const byClient = (client: string) => s.pick({ client, clientPort: 1, key: undefined, now: 0 });
      const k = KEYS[0]!;
      assert.equal(byClient(k), s.pick(ctx(k)));
    });

    it('spreads 100,000 random keys by weight: 1:2:3 within ±2%', () => {
      const s = create({});
      const list = servers(1, 2, 3);
      s.update(list);
      const got = mapKeys(s, KEYS);
      const want = [1 / 6, 2 / 6, 3 / 6];
      list.forEach((x, i) => {
        const share = got.filter((g) => g === x).length / got.length;
        assert.ok(Math.abs(share - want[i]!) < 0.02, `${x.id}: ${share}`);
      });
    });

    it('with fallback (default), moves only the keys of a server that goes down, and only while it is down', () => {
      const s = create({});
      const list = servers(1, 1, 1, 1, 1);
      s.update(list);
      const before = mapKeys(s, KEYS);
      list[2]!.health = 'down';
      s.update(list);
      const during = mapKeys(s, KEYS);
      for (let i = 0; i < KEYS.length; i++) {
        if (before[i] === list[2]) assert.notEqual(during[i], list[2]);
        else assert.equal(during[i], before[i]);
      }
      // Its keys spread over all the others, not onto one neighbour.
      const takers = new Set(during.filter((d, i) => before[i] === list[2]));
      assert.equal(takers.size, 4);
      list[2]!.health = 'up';
      s.update(list);
      assert.deepEqual(mapKeys(s, KEYS), before);
    });

    it('without fallback, gives no server for the keys of an unavailable one (IPVS without sh-fallback)', () => {
      const s = create({ fallback: false });
      const list = servers(1, 1);
      s.update(list);
      list[0]!.overloaded = true;
      const got = mapKeys(s, KEYS.slice(0, 1000));
      assert.ok(got.includes(undefined) && got.includes(list[1]) && !got.includes(list[0]));
    });

    it('moves most keys when a server leaves the pool (not consistent hashing; measured here for comparison with mh)', () => {
      const s = create({});
      const list = servers(...new Array<number>(10).fill(1));
      s.update(list);
      const before = mapKeys(s, KEYS);
      s.update(list.filter((_, i) => i !== 3));
      const moved = movedShare(before, mapKeys(s, KEYS));
      // Measured: 0.917 of the keys move for 1 of 10 removed (ideal 0.1). Marking the server down instead moves 0.1.
      assert.ok(moved > 0.5, `moved ${moved}`);
    });

    it('property: with fallback, the same key gets the same server while the set is unchanged', () => {
      fc.assert(
        fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }), fc.array(fc.string(), { minLength: 1, maxLength: 30 }), (ups, keys) => {
          const list = ups.map((up, i) => {
            const r = server(i + 1, 1 + (i % 3));
            r.overloaded = !up;
            return r;
          });
          const s = create({});
          s.update(list);
          for (const k of keys) {
            const first = s.pick(ctx(k));
            assert.equal(s.pick(ctx(k, 99)), first);
            assert.equal(first === undefined, !list.some((r) => r.available));
          }
        }),
      );
    });
  });
}

describe('sh hashPort', () => {
  it('spreads one client over servers by port, each port staying put (IPVS sh-port)', () => {
    const s = createSh({ hashPort: true });
    const list = servers(1, 1, 1);
    s.update(list);
    const at = (port: number) => s.pick({ client: '192.0.2.7', clientPort: port, key: undefined, now: 0 });
    const got = new Set<RealServer | undefined>();
    for (let p = 1024; p < 1124; p++) {
      got.add(at(p));
      assert.equal(at(p), at(p));
    }
    assert.equal(got.size, 3);
  });

  it('ignores the port when hashPort is off', () => {
    const s = createSh({});
    s.update(servers(1, 1, 1));
    const at = (port: number) => s.pick({ client: '192.0.2.7', clientPort: port, key: undefined, now: 0 });
    for (let p = 1024; p < 1124; p++) assert.equal(at(p), at(1024));
  });
});
