import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { Director } from '../../core/director.ts';
import { server, spec, tcpBackend, udpBackend, type TcpBackend, type UdpBackend } from '../helpers/backends.ts';
import { connectAndGreet, sleep, udpAsk, udpClient, whoAnswers } from '../helpers/clients.ts';

describe('UDP relay, end to end on loopback', () => {
  let u1: UdpBackend, u2: UdpBackend;
  const directors: Director[] = [];
  before(async () => { [u1, u2] = await Promise.all([udpBackend('U1'), udpBackend('U2')]); });
  after(async () => {
    await Promise.all(directors.map((d) => d.shutdown(0)));
    await Promise.all([u1, u2].map((x) => x.close()));
  });
  const start = async (extra: Parameters<typeof spec>[2] = {}) => {
    const d = new Director();
    directors.push(d);
    await d.addService(spec('dns', [server(u1.address), server(u2.address)], { mode: 'udp', scheduler: 'rr', ...extra }));
    return { d, port: d.planeOf('dns')!.port };
  };

  it('keeps one client port on one server (a session) and spreads client ports round robin', async () => {
    const { port } = await start();
    const c1 = await udpClient();
    const c2 = await udpClient();
    const r1 = [await udpAsk(c1, port, 'q1'), await udpAsk(c1, port, 'q2'), await udpAsk(c1, port, 'q3')];
    const r2 = await udpAsk(c2, port, 'q1');
    assert.deepEqual(r1, ['U1:q1', 'U1:q2', 'U1:q3']);
    assert.equal(r2, 'U2:q1');
    c1.close(); c2.close();
  });

  it('carries datagrams byte for byte, up to 60 KB', async () => {
    const { port } = await start();
    const c = await udpClient();
    const big = 'x'.repeat(60_000);
    assert.equal(await udpAsk(c, port, big), `U1:${big}`);
    c.close();
  });

  it('reschedules the next datagram at once when the session\'s server is removed (no 300 s black hole)', async () => {
    const { d, port } = await start();
    const c = await udpClient();
    assert.equal(await udpAsk(c, port, 'a'), 'U1:a');
    d.removeServer('dns', u1.address);
    assert.equal(await udpAsk(c, port, 'b'), 'U2:b');
    assert.equal(d.service('dns').connections.size, 1);
    c.close();
  });

  it('reschedules when the session\'s server is marked down, and forgets idle sessions after the udp timeout', async () => {
    const { d, port } = await start();
    const c = await udpClient();
    assert.equal(await udpAsk(c, port, 'a'), 'U1:a');
    d.markServer('dns', u1.address, false);
    assert.equal(await udpAsk(c, port, 'b'), 'U2:b');
    d.setTimeouts({ tcpMs: 900_000, tcpFinMs: 120_000, udpMs: 1000 });
    assert.equal(await udpAsk(c, port, 'c'), 'U2:c');
    c.close();
    // Expiry is due 1 s after the last datagram; the wheel's 1 s buckets and 1 s tick add up to 2 s more.
    const t0 = Date.now();
    while (d.service('dns').connections.size > 0 && Date.now() - t0 < 5000) await sleep(100);
    assert.equal(d.service('dns').connections.size, 0);
    assert.ok(Date.now() - t0 >= 500, 'not before the timeout');
  });
});

