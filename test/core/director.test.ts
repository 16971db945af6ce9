import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type dgram from 'node:dgram';
import net from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { parseEndpoint } from '../../core/address.ts';
import { ManualClock } from '../../core/clock.ts';
import { Director } from '../../core/director.ts';
import { DEFAULT_TIMEOUTS, type ServiceSpec } from '../../core/spec.ts';
import { server, spec, tcpBackend, udpBackend, type TcpBackend, type UdpBackend } from '../helpers/backends.ts';
import { connectAndGreet, drainUntilClose, udpAsk, udpClient, whoAnswers } from '../helpers/clients.ts';
import { freePorts } from '../helpers/daemon.ts';

const at = (port: number) => parseEndpoint(`127.0.0.1:${port}`);

/** True when nothing accepts TCP connections on the loopback port. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

/** Another process holding a loopback TCP port, as an operator's other daemon would. */
async function holdPort(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`port holder exited ${code}`)));
  });
  return child;
}

/** Resolves with 'done' if `p` settles within `ms`, else 'pending' (the promise keeps running). */
function within(p: Promise<unknown>, ms: number): Promise<'done' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => 'done' as const),
    new Promise<'pending'>((r) => { timer = setTimeout(() => r('pending'), ms); }),
  ]).finally(() => clearTimeout(timer));
}

