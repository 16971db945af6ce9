import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEndpoint } from '../../core/address.ts';
import { ManualClock } from '../../core/clock.ts';
import { parseNetmask } from '../../core/netkey.ts';
import { PersistenceTable } from '../../core/persistence.ts';
import { VirtualService } from '../../core/service.ts';
import type { ServiceSpec } from '../../core/spec.ts';
import { server, spec } from '../helpers/backends.ts';
import { fakeConn, type FakeConn } from './helpers.ts';

const TIMEOUT = 60_000;
const A = '10.0.0.1:80';
const B = '10.0.0.2:80';
const C = '10.0.0.3:80';

/** A service over A, B and C (rr unless told), with IPVS-style persistence on a /24 when `persistent`. */
function service(opts: { persistent?: boolean; extra?: Partial<ServiceSpec>; servers?: ReturnType<typeof server>[] } = {}) {
  const clock = new ManualClock();
  const persistence = opts.persistent ? { timeoutMs: TIMEOUT, netmask: '255.255.255.0', prefix6: 128, group: undefined } : undefined;
  const table = persistence ? new PersistenceTable({ timeoutMs: TIMEOUT, mask4: parseNetmask(persistence.netmask), prefix6: 128 }, clock) : undefined;
  const v = new VirtualService(spec('web', opts.servers ?? [server(A), server(B), server(C)], { persistence, ...opts.extra }), clock, table);
  /** Assigns a new connection from `ip`; returns it (its server is undefined when refused). */
  const connect = (ip: string, o: Parameters<typeof fakeConn>[1] = {}): FakeConn => {
    const c = fakeConn(ip, o);
    v.assign(c);
    return c;
  };
  return { clock, v, table, connect };
}

const id = (c: FakeConn) => c.server?.id;

