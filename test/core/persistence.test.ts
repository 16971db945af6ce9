import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { parseNetmask } from '../../core/netkey.ts';
import { PersistenceTable } from '../../core/persistence.ts';
import { realServer } from './helpers.ts';

const TIMEOUT = 300_000;

function table(netmask = '255.255.255.255', prefix6 = 128) {
  const clock = new ManualClock();
  const p = new PersistenceTable({ timeoutMs: TIMEOUT, mask4: parseNetmask(netmask), prefix6 }, clock);
  const a = realServer('10.0.0.1:80');
  const b = realServer('10.0.0.2:80');
  return { clock, p, a, b };
}

describe('PersistenceTable', () => {
  it('keys a template by client network: clients of one /24 share it under 255.255.255.0', () => {
    const { p, a } = table('255.255.255.0');
    const t = p.create(p.keyOf('192.0.2.10'), a.id, a);
    assert.equal(p.get(p.keyOf('192.0.2.200')), t);
    assert.equal(p.get(p.keyOf('192.0.3.10')), undefined);
  });

  it('keys a template by client address under 255.255.255.255', () => {
    const { p, a } = table();
    p.create(p.keyOf('192.0.2.10'), a.id, a);
    assert.equal(p.get(p.keyOf('192.0.2.11')), undefined);
    assert.notEqual(p.get(p.keyOf('192.0.2.10')), undefined);
  });

  it('a new template counts in its server persistConns and follows no connection yet', () => {
    const { p, a } = table();
    const t = p.create(1, a.id, a);
    assert.equal(a.persistConns, 1);
    assert.equal(t.conns, 0);
    assert.equal(p.size, 1);
  });

  it('attach and detach count the connections following a template', () => {
    const { p, a } = table();
    const t = p.create(1, a.id, a);
    p.attach(t); p.attach(t); p.attach(t);
    assert.equal(t.conns, 3);
    p.detach(t);
    assert.equal(t.conns, 2);
  });

  it('does not expire while any connection follows it, however long that lasts', () => {
    const { clock, p, a } = table();
    const t = p.create(1, a.id, a);
    p.attach(t); p.attach(t);
    p.detach(t);
    clock.advance(10 * TIMEOUT);
    p.tick();
    assert.equal(p.get(1), t);
    assert.equal(t.gone, false);
  });

  it('expires `timeout` after its LAST connection ends, not after the first', () => {
    const { clock, p, a } = table();
    const t = p.create(1, a.id, a);
    p.attach(t); p.attach(t);
    p.detach(t);
    clock.advance(TIMEOUT - 1000);
    p.detach(t); // the last one ends here: the timeout starts now
    clock.advance(TIMEOUT - 1);
    p.tick();
    assert.equal(p.get(1), t, 'still live one millisecond before the timeout');
    clock.advance(1);
    assert.equal(p.get(1), undefined, 'gone at the timeout');
  });

  it('a connection attaching during the timeout keeps the template; the timeout restarts when it ends', () => {
    const { clock, p, a } = table();
    const t = p.create(1, a.id, a);
    p.attach(t);
    p.detach(t);
    clock.advance(TIMEOUT / 2);
    p.attach(t);
    clock.advance(TIMEOUT);
    p.tick();
    assert.equal(p.get(1), t);
    p.detach(t);
    clock.advance(TIMEOUT - 1);
    p.tick();
    assert.equal(p.get(1), t);
    clock.advance(1);
    assert.equal(p.get(1), undefined);
  });

  it('the wheel removes an expired template within a second of its timeout and gives back its persistConns', () => {
    const { clock, p, a } = table();
    const t = p.create(1, a.id, a);
    p.attach(t);
    p.detach(t);
    clock.advance(TIMEOUT);
    p.tick();
    clock.advance(1000);
    p.tick();
    assert.equal(p.size, 0);
    assert.equal(t.gone, true);
    assert.equal(a.persistConns, 0);
  });

  it('get() of a template past its timeout returns undefined and drops it, even before the wheel runs', () => {
    const { clock, p, a } = table();
    const t = p.create(1, a.id, a);
    p.attach(t);
    p.detach(t);
    clock.advance(TIMEOUT + 1);
    assert.equal(p.get(1), undefined);
    assert.equal(p.size, 0);
    assert.equal(a.persistConns, 0);
    assert.equal(p.get(1), undefined, 'and stays gone');
  });

  it('a changed timeout applies to templates whose last connection ends afterwards', () => {
    const { clock, p, a } = table();
    const t = p.create(1, a.id, a);
    p.attach(t);
    p.settings.timeoutMs = 10_000;
    p.detach(t);
    clock.advance(10_000);
    assert.equal(p.get(1), undefined);
  });

  it('expireServer drops only that server\'s templates and fixes server.persistConns', () => {
    const { p, a, b } = table();
    const ta1 = p.create(1, a.id, a);
    const ta2 = p.create(2, a.id, a);
    const tb = p.create(3, b.id, b);
    p.attach(ta1);
    assert.equal(p.expireServer(a), 2);
    assert.equal(a.persistConns, 0);
    assert.equal(b.persistConns, 1);
    assert.equal(ta1.gone && ta2.gone, true);
    assert.equal(p.get(1), undefined);
    assert.equal(p.get(2), undefined);
    assert.equal(p.get(3), tb);
    assert.deepEqual([...p.list()], [tb]);
  });

  it('a connection that followed an expired template detaches without effect', () => {
    const { clock, p, a } = table();
    const t = p.create(1, a.id, a);
    p.attach(t);
    p.expireServer(a);
    p.detach(t);
    clock.advance(2 * TIMEOUT);
    p.tick();
    assert.equal(a.persistConns, 0);
    assert.equal(p.size, 0);
  });

  it('create replaces an old template for the same key: the old one is gone and its server no longer counts it', () => {
    const { p, a, b } = table();
    const old = p.create(1, a.id, a);
    p.attach(old);
    const fresh = p.create(1, b.id, b);
    assert.equal(old.gone, true);
    assert.equal(a.persistConns, 0);
    assert.equal(b.persistConns, 1);
    assert.equal(p.get(1), fresh);
    assert.equal(p.size, 1);
  });

  it('the connection of a replaced template ending leaves the new template alone', () => {
    const { clock, p, a, b } = table();
    const old = p.create(1, a.id, a);
    p.attach(old);
    const fresh = p.create(1, b.id, b);
    p.attach(fresh);
    p.detach(old);
    clock.advance(2 * TIMEOUT);
    p.tick();
    assert.equal(p.get(1), fresh);
    assert.equal(fresh.conns, 1);
  });

  it('delete removes one template and gives back its persistConns, once', () => {
    const { p, a } = table();
    const t = p.create(1, a.id, a);
    p.delete(t);
    p.delete(t);
    assert.equal(a.persistConns, 0);
    assert.equal(p.get(1), undefined);
  });

  it('records the template\'s identity, server and creation time', () => {
    const { clock, p, a } = table();
    const t = p.create(7, 'web1', a);
    assert.deepEqual({ key: t.key, identity: t.identity, server: t.server, createdAt: t.createdAt }, { key: 7, identity: 'web1', server: a, createdAt: clock.now() });
  });
});
