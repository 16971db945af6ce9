import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { RealServer } from '../../core/server.ts';
import { realServer } from './helpers.ts';

/** Binds `n` connections (inactive, as a new connection is). */
function bindN(s: RealServer, n: number): void {
  for (let i = 0; i < n; i++) s.bind(false);
}

function unbindN(s: RealServer, n: number): void {
  for (let i = 0; i < n; i++) s.unbind(false);
}

describe('RealServer thresholds (ipvsadm -x/-y, as IPVS)', () => {
  it('bind() sets overloaded when total connections reach maxConns, not before', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 4 });
    bindN(s, 3);
    assert.equal(s.overloaded, false);
    s.bind(true);
    assert.equal(s.overloaded, true);
  });

  it('counts active and inactive connections together against maxConns', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 4 });
    s.bind(true); s.bind(true); s.bind(false);
    assert.equal(s.overloaded, false);
    s.bind(false);
    assert.deepEqual({ active: s.activeConns, inactive: s.inactiveConns, total: s.totalConns, overloaded: s.overloaded }, { active: 2, inactive: 2, total: 4, overloaded: true });
  });

  it('a connection moving between active and inactive changes neither the total nor the overload flag', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 2 });
    bindN(s, 2);
    s.setActive(false, true);
    assert.deepEqual([s.activeConns, s.inactiveConns, s.overloaded], [1, 1, true]);
    s.setActive(true, false);
    assert.deepEqual([s.activeConns, s.inactiveConns], [0, 2]);
    s.setActive(false, false);
    assert.deepEqual([s.activeConns, s.inactiveConns], [0, 2]);
  });

  it('with no maxConns a server is never overloaded', () => {
    const s = realServer('10.0.0.1:80');
    bindN(s, 100_000);
    assert.equal(s.overloaded, false);
  });

  it('unbind() clears overloaded only once total falls below minConns', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 10, minConns: 5 });
    bindN(s, 10);
    unbindN(s, 5);
    assert.equal(s.overloaded, true, 'at 5 (= minConns) still overloaded');
    s.unbind(false);
    assert.equal(s.overloaded, false, 'at 4 (< minConns) cleared');
  });

  it('with minConns 0, unbind() clears overloaded only below 3/4 of maxConns', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 8 });
    bindN(s, 8);
    unbindN(s, 2);
    assert.equal(s.overloaded, true, 'at 6 (= 3/4 of 8) still overloaded');
    s.unbind(false);
    assert.equal(s.overloaded, false, 'at 5 cleared');
  });

  it('once cleared, stays clear until total reaches maxConns again (hysteresis)', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 8 });
    bindN(s, 8);
    unbindN(s, 3);
    bindN(s, 2);
    assert.equal(s.overloaded, false, 'at 7 after falling to 5');
    s.bind(false);
    assert.equal(s.overloaded, true);
  });

  it('follows the IPVS rule for any maxConns, minConns and sequence of binds and unbinds', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.array(fc.boolean(), { maxLength: 200 }),
      (max, minRaw, ops) => {
        const min = max === 0 ? 0 : minRaw % max; // validated config keeps min below max
        const s = realServer('10.0.0.1:80', { maxConns: max, minConns: min });
        let total = 0;
        let overloaded = false;
        for (const up of ops) {
          if (up) {
            s.bind(false); total++;
            if (max !== 0 && total >= max) overloaded = true;
          } else if (total > 0) {
            s.unbind(false); total--;
            if (min !== 0 ? total < min : max === 0 || total * 4 < max * 3) overloaded = false;
          }
          assert.equal(s.overloaded, overloaded, `max ${max} min ${min} total ${total}`);
        }
      }));
  });

  it('configure() lowering maxConns to the current total sets overloaded at once', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 10 });
    bindN(s, 5);
    s.configure({ name: undefined, weight: 1, maxConns: 5, minConns: 0 });
    assert.equal(s.overloaded, true);
  });

  it('configure() removing maxConns clears overloaded at once', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 5 });
    bindN(s, 5);
    s.configure({ name: undefined, weight: 1, maxConns: 0, minConns: 0 });
    assert.equal(s.overloaded, false);
  });

  it('configure() raising maxConns clears overloaded at once, as IPVS does on an edit', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 10 });
    bindN(s, 10);
    s.configure({ name: undefined, weight: 1, maxConns: 12, minConns: 0 });
    assert.equal(s.overloaded, false, 'the edit cleared the flag');
    bindN(s, 2);
    assert.equal(s.overloaded, true, 'the connection that reaches the new limit sets it again');
  });

  it('configure() applies name and weight', () => {
    const s = realServer('10.0.0.1:80');
    s.configure({ name: 'web1', weight: 7, maxConns: 0, minConns: 0 });
    assert.deepEqual([s.name, s.weight], ['web1', 7]);
  });

  it('counts every bound connection in stats.conns', () => {
    const s = realServer('10.0.0.1:80');
    s.bind(false); s.bind(true); s.unbind(true);
    assert.equal(s.stats.conns, 2);
  });

  it('is identified by its address as written in config', () => {
    assert.equal(realServer('10.0.0.1:80').id, '10.0.0.1:80');
    assert.equal(realServer('[2001:db8::1]:80').id, '[2001:db8::1]:80');
  });
});

describe('RealServer availability', () => {
  it('a fresh server with a weight is available and alive', () => {
    const s = realServer('10.0.0.1:80');
    assert.deepEqual([s.available, s.alive], [true, true]);
  });

  it('weight 0 (quiesce) makes it unavailable but still alive', () => {
    const s = realServer('10.0.0.1:80', { weight: 0 });
    assert.deepEqual([s.available, s.alive], [false, true]);
  });

  it('overload makes it unavailable but still alive', () => {
    const s = realServer('10.0.0.1:80', { maxConns: 1 });
    s.bind(false);
    assert.deepEqual([s.available, s.alive], [false, true]);
  });

  it('health down makes it neither available nor alive', () => {
    const s = realServer('10.0.0.1:80');
    s.health = 'down';
    assert.deepEqual([s.available, s.alive], [false, false]);
  });

  it('adminDown makes it neither available nor alive, whatever its health', () => {
    const s = realServer('10.0.0.1:80');
    s.adminDown = true;
    assert.deepEqual([s.available, s.alive], [false, false]);
  });

  it('available is exactly: weight > 0, not overloaded, health up, not adminDown; alive ignores weight and overload', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.boolean(), fc.boolean(), (weight, overloaded, up, adminDown) => {
      const s = realServer('10.0.0.1:80', { weight });
      s.overloaded = overloaded;
      s.health = up ? 'up' : 'down';
      s.adminDown = adminDown;
      assert.equal(s.available, weight > 0 && !overloaded && up && !adminDown);
      assert.equal(s.alive, up && !adminDown);
    }));
  });
});
