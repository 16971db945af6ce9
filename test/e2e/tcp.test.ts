import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Director } from '../../core/director.ts';
import { deadPort, server, spec, tcpBackend, type TcpBackend } from '../helpers/backends.ts';
import { connectAndGreet, drainUntilClose, sleep, whoAnswers } from '../helpers/clients.ts';

describe('TCP proxy, end to end on loopback', () => {
  let a: TcpBackend, b: TcpBackend, c: TcpBackend;
  const directors: Director[] = [];
  const director = () => { const d = new Director(); directors.push(d); return d; };
  before(async () => { [a, b, c] = await Promise.all([tcpBackend('A'), tcpBackend('B'), tcpBackend('C')]); });
  after(async () => {
    await Promise.all(directors.map((d) => d.shutdown(0)));
    await Promise.all([a, b, c].map((x) => x.close()));
  });

  it('spreads new connections as the scheduler says (wrr 3:1:1 gives A A A B C)', async () => {
    const d = director();
    await d.addService(spec('wrr', [server(a.address, 3), server(b.address, 1), server(c.address, 1)], { scheduler: 'wrr' }));
    const port = d.planeOf('wrr')!.port;
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) seen.push(await whoAnswers(port));
    assert.deepEqual(seen, ['A', 'A', 'A', 'B', 'C', 'A', 'A', 'A', 'B', 'C']);
  });

  it('carries megabytes intact both ways (sha256 of what went and what came back)', async () => {
    const d = director();
    await d.addService(spec('bulk', [server(a.address)]));
    const { socket } = await connectAndGreet(d.planeOf('bulk')!.port);
    const payload = randomBytes(8 * 1024 * 1024);
    const done = drainUntilClose(socket);
    socket.end(payload);
    const { data } = await done;
    const echoed = data.subarray(0, payload.length);
    assert.equal(createHash('sha256').update(echoed).digest('hex'), createHash('sha256').update(payload).digest('hex'));
    assert.equal(data.subarray(payload.length).toString(), 'bye A\n');
    const svc = d.service('bulk');
    assert.equal(svc.stats.inBytes, payload.length);
    assert.equal(svc.stats.outBytes, payload.length * 2 + 'A\n'.length + 'bye A\n'.length - payload.length);
  });

  it('honours half-close: the client stops sending and still reads everything the server says after', async () => {
    const d = director();
    await d.addService(spec('half', [server(b.address)]));
    const { socket } = await connectAndGreet(d.planeOf('half')!.port);
    socket.write('ping\n');
    const done = drainUntilClose(socket);
    socket.end();
    const { data, error } = await done;
    assert.equal(error, undefined);
    assert.equal(data.toString(), 'ping\nbye B\n');
  });

  it('skips a real server that refuses connections, without the client noticing', async () => {
    const d = director();
    const dead = `127.0.0.1:${await deadPort()}`;
    await d.addService(spec('retry', [server(dead), server(a.address)], { scheduler: 'rr', retries: 1 }));
    const port = d.planeOf('retry')!.port;
    const seen = [await whoAnswers(port), await whoAnswers(port), await whoAnswers(port)];
    assert.deepEqual(seen, ['A', 'A', 'A']);
  });

  it('closes the client when every server refuses, and keeps serving', async () => {
    const d = director();
    const dead = `127.0.0.1:${await deadPort()}`;
    await d.addService(spec('alldead', [server(dead)], { retries: 2 }));
    const port = d.planeOf('alldead')!.port;
    await assert.rejects(whoAnswers(port), /closed before a greeting|ECONNRESET/);
    d.addServer('alldead', server(b.address));
    d.removeServer('alldead', dead);
    assert.equal(await whoAnswers(port), 'B');
  });

  it('sends new connections to the sorry server when no real server is available, and hands back', async () => {
    const d = director();
    await d.addService(spec('sorry', [server(a.address)], { sorryServer: server(c.address).address }));
    const port = d.planeOf('sorry')!.port;
    d.markServer('sorry', a.address, false);
    assert.equal(await whoAnswers(port), 'C');
    d.markServer('sorry', a.address, true);
    assert.equal(await whoAnswers(port), 'A');
  });

  it('weight 0 quiesces: open connections go on, new ones avoid the server', async () => {
    const d = director();
    await d.addService(spec('drain', [server(a.address), server(b.address)], { scheduler: 'rr' }));
    const port = d.planeOf('drain')!.port;
    const held = await connectAndGreet(port);
    assert.equal(held.name, 'A');
    d.drain('drain', a.address);
    const seen = [await whoAnswers(port), await whoAnswers(port), await whoAnswers(port)];
    assert.deepEqual(seen, ['B', 'B', 'B']);
    held.socket.write('still here\n');
    const done = drainUntilClose(held.socket);
    held.socket.end();
    assert.equal((await done).data.toString(), 'still here\nbye A\n');
  });

  it('holds the upper threshold (max_conns) and reopens below the lower one (min_conns)', async () => {
    const d = director();
    await d.addService(spec('thr', [server(a.address, 1, { maxConns: 2, minConns: 1 }), server(b.address, 1)], { scheduler: 'fo' }));
    const port = d.planeOf('thr')!.port;
    const open = [await connectAndGreet(port), await connectAndGreet(port)];
    assert.deepEqual(open.map((o) => o.name), ['A', 'A']);
    assert.equal(await whoAnswers(port), 'B', 'A is overloaded at 2 connections');
    open[0]!.socket.destroy();
    await sleep(100);
    assert.equal(await whoAnswers(port), 'B', 'still overloaded at 1: not below min_conns');
    open[1]!.socket.destroy();
    await sleep(100);
    assert.equal(await whoAnswers(port), 'A', 'below min_conns: A takes connections again');
  });

  it('refuses connections over the service limit and keeps serving the rest', async () => {
    const d = director();
    await d.addService(spec('limit', [server(a.address)], { maxConns: 3 }));
    const port = d.planeOf('limit')!.port;
    const open = await Promise.all([1, 2, 3].map(() => connectAndGreet(port)));
    const events: unknown[] = [];
    const onRefused = (m: unknown) => events.push(m);
    subscribe('yoke:refused', onRefused);
    const extra = await Promise.allSettled([1, 2, 3, 4, 5].map(() => whoAnswers(port)));
    unsubscribe('yoke:refused', onRefused);
    assert.equal(extra.filter((r) => r.status === 'rejected').length, 5);
    assert.equal(d.service('limit').refused.limit, 5);
    assert.equal(events.length, 5);
    assert.deepEqual(events[0], { service: 'limit', reason: 'limit', client: '127.0.0.1' });
    for (const o of open) o.socket.destroy();
    await sleep(100);
    assert.equal(await whoAnswers(port), 'A');
  });

  it('forgets ended connections at once: the connection table\'s wheel holds only live ones', async () => {
    const d = director();
    await d.addService(spec('churn', [server(a.address)]));
    const plane = d.planeOf('churn') as import('../../core/dataplane/tcp.ts').TcpPlane;
    for (let i = 0; i < 50; i++) {
      const { socket } = await connectAndGreet(plane.port);
      const done = drainUntilClose(socket);
      socket.end();
      await done;
    }
    const held = await connectAndGreet(plane.port);
    await sleep(50);
    assert.equal(d.service('churn').connections.size, 1);
    assert.equal(plane.ctx.wheel.size, 1, 'only the open connection is filed');
    held.socket.destroy();
    await sleep(50);
    assert.equal(plane.ctx.wheel.size, 0);
  });

  it('closes a client that sends nothing once the idle timeout passes', async () => {
    const d = director();
    await d.addService(spec('idle', [server(a.address)]));
    d.setTimeouts({ tcpMs: 1000, tcpFinMs: 1000, udpMs: 1000 });
    const { socket } = await connectAndGreet(d.planeOf('idle')!.port);
    const t0 = Date.now();
    const closed = await drainUntilClose(socket);
    const waited = Date.now() - t0;
    assert.ok(waited >= 500 && waited < 4000, `closed after ${waited} ms`);
    assert.ok(closed.error === 'ECONNRESET' || closed.error === undefined);
    assert.equal(d.service('idle').connections.size, 0);
  });

  it('resets the TCP connections of a removed server only when asked', async () => {
    const d = director();
    await d.addService(spec('rm', [server(a.address), server(b.address)], { scheduler: 'rr' }));
    const port = d.planeOf('rm')!.port;
    const keep = await connectAndGreet(port);
    const cut = await connectAndGreet(port);
    assert.deepEqual([keep.name, cut.name], ['A', 'B']);
    d.removeServer('rm', a.address, false);
    const cutDone = drainUntilClose(cut.socket);
    d.removeServer('rm', b.address, true);
    assert.equal((await cutDone).error, 'ECONNRESET');
    keep.socket.write('x\n');
    const keepDone = drainUntilClose(keep.socket);
    keep.socket.end();
    assert.equal((await keepDone).data.toString(), 'x\nbye A\n');
  });

  it('replays peeked bytes to the chosen server (the L7 seam) and schedules by the key they give', async () => {
    const opener = {
      async open(client: net.Socket) {
        const first = await new Promise<Buffer>((r) => client.once('data', r));
        return { key: first.toString().split('\n')[0], replay: first };
      },
    };
    const d = new Director({ openerFor: (v) => (v.name === 'peek' ? opener : undefined) });
    directors.push(d);
    await d.addService(spec('peek', [server(a.address), server(b.address), server(c.address)], { scheduler: 'sh' }));
    const port = d.planeOf('peek')!.port;
    const ask = async (key: string) => {
      const s = net.connect(port, '127.0.0.1');
      s.write(`${key}\nbody\n`);
      const done = drainUntilClose(s);
      s.end();
      return (await done).data.toString();
    };
    const first = await ask('user-42');
    assert.match(first, /^[ABC]\nuser-42\nbody\nbye [ABC]\n$/);
    for (let i = 0; i < 5; i++) assert.equal(await ask('user-42'), first, 'the same key lands on the same server');
  });
});

