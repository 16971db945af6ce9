// mh: the Maglev table (Eisenbud et al., NSDI 2016, §3.4) and the scheduler on it (IPVS ip_vs_mh.c).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { YokeError } from '../../core/errors.ts';
import { buildMaglevTable, fillMaglevTable, maglevPreference } from '../../core/schedulers/maglev.ts';
import { createMh } from '../../core/schedulers/mh.ts';
import type { RealServer } from '../../core/server.ts';
import { mapKeys, movedShare, randomKeys, servers } from './helpers.ts';

const KEYS = randomKeys(100_000, 5);

describe('Maglev table', () => {
  it("golden: the paper's size-7 example (Table 1)", () => {
    // B0: offset 3, skip 4 -> 3 0 4 1 5 2 6; B1: offset 0, skip 2 -> 0 2 4 6 1 3 5; B2: offset 3, skip 1 -> 3 4 5 6 0 1 2.
    // Turns: B0 takes 3, B1 0, B2 3 is taken so 4; B0 0 taken so 1, B1 2, B2 5; B0 5, 2 taken so 6. Full.
    assert.deepEqual(Array.from(fillMaglevTable([3, 0, 3], [4, 2, 1], [1, 1, 1], 7)), [1, 0, 1, 0, 2, 2, 0]);
    // B1 removed (B2 is now index 1): B0 3, B2 4; B0 0, B2 5; B0 1, B2 6; B0 2. B1's slots 0 and 2 go to B0, and
    // slot 6 moves from B0 to B2: the paper's example of Maglev moving slightly more than the leaving server's share.
    assert.deepEqual(Array.from(fillMaglevTable([3, 3], [4, 1], [1, 1], 7)), [0, 0, 0, 0, 1, 1, 1]);
  });

  it('golden: yoke servers 127.0.0.1:9001..9003 in a table of 7, from their hashed preferences', () => {
    const list = servers(1, 1, 1);
    // Pinned: changing the hash or seeds changes every deployed table, so it must show up here.
    assert.deepEqual(list.map((s) => maglevPreference(s.id, 7)), [
      { offset: 3, skip: 1 }, // A: 3 4 5 6 0 1 2
      { offset: 5, skip: 6 }, // B: 5 4 3 2 1 0 6
      { offset: 1, skip: 6 }, // C: 1 0 6 5 4 3 2
    ]);
    // A 3, B 5, C 1; A 4, B (5 4 3 taken) 2, C 0; A (4 5 taken) 6. Full.
    assert.deepEqual(Array.from(buildMaglevTable(list, 7)), [2, 2, 1, 0, 0, 1, 0]);
  });

  it('gives weighted members that many turns per round (weights divided by their gcd, as IPVS mh)', () => {
    // B0 two turns a round, B1 one, B2 none: B0 3 0; B1 2; B0 4 1; B1 6; B0 5.
    assert.deepEqual(Array.from(fillMaglevTable([3, 0, 3], [4, 2, 1], [2, 1, 0], 7)), [0, 0, 1, 0, 0, 0, 1]);
    const list = servers(20, 40);
    const table = buildMaglevTable(list, 65521);
    const a = table.filter((x) => x === 0).length / table.length;
    assert.ok(Math.abs(a - 1 / 3) < 0.01, `share of weight 20 next to 40: ${a}`);
  });

  it('leaves members of weight 0 out, and is all -1 when nobody has weight', () => {
    assert.ok(!buildMaglevTable(servers(0, 1, 1), 251).includes(0));
    assert.deepEqual(new Set(buildMaglevTable(servers(0, 0), 251)), new Set([-1]));
    assert.deepEqual(new Set(buildMaglevTable([], 7)), new Set([-1]));
  });

  it('refuses a size that is not prime with E_CONFIG_INVALID', () => {
    for (const size of [0, 1, 8, 65520, 7.5]) {
      assert.throws(() => buildMaglevTable(servers(1), size), (e: unknown) => e instanceof YokeError && e.code === 'E_CONFIG_INVALID');
    }
  });
});

describe('mh', () => {
  it('spreads 100,000 random keys by weight: 1:2:3 within ±2%', () => {
    const s = createMh({});
    const list = servers(1, 2, 3);
    s.update(list);
    const got = mapKeys(s, KEYS);
    [1 / 6, 2 / 6, 3 / 6].forEach((want, i) => {
      const share = got.filter((g) => g === list[i]).length / got.length;
      assert.ok(Math.abs(share - want) < 0.02, `${list[i]!.id}: ${share}`);
    });
  });

  for (const n of [5, 10, 20]) {
    it(`moves about 1/N of the keys when 1 of N = ${n} servers leaves: asserted < 1.5/N`, () => {
      const s = createMh({});
      const list = servers(...new Array<number>(n).fill(1));
      s.update(list);
      const before = mapKeys(s, KEYS);
      s.update(list.filter((_, i) => i !== 3));
      const moved = movedShare(before, mapKeys(s, KEYS));
      // Measured with 100,000 keys and M = 65521: 0.2002 (N=5), 0.1033 (N=10), 0.0541 (N=20); sh moves 0.80-0.99.
      assert.ok(moved >= 1 / n - 0.01 && moved < 1.5 / n, `moved ${moved.toFixed(4)}, ideal ${(1 / n).toFixed(4)}`);
    });
  }

  it('rebuilds without a server that goes down, and gives it its old keys back when it comes up', () => {
    const s = createMh({});
    const list = servers(1, 1, 1, 1);
    s.update(list);
    const before = mapKeys(s, KEYS);
    list[1]!.health = 'down';
    s.update(list);
    assert.ok(!mapKeys(s, KEYS).includes(list[1]));
    list[1]!.health = 'up';
    s.update(list);
    assert.deepEqual(mapKeys(s, KEYS), before);
  });

  it('falls back for an overloaded server (IPVS mh-fallback), keeps everyone else, and refuses without fallback', () => {
    const list = servers(1, 1, 1);
    const s = createMh({});
    s.update(list);
    const before = mapKeys(s, KEYS);
    list[0]!.overloaded = true;
    const during = mapKeys(s, KEYS);
    KEYS.forEach((_, i) => assert.equal(during[i], before[i] === list[0] ? during[i] : before[i]));
    assert.ok(!during.includes(list[0]) && !during.includes(undefined));
    const strict = createMh({ fallback: false });
    strict.update(list);
    assert.ok(mapKeys(strict, KEYS).includes(undefined));
  });

  it('hashes the client port too with hashPort, on a small prime table', () => {
    const s = createMh({ hashPort: true, tableSize: 251 });
    s.update(servers(1, 1, 1));
    const seen = new Set<RealServer | undefined>();
    for (let p = 2000; p < 2100; p++) seen.add(s.pick({ client: '198.51.100.1', clientPort: p, key: undefined, now: 0 }));
    assert.equal(seen.size, 3);
  });
});
