import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deadPort } from '../helpers/backends.ts';
import { rawExchange } from '../helpers/clients.ts';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';

/**
 * An HTTP real server written for the test: it answers with its name and what it saw (method, path, the fields
 * yoke sent, and the sha256 of the body), or a large body on /big, or a WebSocket-style echo after an Upgrade.
 */
interface Backend { name: string; port: number; address: string; requests: number; close(): Promise<void> }

const BIG = randomBytes(6 * 1024 * 1024);

function backend(name: string): Promise<Backend> {
  const tunnels = new Set<net.Socket>();
  const b: Backend = {
    name, port: 0, address: '', requests: 0,
    close: () => new Promise((r) => { for (const t of tunnels) t.destroy(); server.closeAllConnections(); server.close(() => r()); }),
  };
  const server = http.createServer((req, res) => {
    b.requests++;
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (d: Buffer) => { hash.update(d); size += d.length; });
    req.on('end', () => {
      if (req.url === '/big') { res.setHeader('content-type', 'application/octet-stream'); res.end(BIG); return; }
      if (req.url === '/stream') { res.write('part one,'); setTimeout(() => res.end('part two'), 20); return; }
      if (req.url === '/latin1') { res.setHeader('x-echo', req.headers['x-name'] ?? ''); res.end('ok'); return; }
      if (req.url === '/die') { res.writeHead(200, { 'content-length': '100' }); res.write('only half'); setTimeout(() => res.socket?.destroy(), 20); return; }
      res.setHeader('x-backend', name);
      res.setHeader('connection', 'keep-alive, x-secret-hop');
      res.setHeader('x-secret-hop', 'must not reach the client');
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, size, sha256: hash.digest('hex') }));
    });
  });
  server.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
    b.requests++;
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\nconnection: upgrade\r\n\r\n`);
    const echo = (d: Buffer) => socket.write(Buffer.concat([Buffer.from(`${name}:`), d]));
    if (head.length > 0) echo(head);
    socket.on('data', echo);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as net.AddressInfo).port;
    Object.assign(b, { port, address: `127.0.0.1:${port}` });
    resolve(b);
  }));
}

/** Runs curl (the real client) and returns its output and exit code. */
function curl(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '--max-time', '20', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

const raw = (port: number, bytes: string | Buffer, ms = 2000) => rawExchange(port, bytes, ms, false);

describe('mode http: a reverse proxy with routes, streaming both ways and its own strict parser, through a running yoke', () => {
  let app1: Backend, app2: Backend, stat: Backend, api: Backend;
  let vip: number, retry: number, empty: number;
  let run: Running;
  let dir: string;

  before(async () => {
    [app1, app2, stat, api] = await Promise.all(['APP1', 'APP2', 'STATIC', 'API'].map((n) => backend(n))) as [Backend, Backend, Backend, Backend];
    [vip, retry, empty] = (await freePorts(3)) as [number, number, number];
    const dead = await deadPort();
    dir = mkdtempSync(join(tmpdir(), 'yoke-http-'));
    const file = writeConfig(`services:
  - name: site
    listen: 127.0.0.1:${vip}
    mode: http
    routes:
      - match: { path_prefix: /static/ }
        pool: static
      - match: { host: api.test }
        pool: api
      - pool: app
    pools:
      static:
        servers: [{ address: ${stat.address} }]
      api:
        servers: [{ address: ${api.address} }]
      app:
        scheduler: rr
        servers: [{ address: ${app1.address} }, { address: ${app2.address} }]
  - name: retry
    listen: 127.0.0.1:${retry}
    mode: http
    scheduler: rr
    servers: [{ address: 127.0.0.1:${dead} }, { address: ${app1.address} }]
  - name: empty
    listen: 127.0.0.1:${empty}
    mode: http
    servers: []