describe('VirtualService.assign with persistence', () => {
  it('sends every client of one network to the same server while its template lives', () => {
    const { v, connect } = service({ persistent: true });
    const first = connect('192.0.2.1');
    const others = ['192.0.2.1', '192.0.2.77', '192.0.2.200'].map((ip) => connect(ip));
    assert.ok(others.every((c) => c.server === first.server));
    assert.equal(first.template, others[0]?.template, 'one template for the network');
    assert.equal(first.template?.conns, 4);
    assert.equal(v.persistence?.size, 1);
  });

  it('schedules a client of another network afresh', () => {
    const { connect } = service({ persistent: true });
    const a = connect('192.0.2.1');
    const b = connect('198.51.100.1');
    assert.notEqual(a.server, b.server, 'rr moved on for the new network');
  });

  it('keeps the client on its server after its connections end, until the timeout', () => {
    const { clock, v, connect } = service({ persistent: true });
    const first = connect('192.0.2.1');
    const server = first.server;
    connect('198.51.100.1'); // moves rr along
    v.release(first);
    clock.advance(TIMEOUT - 1);
    assert.equal(connect('192.0.2.9').server, server);
  });

  it('forgets the client once the timeout has passed since its last connection ended', () => {
    const { clock, v, connect } = service({ persistent: true });
    const first = connect('192.0.2.1');
    const server = first.server;
    v.release(first);
    clock.advance(TIMEOUT);
    const again = connect('192.0.2.1');
    assert.notEqual(again.server, server, 'rr gave the next server: the template was gone');
    assert.equal(server?.persistConns, 0);
  });

  it('a template whose server is drained (weight 0) still applies: persistent clients finish on it', () => {
    const { v, connect } = service({ persistent: true });
    const first = connect('192.0.2.1');
    const s = first.server!;
    v.editServer(s.id, { name: undefined, weight: 0, maxConns: 0, minConns: 0 });
    assert.equal(connect('192.0.2.2').server, s);
    assert.notEqual(connect('198.51.100.1').server, s, 'but new networks do not go there');
  });

  it('a template whose server is overloaded still applies (as IPVS: overload stops new clients, not persistent ones)', () => {
    const { v, connect } = service({ persistent: true, servers: [server(A, 1, { maxConns: 1 }), server(B)] });
    const first = connect('192.0.2.1');
    assert.equal(id(first), A);
    assert.equal(v.server(A).overloaded, true);
    assert.equal(id(connect('192.0.2.2')), A);
  });

  it('a template whose server is marked down is dropped and the client rescheduled', () => {
    const { v, connect } = service({ persistent: true });
    const first = connect('192.0.2.1');
    const s = first.server!;
    v.setHealth(s.id, 'down');
    assert.equal(s.persistConns, 0, 'its template went at once');
    const again = connect('192.0.2.1');
    assert.notEqual(again.server, s);
    assert.notEqual(again.template, first.template);
    v.setHealth(s.id, 'up');
    assert.equal(connect('192.0.2.1').server, again.server, 'the new template holds when the old server comes back');
  });

  it('a template whose server is marked down by the operator is dropped too', () => {
    const { v, connect } = service({ persistent: true });
    const first = connect('192.0.2.1');
    v.setAdminDown(first.server!.id, true);
    assert.notEqual(connect('192.0.2.1').server, first.server);
  });

  it('a template whose server is removed is dropped and the client rescheduled', () => {
    const { v, table, connect } = service({ persistent: true });
    const first = connect('192.0.2.1');
    const s = first.server!;
    v.removeServer(s.id, false);
    assert.equal(table?.size, 0);
    const again = connect('192.0.2.1');
    assert.notEqual(again.server, undefined);
    assert.notEqual(again.server, s);
  });

  it('does not make a template for a connection sent to the sorry server', () => {
    const { v, table, connect } = service({ persistent: true, servers: [server(A, 0)], extra: { sorryServer: parseEndpoint('10.9.9.9:80') } });
    const c = connect('192.0.2.1');
    assert.equal(c.server, v.sorry);
    assert.equal(c.template, undefined);
    assert.equal(table?.size, 0);
  });

  it('a reload that turns persistence off still lets the templates of connections in flight go when they end', () => {
    const { clock, v, table, connect } = service({ persistent: true });
    const c = connect('192.0.2.1');
    const s = c.server!;
    const t = c.template!;
    v.reconfigure({ ...v.spec, persistence: undefined }, undefined);
    assert.equal(connect('198.51.100.1').template, undefined, 'new connections follow no template');
    v.release(c);
    clock.advance(2 * TIMEOUT);
    table?.tick();
    assert.equal(t.conns, 0);
    assert.equal(s.persistConns, 0);
  });

  it('release detaches the template: the last release starts its timeout', () => {
    const { v, connect } = service({ persistent: true });
    const a = connect('192.0.2.1');
    const b = connect('192.0.2.2');
    const t = a.template!;
    v.release(a);
    assert.equal(t.conns, 1);
    assert.equal(t.expiresAt, Infinity);
    v.release(b);
    assert.equal(t.conns, 0);
    assert.ok(Number.isFinite(t.expiresAt));
    assert.equal(a.template, undefined);
  });
});

describe('VirtualService.assign without a server', () => {
  it('sends the connection to the sorry server when no real server is available', () => {
    const { v, connect } = service({ servers: [server(A, 0), server(B, 0)], extra: { sorryServer: parseEndpoint('10.9.9.9:80') } });
    const c = connect('192.0.2.1');
    assert.equal(c.server?.id, '10.9.9.9:80');
    assert.equal(v.refused.noServer, 0);
    assert.equal(v.sorry?.inactiveConns, 1);
  });

  it('refuses (false) and counts refused.noServer when no server is available and there is no sorry server', () => {
    const { v } = service({ servers: [server(A, 0)] });
    const c = fakeConn('192.0.2.1');
    assert.equal(v.assign(c), false);
    assert.equal(c.server, undefined);
    assert.equal(v.refused.noServer, 1);
  });

  it('refuses when every server is down', () => {
    const { v } = service();
    for (const s of v.servers) v.setHealth(s.id, 'down');
    assert.equal(v.assign(fakeConn('192.0.2.1')), false);
    assert.equal(v.refused.noServer, 1);
  });

  it('refuses a service with no servers at all', () => {
    const { v } = service({ servers: [] });
    assert.equal(v.assign(fakeConn('192.0.2.1')), false);
  });
});

