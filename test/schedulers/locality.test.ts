// lblc and lblcr (IPVS ip_vs_lblc.c, ip_vs_lblcr.c) and the expiring key table under them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyTable } from '../../core/schedulers/keytable.ts';
import { createLblc } from '../../core/schedulers/lblc.ts';
import { createLblcr } from '../../core/schedulers/lblcr.ts';
import type { Scheduler } from '../../core/schedulers/types.ts';
import { ctx, letter, ready } from './helpers.ts';

const at = (s: Scheduler, key: string, now: number) => letter(s.pick(ctx(key, now)));

describe('lblc', () => {
  it('gives a new key the wlc choice and keeps it there though others become less loaded', () => {
    const [s, [a, b]] = ready(createLblc({}), 4, 4);
    a.activeConns = 1;
    assert.equal(at(s, '/video/1.mp4', 0), 'B');
    b.activeConns = 4;
    assert.equal(at(s, '/video/1.mp4', 1), 'B', 'not busy in lblc terms: 4 active is not above weight 4');
    assert.equal(at(s, '/video/2.mp4', 2), 'A', 'another key goes to the least loaded');
  });

  it('moves a key off a busy server (active > weight) only when another has active*2 < weight', () => {
    const [s, [a, b, c]] = ready(createLblc({}), 2, 2, 4);
    assert.equal(at(s, 'k', 0), 'A');
    a.activeConns = 3;
    b.activeConns = 1;
    c.activeConns = 2;
    // B: 1*2 < 2 is false; C: 2*2 < 4 is false. Nobody has room, so A keeps the key though over its weight.
    assert.equal(at(s, 'k', 1), 'A');
    c.activeConns = 1;
    // C: 1*2 < 4, so A is busy: the key moves to the wlc choice (B 256/2 = 128, C 256/4 = 64) and stays there.
    assert.equal(at(s, 'k', 2), 'C');
    a.activeConns = 0;
    assert.equal(at(s, 'k', 3), 'C', 'remembered on C, not sent back to A');
  });

  it('does not count an unavailable server as room elsewhere (yoke: down servers keep their weight)', () => {
    const [s, [a, b]] = ready(createLblc({}), 1, 4);
    assert.equal(at(s, 'k', 0), 'A');
    a.activeConns = 2;
    b.activeConns = 0;
    b.health = 'down';
    assert.equal(at(s, 'k', 1), 'A');
  });

  it('reschedules a key whose server is unavailable and remembers the new one', () => {
    const [s, [a, b]] = ready(createLblc({}), 1, 1);
    assert.equal(at(s, 'k', 0), 'A');
    a.overloaded = true;
    assert.equal(at(s, 'k', 1), 'B');
    a.overloaded = false;
    assert.equal(at(s, 'k', 2), 'B');
  });

  it('forgets a key idle for expireMs, counted from its last use', () => {
    const [s, [a, b]] = ready(createLblc({ expireMs: 1000 }), 1, 1);
    assert.equal(at(s, 'k', 0), 'A');
    a.activeConns = 1;
    assert.equal(at(s, 'k', 999), 'A');
    assert.equal(at(s, 'k', 1998), 'A', 'used at 999: still 999 ms from expiry');
    assert.equal(at(s, 'k', 2998), 'B', 'idle 1000 ms: forgotten, scheduled afresh');
  });

  it('remembers at most maxEntries keys; the others are scheduled each time', () => {
    const [s, [a, b]] = ready(createLblc({ maxEntries: 1 }), 1, 1);
    assert.equal(at(s, 'k1', 0), 'A');
    assert.equal(at(s, 'k2', 0), 'A');
    a.activeConns = 1;
    assert.equal(at(s, 'k1', 1), 'A', 'remembered');
    assert.equal(at(s, 'k2', 1), 'B', 'not remembered: wlc again');
  });

  it('forgets keys on servers that left the pool', () => {
    const [s, [a, b]] = ready(createLblc({}), 1, 1);
    assert.equal(at(s, 'k', 0), 'A');
    s.update([b]);
    assert.equal(at(s, 'k', 1), 'B');
    s.update([a, b]);
    b.activeConns = 1;
    assert.equal(at(s, 'k', 2), 'B', 'now remembered on B');
  });
});

describe('lblcr', () => {
  it('grows a key set when its server is busy, uses the least loaded member, and shrinks after shrinkMs unchanged', () => {
    const [s, [a, b, c]] = ready(createLblcr({ shrinkMs: 1000 }), 2, 2, 2);
    assert.equal(at(s, 'hot', 0), 'A', 'set {A}');
    a.activeConns = 3;
    b.activeConns = 1;
    // A busy (3 > 2) and C has room (0*2 < 2): the pool's wlc choice C joins: set {A, C}.
    assert.equal(at(s, 'hot', 1), 'C');
    assert.equal(at(s, 'hot', 2), 'C', 'least loaded of {A, C}');
    a.activeConns = 1;
    c.activeConns = 2;
    assert.equal(at(s, 'hot', 3), 'A', 'least loaded of {A, C}; B is not in the set though as light');
    // Unchanged since 1: at 1002 the set loses its most loaded member, C; the pick made first still counts.
    assert.equal(at(s, 'hot', 1002), 'A');
    c.activeConns = 0;
    assert.equal(at(s, 'hot', 1003), 'A', 'C has left the set');
  });

  it('uses the pool when every member of the set is unavailable, and adds that server', () => {
    const [s, [a, b]] = ready(createLblcr({}), 1, 1);
    assert.equal(at(s, 'k', 0), 'A');
    a.health = 'down';
    assert.equal(at(s, 'k', 1), 'B');
    a.health = 'up';
    b.activeConns = 1;
    assert.equal(at(s, 'k', 2), 'A', 'set {A, B}: A is back and lighter');
  });

  it('forgets idle keys after expireMs and drops removed servers from sets', () => {
    const [s, [a, b]] = ready(createLblcr({ expireMs: 500 }), 1, 1);
    assert.equal(at(s, 'k', 0), 'A');
    a.activeConns = 1;
    assert.equal(at(s, 'k', 499), 'A');
    assert.equal(at(s, 'k', 999), 'B', 'expired: scheduled afresh');
    s.update([a]);
    assert.equal(at(s, 'k', 1000), 'A');
  });
});

describe('key table', () => {
  interface E { lastUse: number }

  it('sweeps idle entries at most once a minute of ctx.now, not on every call', () => {
    const t = new KeyTable<E>(10_000, 100);
    t.sweep(0);
    t.add('a', { lastUse: 0 });
    t.add('b', { lastUse: 5_000 });
    t.sweep(30_000);
    assert.equal(t.size, 2, 'no sweep before 60 s have passed');
    t.sweep(60_000);
    assert.equal(t.size, 0);
  });

  it('when full, sweeps entries idle 6 minutes though they have not expired (IPVS ENTRY_TIMEOUT)', () => {
    const t = new KeyTable<E>(24 * 3600_000, 2);
    t.add('old', { lastUse: 0 });
    t.add('new', { lastUse: 400_000 });
    t.add('refused', { lastUse: 400_000 });
    assert.equal(t.size, 2);
    t.sweep(400_000);
    assert.equal(t.size, 1);
    assert.equal(t.get('old', 400_000), undefined);
    assert.ok(t.get('new', 400_000));
  });
});