`);
    run = await startYoke(file, {}, 'service up');
  });
  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all([app1, app2, stat, api].map((b) => b.close()));
  });

  const url = (path: string, port = vip) => `http://127.0.0.1:${port}${path}`;
  const json = (s: string) => JSON.parse(s) as { name: string; method: string; url: string; headers: Record<string, string>; size: number; sha256: string };

  it('routes by path prefix and host, and spreads the rest over the app pool', async () => {
    assert.equal(json((await curl([url('/static/logo.png')])).out).name, 'STATIC');
    assert.equal(json((await curl(['-H', 'Host: api.test', url('/v1/users')])).out).name, 'API');
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add(json((await curl([url('/page')])).out).name);
    assert.deepEqual([...names].sort(), ['APP1', 'APP2']);
  });

  it('tells the real server who the client is and drops hop-by-hop fields both ways', async () => {
    const r = await curl(['-i', '-H', 'X-Forwarded-For: 10.9.9.9', '-H', 'Connection: keep-alive, X-Private', '-H', 'X-Private: secret', url('/who')]);
    const [head, body] = r.out.split('\r\n\r\n') as [string, string];
    const seen = json(body).headers;
    assert.equal(seen['x-forwarded-for'], '10.9.9.9, 127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.match(seen['forwarded'] ?? '', /^for=127\.0\.0\.1;proto=http;host="127\.0\.0\.1:\d+"$/);
    assert.equal(seen['via'], '1.1 yoke');
    assert.equal(seen['x-private'], undefined, 'a field named in Connection is hop-by-hop');
    assert.match(seen['x-request-id'] ?? '', /^[0-9a-f]{8}-[0-9a-z]+$/);
    assert.match(head, /^via: 1\.1 yoke$/m);
    assert.doesNotMatch(head, /x-secret-hop/i, 'the server\'s own Connection-named field stays on its hop');
  });

  it('passes field values byte for byte both ways, obs-text (bytes 0x80-0xFF) included', async () => {
    // The server echoes the value it got; Node writes it back UTF-8 encoded, so compare with the server's own answer.
    const name = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xc3, 0xa9]); // "caf", a latin1 byte, then UTF-8 "é"
    const request = Buffer.concat([Buffer.from('GET /latin1 HTTP/1.1\r\nHost: a.test\r\nX-Name: '), name, Buffer.from('\r\nConnection: close\r\n\r\n')]);
    const echoed = (answer: string) => /^x-echo: (.*)\r$/im.exec(answer)?.[1];
    const direct = echoed(await raw(app1.port, request));
    assert.equal(direct, Buffer.from(Buffer.from(name.toString('latin1'), 'utf8')).toString('latin1'), 'the server saw the bytes the client sent');
    assert.equal(echoed(await raw(vip, request)), direct, 'yoke passes on what the server sent');
  });

  it('keeps the client connection alive across requests (curl reuses it) and answers pipelined requests in order', async () => {
    const r = await curl(['-v', url('/a'), url('/b')]);
    assert.match(r.err, /Re-using existing connection|Reusing existing connection/);
    const two = await raw(vip, 'GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const urls = [...two.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(urls, ['/one', '/two']);
  });

  it('carries large uploads (fixed length and chunked) and downloads intact', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const file = join(dir, 'upload.bin');
    writeFileSync(file, data);
    const sha = createHash('sha256').update(data).digest('hex');
    const fixed = json((await curl(['--data-binary', `@${file}`, url('/upload')])).out);
    assert.deepEqual([fixed.method, fixed.size, fixed.sha256], ['POST', data.length, sha]);
    const chunked = json((await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`, url('/upload')])).out);
    assert.deepEqual([chunked.size, chunked.sha256], [data.length, sha]);
    const down = await curl([url('/big')]);
    assert.equal(createHash('sha256').update(Buffer.from(down.out, 'latin1')).digest('hex'), createHash('sha256').update(BIG).digest('hex'));
    const streamed = await curl(['-i', url('/stream')]);
    assert.match(streamed.out, /transfer-encoding: chunked/i);
    assert.match(streamed.out, /part one,part two$/);
  });

  it('refuses smuggling shapes itself: nothing reaches a real server', async () => {
    const before = app1.requests + app2.requests + stat.requests + api.requests;
    const shapes = [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'GET / HTTP/1.1\r\nX: a\r\n b\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\n\r\n',
    ];
    for (const shape of shapes) {
      const answer = await raw(vip, shape);
      assert.match(answer, /^HTTP\/1\.1 (400|501) /, JSON.stringify(shape));
      assert.match(answer, /request id: /);
    }
    assert.equal(app1.requests + app2.requests + stat.requests + api.requests, before);
  });

  it('retries an idempotent request on another server when the first refuses; 503 without servers; a server dying mid-answer cuts the client', async () => {
    for (let i = 0; i < 3; i++) assert.equal(json((await curl([url('/x', retry)])).out).name, 'APP1');
    const none = await curl(['-i', url('/x', empty)]);
    assert.match(none.out, /^HTTP\/1\.1 503 /);
    const cut = await curl([url('/die')]);
    assert.notEqual(cut.code, 0, 'curl sees the answer cut short');
  });

  it('a WebSocket-style upgrade becomes a tunnel to the chosen server, both ways, for bytes sent with the head and after', async () => {
    const got = await new Promise<string>((resolve) => {
      const s = net.connect(vip, '127.0.0.1');
      let text = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        text += d;
        if (/APP[12]:hello/.test(text) && !/again/.test(text)) s.write('again');
        if (/APP[12]:again/.test(text)) s.destroy();
      });
      s.on('close', () => resolve(text));
      setTimeout(() => s.destroy(), 2000);
      s.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nhello');
    });
    assert.match(got, /^HTTP\/1\.1 101 Switching Protocols/);
    assert.match(got, /APP[12]:hello/);
    assert.match(got, /APP[12]:again/);
  });

  it('limits: a head over 16 KiB gets 431; a client trickling a head byte by byte gets 408 about 10 s after it began', async () => {
    const big = await raw(vip, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(vip, '127.0.0.1');
      let got = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => { got += d; });
      s.on('error', () => {});
      const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'z'.repeat(100);
      let i = 0;
      const drip = setInterval(() => { if (i < head.length && !s.destroyed) s.write(head[i++] as string); }, 500);
      s.on('close', () => { clearInterval(drip); resolve(got); });
      setTimeout(() => s.destroy(), 20_000);
    });
    const took = Date.now() - started;
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(took >= 9_000 && took < 13_000, `408 after ${took} ms`);
  });
});
