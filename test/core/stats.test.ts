import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters, Estimator } from '../../core/stats.ts';

/** An estimator over the given counters with a clock the test moves. */
function estimator(counters: Counters[], intervalMs = 2000) {
  let t = 1_700_000_000_000;
  const e = new Estimator(() => counters, intervalMs, () => t);
  return { e, advance: (ms: number) => { t += ms; } };
}

describe('Counters.sample', () => {
  it('moves each rate a quarter of the way from its average to the rate of the last interval', () => {
    const c = new Counters();
    c.conns = 100;
    c.sample(2);
    assert.equal(c.cps, 12.5, '(100 / 2 s) / 4');
    c.sample(2);
    assert.equal(c.cps, 9.375, 'no new connections: three quarters of the average stays');
  });

  it('divides by the interval it is given', () => {
    const a = new Counters();
    const b = new Counters();
    a.conns = b.conns = 100;
    a.sample(1);
    b.sample(4);
    assert.equal(a.cps, 25);
    assert.equal(b.cps, 6.25);
  });

  it('smooths every rate: conns, packets and bytes, in and out', () => {
    const c = new Counters();
    Object.assign(c, { conns: 4, inPkts: 8, outPkts: 16, inBytes: 800, outBytes: 1600 });
    c.sample(1);
    assert.deepEqual([c.cps, c.inPps, c.outPps, c.inBps, c.outBps], [1, 2, 4, 200, 400]);
  });

  it('counts only what arrived since the previous sample', () => {
    const c = new Counters();
    c.conns = 100;
    for (let i = 0; i < 50; i++) c.sample(2);
    assert.ok(c.cps < 0.01, `a burst long past decays to ~0, got ${c.cps}`);
  });

  it('toJSON gives the totals and the rates rounded to one decimal', () => {
    const c = new Counters();
    Object.assign(c, { conns: 1, inPkts: 2, outPkts: 3, inBytes: 4, outBytes: 5 });
    c.sample(3);
    assert.deepEqual(c.toJSON(), { conns: 1, inPkts: 2, outPkts: 3, inBytes: 4, outBytes: 5, cps: 0.1, inPps: 0.2, outPps: 0.3, inBps: 0.3, outBps: 0.4 });
  });
});

describe('Estimator', () => {
  it('converges to the true rate: after 10 samples of a steady 100 conns per 2 s, cps is within 10% of 50', () => {
    const c = new Counters();
    const { e, advance } = estimator([c]);
    e.start();
    e.stop();
    for (let i = 0; i < 10; i++) { c.conns += 100; advance(2000); e.tick(); }
    assert.ok(Math.abs(c.cps - 50) <= 5, `cps ${c.cps}`);
    for (let i = 0; i < 30; i++) { c.conns += 100; advance(2000); e.tick(); }
    assert.ok(Math.abs(c.cps - 50) < 0.01, `and arbitrarily close later: ${c.cps}`);
  });

  it('measures each sample over the time that really passed, so a late tick does not inflate the rate', () => {
    const c = new Counters();
    const { e, advance } = estimator([c]);
    e.start();
    e.stop();
    for (let i = 0; i < 40; i++) { c.conns += 100; advance(2000); e.tick(); }
    c.conns += 300;
    advance(6000); // one tick was missed: 300 conns over 6 s is still 50/s
    e.tick();
    assert.ok(Math.abs(c.cps - 50) < 0.01, `cps ${c.cps}`);
  });

  it('the first tick measures from construction even without start() (a manual tick in a test is not measured from the epoch)', () => {
    const c = new Counters();
    const { e, advance } = estimator([c]);
    c.conns = 100;
    advance(2000);
    e.tick();
    assert.equal(c.cps, 12.5);
  });

  it('samples every counter its source yields, read afresh at each tick', () => {
    const a = new Counters();
    const b = new Counters();
    const list = [a];
    let t = 0;
    const e = new Estimator(() => list, 1000, () => t);
    a.conns = 4; b.conns = 8;
    t = 1000; e.tick();
    list.push(b);
    b.conns = 8;
    t = 2000; e.tick();
    assert.equal(a.cps, 1 * 0.75, 'a: 4/s, then nothing new');
    assert.equal(b.cps, 2, 'b: first sampled at the second tick');
  });

  it('never divides by zero when two ticks come at the same instant', () => {
    const c = new Counters();
    const { e } = estimator([c]);
    c.conns = 1;
    e.tick();
    assert.ok(Number.isFinite(c.cps));
  });
});