describe('PROXY protocol towards real servers', () => {
  it('v1 and v2 headers tell the real server who the client is, ahead of the client\'s bytes', async () => {
    const { encodeProxyV1, encodeProxyV2 } = await import('../../l7/proxy-protocol/encode.ts');
    const { decodeProxy } = await import('../../l7/proxy-protocol/decode.ts');
    const backend = await tcpBackend('P', { greet: false });
    const d = new Director({ proxyHeader: (v, client, vip) => (v === 'v1' ? encodeProxyV1(client, vip) : encodeProxyV2(client, vip, 'stream')) });
    try {
      for (const version of ['v1', 'v2'] as const) {
        const name = `pp-${version}`;
        await d.addService(spec(name, [server(backend.address)], { proxyProtocol: version }));
        const port = d.planeOf(name)!.port;
        const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.9' });
        await new Promise((r) => s.once('connect', r));
        const localPort = s.localPort;
        s.write('hello');
        const done = drainUntilClose(s);
        s.end();
        const echoed = (await done).data;
        const decoded = decodeProxy(echoed);
        assert.equal(decoded.kind, 'ok');
        if (decoded.kind !== 'ok') return;
        assert.equal(decoded.header.version, version === 'v1' ? 1 : 2);
        assert.deepEqual(decoded.header.src, { host: '127.0.0.9', port: localPort, family: 4 });
        assert.deepEqual(decoded.header.dst, { host: '127.0.0.1', port, family: 4 });
        assert.equal(echoed.subarray(decoded.length).toString(), 'hellobye P\n');
      }
    } finally {
      await d.shutdown(0);
      await backend.close();
    }
  });
});

