// The connection-counting family: lc, wlc, sed, nq (IPVS), fo, ovf (IPVS) and p2c (beyond IPVS).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFo } from '../../core/schedulers/fo.ts';
import { createLc } from '../../core/schedulers/lc.ts';
import { createNq } from '../../core/schedulers/nq.ts';
import { createOvf } from '../../core/schedulers/ovf.ts';
import { createP2c } from '../../core/schedulers/p2c.ts';
import { createSed } from '../../core/schedulers/sed.ts';
import type { Scheduler } from '../../core/schedulers/types.ts';
import { createWlc } from '../../core/schedulers/wlc.ts';
import type { RealServer } from '../../core/server.ts';
import { ctx, letter, seeded, servers } from './helpers.ts';

/** Servers with weights and [active, inactive] counts. */
function loaded(...spec: [weight: number, active: number, inactive?: number][]): RealServer[] {
  const list = servers(...spec.map(([w]) => w));
  spec.forEach(([, a, i], n) => {
    list[n]!.activeConns = a;
    list[n]!.inactiveConns = i ?? 0;
  });
  return list;
}

function pickFrom(s: Scheduler, list: RealServer[]): string {
  s.update(list);
  return letter(s.pick(ctx()));
}

/**
 * Simulates connections that bind and end: each step picks a server and binds a connection to it; once `live`
 * connections are open, each new one ends a random open one first. Returns each server's share of the picks.
 */
function simulate(s: Scheduler, list: RealServer[], steps: number, live: number, random: () => number): number[] {
  s.update(list);
  const open: RealServer[] = [];
  const count = new Map<RealServer, number>();
  const c = ctx();
  for (let i = 0; i < steps; i++) {
    if (open.length >= live) {
      const j = Math.floor(random() * open.length);
      open[j]!.unbind(true);
      open[j] = open[open.length - 1]!;
      open.pop();
    }
    const got = s.pick(c);
    assert.ok(got);
    got.bind(true);
    open.push(got);
    count.set(got, (count.get(got) ?? 0) + 1);
  }
  return list.map((x) => (count.get(x) ?? 0) / steps);
}

function assertShares(got: number[], want: number[], tolerance: number): void {
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= tolerance, `share ${i}: ${g.toFixed(4)} not within ±${tolerance} of ${want[i]!.toFixed(4)} (all: ${got.map((x) => x.toFixed(4))})`));
}

describe('lc', () => {
  it('picks the least active*256 + inactive: one active connection outweighs 255 inactive ones', () => {
    assert.equal(pickFrom(createLc({}), loaded([1, 1, 0], [1, 0, 255])), 'B');
    assert.equal(pickFrom(createLc({}), loaded([1, 1, 0], [1, 0, 257])), 'A');
  });

  it('ignores weights (except 0) and gives ties to the first in list order', () => {
    assert.equal(pickFrom(createLc({}), loaded([1, 2], [100, 3], [5, 2], [0, 0])), 'A');
  });
});

describe('wlc', () => {
  it('picks the least overhead/weight, compared cross-multiplied', () => {
    // A: 256/1 = 256; B: 512/3 = 170.7; C: 300/2 = 150.
    assert.equal(pickFrom(createWlc({}), loaded([1, 1], [3, 2], [2, 1, 44])), 'C');
    assert.equal(pickFrom(createWlc({}), loaded([1, 1], [3, 2])), 'B');
  });

  it('gives ties to the first in list order (the kernel replaces only on strictly better)', () => {
    assert.equal(pickFrom(createWlc({}), loaded([1, 1], [2, 2], [4, 4])), 'A');
  });

  it('spreads connections that bind and end by weight: 1:2:3 within ±2% over 100,000 connections', () => {
    const got = simulate(createWlc({}), servers(1, 2, 3), 100_000, 600, seeded(1));
    assertShares(got, [1 / 6, 2 / 6, 3 / 6], 0.02);
  });
});

describe('sed', () => {
  it('counts the incoming connection: (active + 1)/weight', () => {
    // wlc would take idle A (0 < anything); sed compares 1/1 with 2/3 and takes B.
    const list = () => loaded([1, 0], [3, 1]);
    assert.equal(pickFrom(createWlc({}), list()), 'A');
    assert.equal(pickFrom(createSed({}), list()), 'B');
  });

  it('uses active connections only', () => {
    assert.equal(pickFrom(createSed({}), loaded([1, 1, 0], [1, 1, 900], [1, 2])), 'A');
  });
});