describe('persistence (ipvsadm -p timeout -M netmask), end to end', () => {
  let a: TcpBackend, b: TcpBackend, c: TcpBackend;
  let u1: UdpBackend, u2: UdpBackend;
  const directors: Director[] = [];
  before(async () => {
    [a, b, c] = await Promise.all([tcpBackend('A'), tcpBackend('B'), tcpBackend('C')]);
    [u1, u2] = await Promise.all([udpBackend('A'), udpBackend('B')]);
  });
  after(async () => {
    await Promise.all(directors.map((d) => d.shutdown(0)));
    await Promise.all([a, b, c, u1, u2].map((x) => x.close()));
  });
  const persistent = (netmask: string, timeoutMs: number, group?: string) => ({ timeoutMs, netmask, prefix6: 128, group });

  it('keeps a client on one server until the timeout after its last connection, then schedules afresh', async () => {
    const clock = new ManualClock(Date.now());
    const d = new Director({ clock });
    directors.push(d);
    await d.addService(spec('p', [server(a.address), server(b.address), server(c.address)], { scheduler: 'rr', persistence: persistent('255.255.255.255', 300_000) }));
    const port = d.planeOf('p')!.port;
    const first = await whoAnswers(port, '127.0.0.2');
    for (let i = 0; i < 5; i++) assert.equal(await whoAnswers(port, '127.0.0.2'), first);
    assert.notEqual(await whoAnswers(port, '127.0.0.3'), first, 'another client is scheduled by rr');
    await sleep(50);
    clock.advance(299_000);
    d.tick();
    assert.equal(await whoAnswers(port, '127.0.0.2'), first, 'within the timeout');
    await sleep(50);
    clock.advance(301_000); // the timeout plus the wheel's 1 s resolution
    d.tick();
    assert.equal(d.service('p').persistence!.size, 0, 'both templates expired 300 s after their last connection');
    assert.notEqual(await whoAnswers(port, '127.0.0.2'), first, 'scheduled afresh: rr moves on');
  });

  it('keeps a whole client network on one server under a netmask', async () => {
    const d = new Director();
    directors.push(d);
    await d.addService(spec('net', [server(a.address), server(b.address), server(c.address)], { scheduler: 'rr', persistence: persistent('255.255.255.0', 300_000) }));
    const port = d.planeOf('net')!.port;
    const first = await whoAnswers(port, '127.0.9.1');
    for (const host of ['127.0.9.2', '127.0.9.77', '127.0.9.254']) assert.equal(await whoAnswers(port, host), first);
    assert.notEqual(await whoAnswers(port, '127.0.10.1'), first);
  });

  it('a quiesced server (weight 0) keeps its persistent clients; a server marked down does not', async () => {
    const d = new Director();
    directors.push(d);
    await d.addService(spec('q', [server(a.address), server(b.address)], { scheduler: 'rr', persistence: persistent('255.255.255.255', 300_000) }));
    const port = d.planeOf('q')!.port;
    const first = await whoAnswers(port, '127.0.0.5');
    const id = first === 'A' ? a.address : b.address;
    d.drain('q', id);
    assert.equal(await whoAnswers(port, '127.0.0.5'), first, 'persistent client follows its template to the drained server');
    assert.notEqual(await whoAnswers(port, '127.0.0.6'), first, 'new clients avoid it');
    d.markServer('q', id, false);
    assert.notEqual(await whoAnswers(port, '127.0.0.5'), first, 'down: template expired, client rescheduled');
  });

  it('a persistence group keeps one client\'s TCP and UDP services on one server', async () => {
    const d = new Director();
    directors.push(d);
    const p = persistent('255.255.255.255', 300_000, 'media');
    await d.addService(spec('ctrl', [server(a.address, 1, { name: 'node1' }), server(b.address, 1, { name: 'node2' })], { scheduler: 'rr', persistence: p }));
    await d.addService(spec('data', [server(u1.address, 1, { name: 'node1' }), server(u2.address, 1, { name: 'node2' })], { mode: 'udp', scheduler: 'rr', persistence: p }));
    const tcpPort = d.planeOf('ctrl')!.port;
    const udpPort = d.planeOf('data')!.port;
    for (const host of ['127.0.0.21', '127.0.0.22', '127.0.0.23', '127.0.0.24']) {
      const viaTcp = await whoAnswers(tcpPort, host);
      const sock = await udpClient(host);
      const viaUdp = (await udpAsk(sock, udpPort, 'x')).split(':')[0];
      sock.close();
      assert.equal(viaUdp, viaTcp, `client ${host}: TCP went to ${viaTcp}, UDP to ${viaUdp}`);
    }
    const seen = new Set<string>();
    for (const host of ['127.0.0.31', '127.0.0.32']) seen.add(await whoAnswers(tcpPort, host));
    assert.equal(seen.size, 2, 'different clients still spread');
  });

  it('shows templates with their connection counts and server', async () => {
    const d = new Director();
    directors.push(d);
    await d.addService(spec('t', [server(a.address)], { persistence: persistent('255.255.255.255', 60_000) }));
    const port = d.planeOf('t')!.port;
    const held = await connectAndGreet(port, '127.0.0.40');
    const table = d.service('t').persistence!;
    const [tpl] = [...table.list()];
    assert.equal(tpl?.conns, 1);
    assert.equal(tpl?.server.id, a.address);
    assert.equal(d.service('t').servers[0]?.persistConns, 1);
    held.socket.destroy();
    await sleep(100);
    assert.equal(tpl?.conns, 0);
    assert.ok(tpl!.expiresAt > Date.now() + 50_000);
  });
});