describe('Director', () => {
  let A: TcpBackend, B: TcpBackend, U1: UdpBackend;
  const directors: Director[] = [];
  const sockets: (net.Socket | dgram.Socket)[] = [];
  const director = (clock?: ManualClock) => {
    const d = new Director(clock ? { clock } : {});
    directors.push(d);
    return d;
  };
  const held = async (port: number) => {
    const h = await connectAndGreet(port);
    sockets.push(h.socket);
    return h;
  };

  before(async () => { [A, B, U1] = await Promise.all([tcpBackend('A'), tcpBackend('B'), udpBackend('U1')]); });
  afterEach(async () => {
    // Clients go first: a director's shutdown waits for them (see the known bug below).
    for (const s of sockets.splice(0)) { if (s instanceof net.Socket) s.destroy(); else s.close(); }
    await Promise.all(directors.splice(0).map((d) => d.shutdown(0)));
  });
  after(async () => { await Promise.all([A, B, U1].map((b) => b.close())); });

  describe('apply()', () => {
    it('adds the services it is given and listens on their addresses', async () => {
      const [p1, p2] = (await freePorts(2)) as [number, number];
      const d = director();
      await d.apply([spec('a', [server(A.address)], { listen: at(p1) }), spec('b', [server(B.address)], { listen: at(p2) })], DEFAULT_TIMEOUTS);
      assert.deepEqual([...d.services()].map((s) => s.name).sort(), ['a', 'b']);
      assert.equal(await whoAnswers(p1), 'A');
      assert.equal(await whoAnswers(p2), 'B');
    });

    it('removes a service no longer listed and frees its port', async () => {
      const [p1, p2] = (await freePorts(2)) as [number, number];
      const d = director();
      await d.apply([spec('a', [server(A.address)], { listen: at(p1) }), spec('b', [server(B.address)], { listen: at(p2) })], DEFAULT_TIMEOUTS);
      await d.apply([spec('a', [server(A.address)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      assert.deepEqual([...d.services()].map((s) => s.name), ['a']);
      assert.throws(() => d.service('b'), { code: 'E_NO_SUCH_SERVICE' });
      assert.equal(await refused(p2), true);
      assert.equal(await whoAnswers(p1), 'A');
    });

    it('edits a service on an unchanged address in place: same service, new servers and weights', async () => {
      const [p1] = (await freePorts(1)) as [number];
      const d = director();
      await d.apply([spec('a', [server(A.address, 1)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      const before = d.service('a');
      await d.apply([spec('a', [server(A.address, 5), server(B.address, 0)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      assert.equal(d.service('a'), before);
      assert.deepEqual(before.servers.map((s) => [s.id, s.weight]), [[A.address, 5], [B.address, 0]]);
      await d.apply([spec('a', [server(B.address, 1)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      assert.deepEqual(before.servers.map((s) => s.id), [B.address]);
      assert.equal(await whoAnswers(p1), 'B');
    });

    it('keeps a connection in flight on a service it edits', async () => {
      const [p1] = (await freePorts(1)) as [number];
      const d = director();
      await d.apply([spec('a', [server(A.address)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      const { socket } = await held(p1);
      await d.apply([spec('a', [server(A.address, 3), server(B.address)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      const closed = drainUntilClose(socket);
      socket.end('still here\n');
      assert.equal((await closed).data.toString(), 'still here\nbye A\n');
    });

    it('moves a service whose listen address changed to the new address', async () => {
      const [p1, p2] = (await freePorts(2)) as [number, number];
      const d = director();
      await d.apply([spec('a', [server(A.address)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      await d.apply([spec('a', [server(A.address)], { listen: at(p2) })], DEFAULT_TIMEOUTS);
      assert.equal(await refused(p1), true);
      assert.equal(await whoAnswers(p2), 'A');
    });

    it('renaming a service on the same address works: the new name serves there, the old name is gone', async () => {
      const [p1] = (await freePorts(1)) as [number];
      const d = director();
      await d.apply([spec('old', [server(A.address)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      await d.apply([spec('new', [server(B.address)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      assert.deepEqual([...d.services()].map((s) => s.name), ['new']);
      assert.equal(await whoAnswers(p1), 'B');
    });

    it('swapping the addresses of two services works', async () => {
      const [p1, p2] = (await freePorts(2)) as [number, number];
      const d = director();
      await d.apply([spec('a', [server(A.address)], { listen: at(p1) }), spec('b', [server(B.address)], { listen: at(p2) })], DEFAULT_TIMEOUTS);
      await d.apply([spec('a', [server(A.address)], { listen: at(p2) }), spec('b', [server(B.address)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      assert.equal(await whoAnswers(p1), 'B');
      assert.equal(await whoAnswers(p2), 'A');
    });

    it('a reload where one new listener cannot bind rejects with E_LISTEN and leaves the running services and their ports untouched', async () => {
      const [p1, p2, pNew, pHeld] = (await freePorts(4)) as [number, number, number, number];
      const holder = await holdPort(pHeld);
      try {
        const d = director();
        const running: ServiceSpec[] = [spec('a', [server(A.address, 2)], { listen: at(p1) }), spec('b', [server(B.address)], { listen: at(p2) })];
        await d.apply(running, DEFAULT_TIMEOUTS);
        const [a, b] = [d.service('a'), d.service('b')];
        const { socket } = await held(p1);
        await assert.rejects(d.apply([
          spec('a', [server(A.address, 9)], { listen: at(p1) }),
          spec('fresh', [server(A.address)], { listen: at(pNew) }),
          spec('blocked', [server(B.address)], { listen: at(pHeld) }),
        ], { tcpMs: 1000, tcpFinMs: 1000, udpMs: 1000 }), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'E_LISTEN');
          assert.match(err.message, /blocked/);
          return true;
        });
        assert.deepEqual([...d.services()].map((s) => s.name).sort(), ['a', 'b'], 'no service added or removed');
        assert.equal(d.service('a'), a);
        assert.equal(d.service('b'), b);
        assert.equal(a.server(A.address).weight, 2, 'the kept service was not edited');
        assert.deepEqual(d.timeouts, DEFAULT_TIMEOUTS, 'nor the timeouts');
        assert.equal(await whoAnswers(p1), 'A');
        assert.equal(await whoAnswers(p2), 'B');
        assert.equal(await refused(pNew), true, 'the listener bound for the failed reload was closed');
        const closed = drainUntilClose(socket);
        socket.end('ping\n');
        assert.equal((await closed).data.toString(), 'ping\nbye A\n', 'a connection in flight was not touched');
      } finally {
        holder.kill();
      }
    });

    it('a service on port 0 is restarted by every apply (an ephemeral port never matches)', async () => {
      const d = director();
      await d.apply([spec('a', [server(A.address)])], DEFAULT_TIMEOUTS);
      const first = d.service('a');
      await d.apply([spec('a', [server(A.address)])], DEFAULT_TIMEOUTS);
      assert.notEqual(d.service('a'), first);
      assert.equal(await whoAnswers(d.planeOf('a')!.port), 'A');
    });

    it('applies the timeouts it is given', async () => {
      const d = director();
      const t = { tcpMs: 1000, tcpFinMs: 2000, udpMs: 3000 };
      await d.apply([], t);
      assert.deepEqual(d.timeouts, t);
    });

    it('a reload that removes a service does not wait for that service\'s open connections', async () => {
      const [p1] = (await freePorts(1)) as [number];
      const d = director();
      await d.apply([spec('old', [server(A.address)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      const { socket } = await held(p1);
      const reload = d.apply([spec('new', [server(B.address)], { listen: at(p1) })], DEFAULT_TIMEOUTS);
      const outcome = await within(reload, 1000);
      assert.equal(outcome, 'done', 'the reload finished while the old service still had a connection');
      socket.destroy();
      await reload;
      assert.equal(await whoAnswers(p1), 'B');
    });
  });

  describe('setTimeouts()', () => {
    it('shortening the tcp timeout refiles open connections: an idle one closes at the new deadline', async () => {
      const clock = new ManualClock();
      const d = director(clock);
      await d.addService(spec('a', [server(A.address)]));
      const { socket } = await held(d.planeOf('a')!.port);
      const closed = drainUntilClose(socket);
      clock.advance(60_000);
      d.tick();
      assert.equal(d.service('a').connections.size, 1, 'open under the default 900 s');
      d.setTimeouts({ ...DEFAULT_TIMEOUTS, tcpMs: 5_000 });
      clock.advance(4_000);
      d.tick();
      assert.equal(d.service('a').connections.size, 1, 'not before the new deadline');
      clock.advance(2_000);
      d.tick();
      assert.equal(d.service('a').connections.size, 0);
      assert.equal((await closed).error, 'ECONNRESET', 'an idle timeout resets the client');
    });

    it('shortening the udp timeout refiles sessions: the next datagram after it starts a new session', async () => {
      const clock = new ManualClock();
      const d = director(clock);
      const v = await d.addService(spec('dns', [server(U1.address)], { mode: 'udp' }));
      const c = await udpClient();
      sockets.push(c);
      assert.equal(await udpAsk(c, d.planeOf('dns')!.port, 'q1'), 'U1:q1');
      const [session] = [...v.connections];
      d.setTimeouts({ ...DEFAULT_TIMEOUTS, udpMs: 10_000 });
      clock.advance(11_000);
      d.tick();
      assert.equal(v.connections.size, 0);
      assert.equal(session?.gone, true);
      assert.equal(await udpAsk(c, d.planeOf('dns')!.port, 'q2'), 'U1:q2');
      assert.notEqual([...v.connections][0], session);
    });

    it('lengthening the timeouts closes nothing early', async () => {
      const clock = new ManualClock();
      const d = director(clock);
      await d.addService(spec('a', [server(A.address)]));
      await held(d.planeOf('a')!.port);
      d.setTimeouts({ tcpMs: 2_000_000, tcpFinMs: 500_000, udpMs: 600_000 });
      clock.advance(800_000);
      d.tick();
      assert.equal(d.service('a').connections.size, 1);
    });
  });

  describe('shutdown()', () => {
    it('stops accepting at once and waits for open connections to finish within the grace time', async () => {
      const d = director();
      await d.addService(spec('a', [server(A.address)]));
      const port = d.planeOf('a')!.port;
      const { socket } = await held(port);
      const t0 = Date.now();
      const stopping = d.shutdown(10_000);
      assert.equal(await refused(port), true, 'no new connections');
      const closed = drainUntilClose(socket);
      socket.end('last\n');
      assert.equal((await closed).data.toString(), 'last\nbye A\n', 'the open connection finished normally');
      await stopping;
      assert.ok(Date.now() - t0 < 5_000, 'resolved when the last connection ended, long before the grace time');
    });

    it('resets the connections still open when the grace time ends', async () => {
      const d = director();
      await d.addService(spec('a', [server(A.address)]));
      const { socket } = await held(d.planeOf('a')!.port);
      const closed = drainUntilClose(socket);
      const stopping = d.shutdown(300);
      const outcome = await within(stopping, 2_000);
      assert.equal(outcome, 'done', 'shutdown(300) returned after its grace time');
      assert.equal((await closed).error, 'ECONNRESET', 'the client was reset');
      socket.destroy();
      await stopping;
      await closed;
    });

    it('with no connections open, returns at once', async () => {
      const d = director();
      await d.addService(spec('a', [server(A.address)]));
      assert.equal(await within(d.shutdown(60_000), 1_000), 'done');
    });
  });

  describe('operations', () => {
    it('refuses a second service on an address already in use, with E_SERVICE_EXISTS', async () => {
      const [p1] = (await freePorts(1)) as [number];
      const d = director();
      await d.addService(spec('a', [server(A.address)], { listen: at(p1) }));
      await assert.rejects(d.addService(spec('b', [server(A.address)], { listen: at(p1) })), { code: 'E_SERVICE_EXISTS' });
      await assert.rejects(d.addService(spec('a', [server(A.address)])), { code: 'E_SERVICE_EXISTS' });
    });

    it('finds a service by name or by listen address', async () => {
      const [p1] = (await freePorts(1)) as [number];
      const d = director();
      const v = await d.addService(spec('a', [server(A.address)], { listen: at(p1) }));
      assert.equal(d.service('a'), v);
      assert.equal(d.service(`127.0.0.1:${p1}`), v);
      assert.equal(d.service(`tcp:127.0.0.1:${p1}`), v);
      assert.throws(() => d.service(`udp:127.0.0.1:${p1}`), { code: 'E_NO_SUCH_SERVICE' });
    });

    it('setWeight refuses a weight outside 0..65535 with E_BAD_WEIGHT; drain sets weight 0', async () => {
      const d = director();
      await d.addService(spec('a', [server(A.address, 3)]));
      assert.throws(() => d.setWeight('a', A.address, 65536), { code: 'E_BAD_WEIGHT' });
      assert.throws(() => d.setWeight('a', A.address, 1.5), { code: 'E_BAD_WEIGHT' });
      d.drain('a', A.address);
      assert.equal(d.service('a').server(A.address).weight, 0);
    });

    it('a removed service\'s port stops accepting', async () => {
      const [p1] = (await freePorts(1)) as [number];
      const d = director();
      await d.addService(spec('a', [server(A.address)], { listen: at(p1) }));
      await d.removeService('a');
      assert.equal(await refused(p1), true);
      await assert.rejects(d.removeService('a'), { code: 'E_NO_SUCH_SERVICE' });
    });
  });
});
