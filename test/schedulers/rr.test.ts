// rr and wrr, as IPVS ip_vs_rr.c and ip_vs_wrr.c.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRr } from '../../core/schedulers/rr.ts';
import { createWrr } from '../../core/schedulers/wrr.ts';
import { pickMany, ready, servers, shares, trace } from './helpers.ts';


describe('rr', () => {
  it('takes each available server in list order, round and round', () => {
    const s = createRr({});
    s.update(servers(1, 5, 1));
    assert.equal(trace(s, 7), 'A B C A B C A', 'weights do not matter beyond 0');
  });

  it('skips unavailable servers and continues after the last pick, not from the head', () => {
    const s = createRr({});
    const list = servers(1, 1, 1, 1);
    s.update(list);
    assert.equal(trace(s, 2), 'A B');
    list[2]!.overloaded = true;
    assert.equal(trace(s, 4), 'D A B D');
  });

  it('keeps its place across an update that keeps the last pick', () => {
    const [s, [a, b, c]] = ready(createRr({}), 1, 1, 1);
    assert.equal(trace(s, 2), 'A B');
    s.update([c, a, b]);
    assert.equal(trace(s, 3), 'C A B', 'after B comes C in the new order');
  });

  it('moves on to the server in its place when the last pick is removed (IPVS del_dest)', () => {
    const [s, [a, b, c, d]] = ready(createRr({}), 1, 1, 1, 1);
    assert.equal(trace(s, 2), 'A B');
    s.update([a, c, d]);
    assert.equal(trace(s, 2), 'C D');
    s.update([a, c]);
    assert.equal(trace(s, 2), 'A C', 'D was last in the list: wrap to the head');
  });

  it('spreads 99,999 picks evenly: exactly a third each', () => {
    const [s, list] = ready(createRr({}), 1, 1, 1);
    assert.deepEqual(shares(list, pickMany(s, 99_999)), [1 / 3, 1 / 3, 1 / 3]);
  });
});

describe('wrr', () => {
  it('golden trace: weights 3,1,1 give A A A B C, repeating (IPVS interleaved wrr)', () => {
    // Kernel state: di = gcd = 1, mw = 3, cw starts at mw. A pass takes servers with weight >= cw, then cw -= di:
    // cw 3 -> A; cw 2 -> A; cw 1 -> A B C; then cw wraps back to mw.
    const s = createWrr({});
    s.update(servers(3, 1, 1));
    assert.equal(trace(s, 15), 'A A A B C A A A B C A A A B C');
  });

  it('interleaves by weight levels: 5,3,2 gives A A A B A B C A B C', () => {
    const s = createWrr({});
    s.update(servers(5, 3, 2));
    assert.equal(trace(s, 20), 'A A A B A B C A B C A A A B A B C A B C');
  });

  it('steps cw by the gcd of the weights: 4,2 behaves as 2,1', () => {
    const s = createWrr({});
    s.update(servers(4, 2));
    assert.equal(trace(s, 6), 'A A B A A B');
  });

  it('skips an overloaded server without losing the rhythm of the others, and refuses when all are', () => {
    const s = createWrr({});
    const list = servers(3, 1, 1);
    s.update(list);
    list[0]!.overloaded = true;
    assert.equal(trace(s, 4), 'B C B C');
    for (const x of list) x.overloaded = true;
    assert.equal(trace(s, 2), '- -');
    for (const x of list) x.overloaded = false;
    assert.equal(trace(s, 5).split(' ').sort().join(''), 'AAABC');
  });

  it('gives a server that is down no share, and the heaviest available one the top slots', () => {
    const s = createWrr({});
    const list = servers(5, 1, 2);
    s.update(list);
    list[0]!.health = 'down';
    assert.equal(trace(s, 6), 'C B C C B C');
  });

  it('spreads picks exactly by weight: 1:2:3 over 60,000 picks', () => {
    const [s, list] = ready(createWrr({}), 1, 2, 3);
    assert.deepEqual(shares(list, pickMany(s, 60_000)), [1 / 6, 2 / 6, 3 / 6]);
  });
});
