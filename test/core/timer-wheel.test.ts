import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../core/clock.ts';
import { TimerWheel, type Expiring } from '../../core/timer-wheel.ts';

interface Entry extends Expiring { readonly name: string }

const RES = 1000;

/** A wheel of 1 s buckets on a manual clock that starts on a bucket boundary, recording what expires and when. */
function wheel(start = 1_000_000) {
  const clock = new ManualClock(start);
  const expired: { name: string; at: number }[] = [];
  const w = new TimerWheel<Entry>(RES, clock, (e) => expired.push({ name: e.name, at: clock.now() }));
  const entry = (name: string, expiresAt: number): Entry => ({ name, expiresAt, gone: false });
  /** A new entry due `delay` ms from now, filed. */
  const file = (name: string, delay: number): Entry => {
    const e = entry(name, clock.now() + delay);
    w.schedule(e);
    return e;
  };
  /** Moves the clock to `t` in steps of `step` ms, ticking after each step. */
  const runTo = (t: number, step = 100) => {
    while (clock.now() < t) { clock.advance(Math.min(step, t - clock.now())); w.tick(); }
  };
  return { clock, w, expired, entry, file, runTo };
}

describe('TimerWheel', () => {
  it('cancel() takes an entry out at once: it never expires and the wheel no longer holds it', () => {
    const { w, expired, file, runTo, clock } = wheel();
    const a = file('a', 5000);
    const b = file('b', 5000);
    const c = file('c', 5000);
    w.cancel(a);
    w.cancel(a);
    assert.equal(w.size, 2);
    runTo(clock.now() + 6000);
    assert.deepEqual(expired.map((e) => e.name).sort(), ['b', 'c']);
    assert.equal(w.size, 0);
    void b; void c;
  });

  it('filing an entry again moves it: it is held once, not once per filing', () => {
    const { w, file } = wheel();
    const a = file('a', 900_000);
    a.expiresAt -= 800_000;
    w.schedule(a);
    a.expiresAt -= 50_000;
    w.schedule(a);
    assert.equal(w.size, 1);
  });

  it('expires an entry once its deadline has passed, and not before', () => {
    const { clock, expired, file, runTo } = wheel();
    file('a', 5000);
    runTo(clock.now() + 4999, 1);
    assert.deepEqual(expired, []);
    runTo(clock.now() + 1, 1);
    assert.deepEqual(expired, [{ name: 'a', at: 1_005_000 }]);
  });

  it('expires within one resolution after the deadline, never before (any deadline, any tick cadence)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 1500 }), (delay, step) => {
      const { clock, w, expired, entry, runTo } = wheel(1_000_000 + (delay % 997));
      const deadline = clock.now() + delay;
      w.schedule(entry('a', deadline));
      runTo(deadline + RES + step, step);
      assert.equal(expired.length, 1);
      const at = (expired[0] as { at: number }).at;
      assert.ok(at >= deadline, `expired at ${at}, before its deadline ${deadline}`);
      // The bucket is due within one resolution; a coarser tick cadence adds at most one tick of lateness.
      assert.ok(at < deadline + RES + step, `expired at ${at}, more than a resolution and a tick after ${deadline}`);
    }));
  });

  it('with a tick on every millisecond, an entry expires less than one resolution after its deadline', () => {
    const { clock, w, expired, entry, runTo } = wheel();
    const deadline = clock.now() + 2001;
    w.schedule(entry('a', deadline));
    runTo(deadline + RES, 1);
    const at = (expired[0] as { at: number }).at;
    assert.ok(at >= deadline && at < deadline + RES, `expired at +${at - deadline} ms`);
  });

  it('a deadline pushed later without schedule() is not expired at the old time: it is refiled and expires at the new one', () => {
    const { clock, w, expired, file, runTo } = wheel();
    const e = file('a', 2000);
    e.expiresAt = clock.now() + 7000;
    runTo(clock.now() + 3000);
    assert.deepEqual(expired, [], 'not expired at the old deadline');
    assert.equal(w.size, 1, 'refiled under its new deadline');
    runTo(1_007_000);
    assert.deepEqual(expired, [{ name: 'a', at: 1_007_000 }]);
  });

  it('a deadline pushed later again and again costs no schedule() and expires once, at the last deadline', () => {
    const { clock, expired, file, runTo } = wheel();
    const e = file('a', 1000);
    for (let i = 0; i < 20; i++) { runTo(clock.now() + 500); e.expiresAt = clock.now() + 1000; }
    const last = e.expiresAt;
    runTo(last + 2 * RES);
    assert.deepEqual(expired, [{ name: 'a', at: last }]);
  });

  it('a deadline moved earlier and scheduled again expires at the earlier time', () => {
    const { clock, w, expired, file, runTo } = wheel();
    const e = file('a', 900_000);
    e.expiresAt = clock.now() + 3000;
    w.schedule(e);
    runTo(1_003_000);
    assert.deepEqual(expired, [{ name: 'a', at: 1_003_000 }]);
  });

  it('a deadline moved earlier and scheduled again expires only once: the old filing is skipped when its bucket comes', () => {
    const { clock, w, expired, file, runTo } = wheel();
    const e = file('a', 10_000);
    e.expiresAt = clock.now() + 3000;
    w.schedule(e);
    runTo(clock.now() + 20_000);
    assert.equal(expired.length, 1);
    assert.equal(w.size, 0, 'both filings are swept');
  });

  it('an entry moved earlier, then later again before its earlier bucket, still expires once', () => {
    const { clock, w, expired, file, runTo } = wheel();
    const e = file('a', 10_000);
    e.expiresAt = clock.now() + 3000;
    w.schedule(e);
    runTo(clock.now() + 2000);
    e.expiresAt = clock.now() + 8000; // activity: pushed past the first filing's bucket
    runTo(clock.now() + 20_000);
    assert.deepEqual(expired, [{ name: 'a', at: 1_010_000 }]);
  });

  it('without schedule() a deadline moved earlier only takes effect when its old bucket comes (the documented contract)', () => {
    const { clock, expired, file, runTo } = wheel();
    const e = file('a', 10_000);
    e.expiresAt = clock.now() + 3000;
    runTo(clock.now() + 9_000);
    assert.deepEqual(expired, []);
    runTo(clock.now() + 1_000);
    assert.deepEqual(expired, [{ name: 'a', at: 1_010_000 }]);
  });

  it('scheduling the same deadline twice files it once', () => {
    const { w, file } = wheel();
    const e = file('a', 5000);
    w.schedule(e);
    assert.equal(w.size, 1);
  });

  it('drops an entry marked gone without calling onExpire', () => {
    const { clock, w, expired, file, runTo } = wheel();
    const e = file('a', 1000);
    e.gone = true;
    runTo(clock.now() + 5000);
    assert.deepEqual(expired, []);
    assert.equal(w.size, 0);
  });

  it('never files an entry whose deadline is Infinity', () => {
    const { clock, w, expired, entry, runTo } = wheel();
    w.schedule(entry('a', Infinity));
    assert.equal(w.size, 0);
    runTo(clock.now() + 10_000_000, 1_000_000);
    assert.deepEqual(expired, []);
  });

  it('drops an entry whose deadline became Infinity, and files it again when it gets a finite one', () => {
    const { clock, w, expired, file, runTo } = wheel();
    const e = file('a', 1000);
    e.expiresAt = Infinity;
    runTo(clock.now() + 5000);
    assert.deepEqual(expired, []);
    assert.equal(w.size, 0);
    e.expiresAt = clock.now() + 1000;
    w.schedule(e);
    runTo(clock.now() + 2000);
    assert.deepEqual(expired, [{ name: 'a', at: 1_006_000 }]);
  });

  it('an entry filed with a deadline already past expires on the next tick', () => {
    const { clock, w, expired, entry } = wheel();
    w.schedule(entry('a', clock.now() - 5000));
    w.tick();
    assert.deepEqual(expired, [{ name: 'a', at: 1_000_000 }]);
  });

  it('expires every one of many entries exactly once, none before its deadline, and leaves nothing filed', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 1, maxLength: 60 }), (delays) => {
      const { clock, w, expired, entry, runTo } = wheel();
      const start = clock.now();
      delays.forEach((d, i) => w.schedule(entry(String(i), start + d)));
      runTo(start + 32_000, 250);
      assert.equal(expired.length, delays.length);
      assert.equal(new Set(expired.map((x) => x.name)).size, delays.length);
      for (const x of expired) assert.ok(x.at >= start + (delays[Number(x.name)] as number));
      assert.equal(w.size, 0);
    }));
  });

  it('a tick before anything is due does nothing', () => {
    const { clock, w, expired, file } = wheel();
    file('a', 5000);
    clock.advance(1000);
    w.tick();
    assert.deepEqual(expired, []);
    assert.equal(w.size, 1);
  });
});
