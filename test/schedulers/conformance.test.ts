// Every registered scheduler, held to the contract of core/schedulers/types.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { YokeError } from '../../core/errors.ts';
import { createScheduler, isSchedulerName, SCHEDULERS } from '../../core/schedulers/registry.ts';
import { SCHEDULER_NAMES } from '../../core/schedulers/types.ts';
import type { RealServer } from '../../core/server.ts';
import { ctx, randomKeys, server, servers } from './helpers.ts';

const KEYS = randomKeys(40, 7);
/** Keys with a clock that moves, so lblc/lblcr see both remembered and new keys. */
const picks = (s: ReturnType<typeof createScheduler>, n = KEYS.length) =>
  Array.from({ length: n }, (_, i) => s.pick(ctx(KEYS[i % KEYS.length], i * 1000)));

describe('registry', () => {
  it('has exactly one factory per name in SCHEDULER_NAMES, and each scheduler reports its name', () => {
    assert.deepEqual(Object.keys(SCHEDULERS).sort(), [...SCHEDULER_NAMES].sort());
    for (const name of SCHEDULER_NAMES) assert.equal(createScheduler(name).name, name);
  });

  it('throws E_UNKNOWN_SCHEDULER for other names, prototype keys included', () => {
    for (const name of ['', 'RR', 'wrr ', 'maglev', 'constructor', '__proto__', 'toString']) {
      assert.equal(isSchedulerName(name), false);
      assert.throws(() => createScheduler(name), (e: unknown) => e instanceof YokeError && e.code === 'E_UNKNOWN_SCHEDULER');
    }
  });

  it('refuses bad table sizes when the scheduler is made, not at pick time', () => {
    assert.throws(() => createScheduler('mh', { tableSize: 65520 }), (e: unknown) => e instanceof YokeError && e.code === 'E_CONFIG_INVALID');
    assert.throws(() => createScheduler('sh', { buckets: 0 }), (e: unknown) => e instanceof YokeError && e.code === 'E_CONFIG_INVALID');
  });
});

for (const name of SCHEDULER_NAMES) {
  describe(`conformance: ${name}`, () => {
    const make = () => createScheduler(name);

    it('picks nothing before update and from an empty pool', () => {
      const s = make();
      assert.equal(s.pick(ctx('k')), undefined);
      s.update([]);
      assert.deepEqual(new Set(picks(s)), new Set([undefined]));
    });

    it('picks nothing when every weight is 0 (quiesced)', () => {
      const s = make();
      s.update(servers(0, 0, 0));
      assert.deepEqual(new Set(picks(s)), new Set([undefined]));
    });

    it('picks the only server, whatever the key', () => {
      const s = make();
      const [a] = servers(1);
      s.update([a]);
      assert.deepEqual(new Set(picks(s)), new Set([a]));
    });

    const ways: [string, (s: RealServer) => void][] = [
      ['health down', (s) => (s.health = 'down')],
      ['admin down', (s) => (s.adminDown = true)],
      ['weight 0', (s) => (s.weight = 0)],
      ['overloaded (over maxConns)', (s) => (s.overloaded = true)],
    ];
    for (const [why, take] of ways) {
      it(`never picks a server that went unavailable between picks: ${why}`, () => {
        const s = make();
        const list = servers(1, 2, 3);
        const [, b] = list;
        s.update(list);
        picks(s);
        take(b);
        // Before the control plane's update (overload never gets one) and after it.
        assert.ok(!picks(s).includes(b), 'picked before update');
        s.update(list);
        const after = picks(s, 200);
        assert.ok(!after.includes(b), 'picked after update');
        assert.ok(after.every((p) => p !== undefined), 'no pick though others are up');
      });
    }

    it('follows server set changes between picks', () => {
      const s = make();
      const [a, b, c, d] = servers(1, 1, 1, 1);
      s.update([a, b, c]);
      picks(s);
      s.update([c, d]);
      const got = new Set(picks(s, 200));
      assert.ok(!got.has(a) && !got.has(b) && !got.has(undefined), `picked ${[...got].map((x) => x?.id)}`);
      s.update([d]);
      assert.deepEqual(new Set(picks(s)), new Set([d]));
    });

    it('allocates nothing per pick once warm (heap growth under 1 byte a pick over 20,000 picks of known keys)', () => {
      // A guard, not a proof: a garbage collection inside the window would hide allocation, but a scheduler that
      // allocates per pick grows the heap by tens of bytes a pick here.
      const s = make();
      const list = servers(1, 2, 3, 4, 5, 1, 2, 3, 4, 5);
      list.forEach((x, i) => { x.activeConns = i % 3; x.inactiveConns = i; });
      s.update(list);
      const c = ctx();
      const run = (n: number) => {
        for (let i = 0; i < n; i++) {
          c.key = KEYS[i % KEYS.length];
          c.clientPort = i & 1023;
          c.now++;
          s.pick(c);
        }
      };
      run(100_000);
      // The least of five windows: the JIT may still be compiling (on the heap) in one of them.
      let perPick = Infinity;
      for (let w = 0; w < 5; w++) {
        const before = process.memoryUsage().heapUsed;
        run(20_000);
        perPick = Math.min(perPick, (process.memoryUsage().heapUsed - before) / 20_000);
      }
      assert.ok(perPick < 1, `${name}: ${perPick.toFixed(2)} bytes per pick`);
    });

    it('never throws on odd keys, clients or clocks', () => {
      const s = make();
      s.update(servers(1, 2));
      const odd = ['', '\u0000', '\ud800', '😀', 'x'.repeat(100_000), 'constructor', '__proto__'];
      for (const key of odd) {
        for (const now of [0, -1, Number.MAX_SAFE_INTEGER, Number.NaN]) {
          assert.notEqual(s.pick(ctx(key, now)), undefined);
          assert.notEqual(s.pick({ client: key, clientPort: 0, key: undefined, now }), undefined);
        }
      }
    });

    it('property: a pick is an available server of the pool, and one exists whenever one is available', () => {
      const spec = fc.record({
        weight: fc.integer({ min: 0, max: 4 }),
        down: fc.boolean(),
        adminDown: fc.boolean(),
        overloaded: fc.boolean(),
        active: fc.integer({ min: 0, max: 6 }),
        inactive: fc.integer({ min: 0, max: 6 }),
      });
      fc.assert(
        fc.property(fc.array(spec, { maxLength: 8 }), fc.array(fc.string(), { minLength: 1, maxLength: 20 }), fc.array(fc.boolean(), { maxLength: 8 }), (specs, keys, flips) => {
          const list = specs.map((p, i) => {
            const r = server(i + 1, p.weight);
            r.health = p.down ? 'down' : 'up';
            r.adminDown = p.adminDown;
            r.overloaded = p.overloaded;
            r.activeConns = p.active;
            r.inactiveConns = p.inactive;
            return r;
          });
          const s = make();
          s.update(list);
          const check = () => {
            const anyAvailable = list.some((r) => r.available);
            for (const [i, key] of keys.entries()) {
              const got = s.pick(ctx(key, i));
              if (got !== undefined) assert.ok(list.includes(got) && got.available);
              // ovf may refuse when every available server has more active connections than its weight.
              else if (name !== 'ovf') assert.ok(!anyAvailable);
            }
          };
          check();
          // Overload follows connection counts and changes with no update.
          flips.forEach((f, i) => { if (f && list[i]) list[i].overloaded = !list[i].overloaded; });
          check();
        }),
        { numRuns: 150 },
      );
    });
  });
}