describe('connect timeout', () => {
  it('a server whose accept queue is full (SYNs dropped) is given up after connect_timeout and another takes the client', async () => {
    const { spawn } = await import('node:child_process');
    // A listener that never accepts, with a backlog of 0: once its queue holds a connection, the kernel drops SYNs.
    const py = spawn('python3', ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = Number(await new Promise<string>((r) => py.stdout!.once('data', (d: Buffer) => r(d.toString().trim()))));
    const fillers = [1, 2, 3].map(() => net.connect(port, '127.0.0.1').on('error', () => {}));
    await sleep(200);
    const ok = await tcpBackend('OK');
    const d = new Director();
    try {
      await d.addService(spec('slow', [server(`127.0.0.1:${port}`), server(ok.address)], { scheduler: 'fo', connectTimeoutMs: 500, retries: 1 }));
      const t0 = Date.now();
      assert.equal(await whoAnswers(d.planeOf('slow')!.port), 'OK');
      const waited = Date.now() - t0;
      assert.ok(waited >= 400 && waited < 2500, `failed over after ${waited} ms (connect_timeout 500 ms, wheel resolution 1 s)`);
    } finally {
      for (const f of fillers) f.destroy();
      py.kill();
      await d.shutdown(0);
      await ok.close();
    }
  });
});

describe('the L7 seam: a short dialogue before choosing', () => {
  it('an opener greets the client, reads its user name, answers, then the chosen server gets the replayed login', async () => {
    const backend1 = await tcpBackend('M1', { greet: false });
    const backend2 = await tcpBackend('M2', { greet: false });
    const opener = {
      async open(client: net.Socket) {
        client.write('+OK yoke ready\r\n');
        const line = await new Promise<string>((resolve) => {
          let buf = '';
          const onData = (d: Buffer) => { buf += d.toString(); if (buf.includes('\r\n')) { client.off('data', onData); resolve(buf); } };
          client.on('data', onData);
        });
        const user = line.slice(5).trim();
        client.write(`+OK hello ${user}\r\n`);
        return { key: user, replay: Buffer.from(line) };
      },
    };
    const d = new Director({ openerFor: (v) => (v.name === 'mail' ? opener : undefined) });
    try {
      await d.addService(spec('mail', [server(backend1.address), server(backend2.address)], { scheduler: 'sh' }));
      const port = d.planeOf('mail')!.port;
      const session = async (user: string) => {
        const s = net.connect(port, '127.0.0.1');
        const got: Buffer[] = [];
        s.on('data', (b: Buffer) => got.push(b));
        await new Promise((r) => s.once('connect', r));
        while (!Buffer.concat(got).toString().includes('ready')) await sleep(5);
        s.write(`USER ${user}\r\n`);
        while (!Buffer.concat(got).toString().includes('hello')) await sleep(5);
        s.write('STAT\r\n');
        const done = drainUntilClose(s);
        s.end();
        await done;
        return Buffer.concat(got).toString();
      };
      const a = await session('alice');
      assert.match(a, /^\+OK yoke ready\r\n\+OK hello alice\r\nUSER alice\r\nSTAT\r\nbye M[12]\n$/);
      for (let i = 0; i < 3; i++) assert.equal(await session('alice'), a, 'one user, one server');
    } finally {
      await d.shutdown(0);
      await backend1.close();
      await backend2.close();
    }
  });
});

describe('IPv6', () => {
  it('proxies [::1] to [::1] real servers, with persistence by /64', async () => {
    const { parseEndpoint } = await import('../../core/address.ts');
    const b1 = await tcpBackend('V1', { host: '::1' });
    const b2 = await tcpBackend('V2', { host: '::1' });
    const d = new Director();
    try {
      await d.addService(spec('v6', [server(`[::1]:${b1.port}`), server(`[::1]:${b2.port}`)], {
        listen: { ...parseEndpoint('[::1]:1'), port: 0 }, scheduler: 'rr', persistence: { timeoutMs: 60_000, netmask: '255.255.255.255', prefix6: 64, group: undefined },
      }));
      const port = d.planeOf('v6')!.port;
      const ask = async () => {
        const s = net.connect({ port, host: '::1' });
        const name = await new Promise<string>((r) => s.once('data', (b: Buffer) => r(b.toString().trim())));
        s.destroy();
        return name;
      };
      const first = await ask();
      assert.match(first, /^V[12]$/);
      for (let i = 0; i < 3; i++) assert.equal(await ask(), first, '::1 stays on its server');
      assert.equal([...d.service('v6').persistence!.list()][0]?.key, '0:0:0:0:0:0:0:0/64');
    } finally {
      await d.shutdown(0);
      await b1.close();
      await b2.close();
    }
  });
});
