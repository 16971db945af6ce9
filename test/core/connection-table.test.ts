import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConnectionTable, type Tabled } from '../../core/connection-table.ts';

interface Entry extends Tabled { readonly id: number }
const entry = (id: number): Entry => ({ id, tableIndex: undefined });
const ids = (t: ConnectionTable<Entry>) => [...t].map((e) => e.id).sort((a, b) => a - b);

describe('the connection table: a service\'s connections, added and removed in O(1)', () => {
  it('holds what was added, once, and forgets what was deleted', () => {
    const t = new ConnectionTable<Entry>();
    const [a, b, c] = [entry(1), entry(2), entry(3)];
    t.add(a); t.add(b); t.add(c); t.add(b);
    assert.equal(t.size, 3, 'adding twice keeps one');
    assert.equal(t.delete(a), true);
    assert.equal(t.delete(a), false, 'a second delete finds nothing');
    assert.equal(t.has(a), false);
    assert.equal(a.tableIndex, undefined);
    assert.deepEqual(ids(t), [2, 3]);
    assert.ok(t.has(b) && t.has(c));
  });

  it('an entry of another table is not deleted by this one', () => {
    const one = new ConnectionTable<Entry>();
    const two = new ConnectionTable<Entry>();
    const a = entry(1);
    const b = entry(2);
    one.add(a); two.add(b);
    assert.equal(one.delete(b), false);
    assert.equal(two.size, 1);
  });

  it('lets entries leave while it is walked (closing every connection of a removed server)', () => {
    const t = new ConnectionTable<Entry>();
    const all = Array.from({ length: 10 }, (_, i) => entry(i));
    for (const e of all) t.add(e);
    const seen: number[] = [];
    for (const e of t) { seen.push(e.id); if (e.id % 2 === 0) t.delete(e); }
    assert.deepEqual(seen.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each entry visited once');
    assert.deepEqual(ids(t), [1, 3, 5, 7, 9]);
  });

  it('stays consistent under any order of adds and deletes', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(39)), { maxLength: 300 }), (ops) => {
      const t = new ConnectionTable<Entry>();
      const model = new Set<Entry>();
      const pool = Array.from({ length: 40 }, (_, i) => entry(i));
      for (const [add, n] of ops) {
        const e = pool[n] as Entry;
        if (add) { t.add(e); model.add(e); } else { t.delete(e); model.delete(e); }
        assert.equal(t.size, model.size);
      }
      assert.deepEqual(ids(t), [...model].map((e) => e.id).sort((a, b) => a - b));
    }));
  });
});