describe('VirtualService connect retries', () => {
  it('unassignFailed + assign avoids the tried server, even for a hashing scheduler (sh)', () => {
    const { v, connect } = service({ extra: { scheduler: 'sh' } });
    const c = connect('192.0.2.1');
    const hashed = c.server!;
    assert.equal(connect('192.0.2.1').server, hashed, 'sh sends this client to one server');
    v.unassignFailed(c);
    assert.deepEqual(c.tried, [hashed]);
    assert.equal(v.assign(c), true);
    assert.notEqual(c.server, hashed);
  });

  it('gives back the failed server\'s connection count', () => {
    const { v, connect } = service();
    const c = connect('192.0.2.1');
    const s = c.server!;
    v.unassignFailed(c);
    assert.equal(s.totalConns, 0);
    v.assign(c);
    assert.equal(c.server?.totalConns, 1);
  });

  it('after every server failed, tries the sorry server, then refuses', () => {
    const { v, connect } = service({ servers: [server(A), server(B)], extra: { scheduler: 'sh', sorryServer: parseEndpoint('10.9.9.9:80') } });
    const c = connect('192.0.2.1');
    v.unassignFailed(c);
    v.assign(c);
    v.unassignFailed(c);
    assert.equal(v.assign(c), true);
    assert.equal(c.server, v.sorry);
    v.unassignFailed(c);
    assert.equal(v.assign(c), false);
    assert.equal(c.tried?.length, 3);
  });

  it('with persistence, a failed server\'s template is not followed; the client gets a template for the server that worked', () => {
    const { v, connect } = service({ persistent: true });
    const c = connect('192.0.2.1');
    const failed = c.server!;
    v.unassignFailed(c);
    v.assign(c);
    const worked = c.server!;
    assert.notEqual(worked, failed);
    assert.equal(failed.persistConns, 0);
    assert.equal(connect('192.0.2.50').server, worked);
  });
});

describe('VirtualService connection counts', () => {
  it('a new connection counts as inactive on its server (connecting), a UDP session too', () => {
    const { connect } = service();
    const tcp = connect('192.0.2.1');
    const udp = connect('192.0.2.2', { udp: true });
    assert.deepEqual([tcp.server?.activeConns, tcp.server?.inactiveConns], [0, 1]);
    assert.deepEqual([udp.server?.activeConns, udp.server?.inactiveConns], [0, 1]);
  });

  it('setState keeps the server\'s active and inactive counts right through established, fin-wait and release', () => {
    const { v, connect } = service();
    const c = connect('192.0.2.1');
    const s = c.server!;
    const counts = () => [s.activeConns, s.inactiveConns];
    v.setState(c, 'established');
    assert.deepEqual(counts(), [1, 0]);
    v.setState(c, 'established');
    assert.deepEqual(counts(), [1, 0], 'no change for the same state');
    v.setState(c, 'fin-wait');
    assert.deepEqual(counts(), [0, 1]);
    assert.equal(c.state, 'fin-wait');
    v.release(c);
    assert.deepEqual(counts(), [0, 0]);
    assert.equal(c.server, undefined);
  });

  it('releasing an established connection frees an active slot', () => {
    const { v, connect } = service();
    const c = connect('192.0.2.1');
    const s = c.server!;
    v.setState(c, 'established');
    v.release(c);
    assert.deepEqual([s.activeConns, s.inactiveConns], [0, 0]);
  });

  it('a second release is harmless', () => {
    const { v, connect } = service();
    const c = connect('192.0.2.1');
    const s = c.server!;
    v.release(c);
    v.release(c);
    assert.equal(s.totalConns, 0);
  });

  it('a server at maxConns takes no new client until it falls below the lower threshold', () => {
    const { v, connect } = service({ servers: [server(A, 1, { maxConns: 2 })] });
    const conns = [connect('192.0.2.1'), connect('192.0.2.2')];
    assert.equal(connect('192.0.2.3').server, undefined);
    v.release(conns[0]!);
    assert.equal(connect('192.0.2.4').server?.id, A, '1 < 3/4 of 2');
  });
});