describe('nq', () => {
  it('sends to an idle server first, even a light one, before comparing expected delays', () => {
    assert.equal(pickFrom(createNq({}), loaded([10, 1], [1, 0], [1, 0])), 'B');
  });

  it('with no idle server, picks as sed', () => {
    assert.equal(pickFrom(createNq({}), loaded([1, 1], [3, 1])), 'B');
    assert.equal(pickFrom(createNq({}), loaded([1, 1], [3, 5])), 'A');
  });

  it('does not take an idle server that is unavailable', () => {
    const list = loaded([1, 3], [1, 0], [2, 1]);
    list[1]!.adminDown = true;
    assert.equal(pickFrom(createNq({}), list), 'C');
  });
});

describe('fo', () => {
  it('sends everything to the available server with the highest weight, the first on ties', () => {
    assert.equal(pickFrom(createFo({}), loaded([2, 50], [5, 900], [5, 0])), 'B');
  });

  it('fails over to the next heaviest when it goes down or over maxConns', () => {
    const s = createFo({});
    const list = servers(2, 5, 3);
    s.update(list);
    assert.equal(letter(s.pick(ctx())), 'B');
    list[1]!.overloaded = true;
    assert.equal(letter(s.pick(ctx())), 'C');
    list[2]!.health = 'down';
    assert.equal(letter(s.pick(ctx())), 'A');
  });
});

describe('ovf', () => {
  it('uses the heaviest server until its active connections exceed its weight (active > weight), then the next', () => {
    // The kernel skips a server when activeconns > weight, so active == weight still takes one more.
    assert.equal(pickFrom(createOvf({}), loaded([2, 0], [4, 4], [3, 0])), 'B');
    assert.equal(pickFrom(createOvf({}), loaded([2, 0], [4, 5], [3, 0])), 'C');
  });

  it('picks none when every available server has overflowed', () => {
    assert.equal(pickFrom(createOvf({}), loaded([1, 2], [2, 3])), '-');
  });

  it('fills servers in weight order as connections bind', () => {
    const s = createOvf({});
    const list = servers(1, 3);
    s.update(list);
    const got: string[] = [];
    for (let i = 0; i < 7; i++) {
      const p = s.pick(ctx());
      got.push(letter(p));
      p?.bind(true);
    }
    assert.equal(got.join(' '), 'B B B B A A -');
  });
});

describe('p2c', () => {
  it('of the two servers drawn, takes the one with less overhead per weight', () => {
    const list = loaded([1, 4], [1, 1], [1, 9]);
    // Draws: 0.0 -> A, 0.5 -> B (distinct): B has less load.
    const s = createP2c({ random: sequence(0.0, 0.5) });
    assert.equal(pickFrom(s, list), 'B');
    // Draws C then A: A has less.
    const t = createP2c({ random: sequence(0.9, 0.1) });
    assert.equal(pickFrom(t, list), 'A');
  });

  it('weighs load by weight (cross-multiplied) and keeps the first drawn on ties', () => {
    const list = loaded([4, 4], [1, 1]);
    assert.equal(pickFrom(createP2c({ random: sequence(0.9, 0.1) }), list), 'B', '256/1 = 1024/4: tie, first drawn');
    list[0]!.activeConns = 3;
    assert.equal(pickFrom(createP2c({ random: sequence(0.9, 0.1) }), list), 'A');
  });

  it('draws two distinct servers, redrawing one that is unavailable', () => {
    const list = loaded([1, 0], [1, 5], [1, 9]);
    list[0]!.overloaded = true;
    // A (overloaded) then B; then B again (same), then C: B vs C.
    assert.equal(pickFrom(createP2c({ random: sequence(0.1, 0.4, 0.4, 0.8) }), list), 'B');
  });

  it('spreads connections that bind and end by weight: 1:2:3 within ±2% over 100,000 connections', () => {
    const r = seeded(2);
    const got = simulate(createP2c({ random: r }), servers(1, 2, 3), 100_000, 600, r);
    assertShares(got, [1 / 6, 2 / 6, 3 / 6], 0.02);
  });
});

/** A random() that returns the given values in turn, then repeats the last. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}
