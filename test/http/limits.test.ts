// mode http's limits (services[].http), through a running yoke: body size and body pace, head size, connections per
// server, the upgrade tunnel's connect and answer deadlines, and a reload that changes a limit. Real clients (curl,
// raw sockets), real servers written here; loopback only. Short limits (200 ms) keep each case fast; the client-side
// deadlines sit in a 1 s timer wheel, so they fire up to 2 s late.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawExchange, sleep } from '../helpers/clients.ts';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { until } from '../helpers/health.ts';

/** A real server that records what it saw: requests begun, bodies received whole, requests cut before their end, and how many connections it held at once. */
interface Recorder {
  readonly address: string;
  begun: number;
  whole: number;
  cut: number;
  maxSockets: number;
  close(): Promise<void>;
}

/** Answers each request with the size and sha256 of its body, `delayMs` after the body ended. */
function recorder(delayMs = 0): Promise<Recorder> {
  let sockets = 0;
  const r: Recorder = { address: '', begun: 0, whole: 0, cut: 0, maxSockets: 0, close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }) };
  const server = http.createServer((req, res) => {
    r.begun++;
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (d: Buffer) => { hash.update(d); size += d.length; });
    req.on('end', () => { r.whole++; setTimeout(() => res.end(JSON.stringify({ size, sha256: hash.digest('hex') })), delayMs); });
    req.on('close', () => { if (!req.complete) r.cut++; });
  });
  server.on('connection', (s: net.Socket) => { r.maxSockets = Math.max(r.maxSockets, ++sockets); s.on('close', () => sockets--); });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(Object.assign(r, { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}` }))));
}

/** Runs curl (the real client): the answer's status and body. */
function curl(args: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '--max-time', '10', '-o', '-', '-w', '\n%{http_code}', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => { out += d; });
    child.on('close', () => { const cut = out.lastIndexOf('\n'); resolve({ status: Number(out.slice(cut + 1)), body: out.slice(0, cut) }); });
  });
}

/** A raw client connection whose answer is collected until yoke closes it. */
function client(port: number): { socket: net.Socket; answer: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  socket.on('error', () => {});
  let got = '';
  socket.on('data', (d: string) => { got += d; });
  const answer = new Promise<string>((resolve) => { socket.on('close', () => resolve(got)); setTimeout(() => socket.destroy(), 8000); });
  return { socket, answer };
}

/** Sends `bytes` on a fresh connection: yoke's answer, and how long after the send yoke closed. */
async function timed(port: number, bytes: string): Promise<{ text: string; took: number }> {
  const t0 = Date.now();
  const text = await rawExchange(port, bytes, 6000, false);
  return { text, took: Date.now() - t0 };
}

/** A 200 ms deadline in the 1 s wheel fires after 200 ms and within about 2 s. */
function inTime(took: number, what: string): void {
  assert.ok(took >= 150 && took < 3000, `${what} after ${took} ms (limit 200 ms, wheel resolution 1 s)`);
}

const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';

/** A listener that never accepts, with a backlog of 0, its queue filled: the kernel drops further SYNs, so a connect hangs. */
async function blackhole(): Promise<{ port: number; close(): void }> {
  const py: ChildProcess = spawn('python3', ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = Number(await new Promise<string>((r) => py.stdout!.once('data', (d: Buffer) => r(d.toString().trim()))));
  const fillers = [1, 2, 3].map(() => net.connect(port, '127.0.0.1').on('error', () => {}));
  await sleep(200);
  return { port, close: () => { for (const f of fillers) f.destroy(); py.kill(); } };
}

/** The services of the test, each mode http with one server and the keys given; `maxBody` is what the reload changes. */
const config = (ports: Record<string, number>, servers: Record<string, string>, maxBody: string) => {
  const keys: Record<string, string> = {
    limits: `http: { max_body_size: ${maxBody}, body_timeout: 200ms, max_header_size: 1k, max_headers: 8 }`,
    serial: 'http: { server_connections: 1 }',
    parallel: 'http: { server_headers_timeout: 300ms }',
    unreachable: 'connect_timeout: 200ms',
    silent: 'http: { server_headers_timeout: 200ms }',
  };
  const blocks = Object.entries(keys).map(([name, extra]) =>
    `  - name: ${name}\n    listen: 127.0.0.1:${ports[name]}\n    mode: http\n    ${extra}\n    servers: [{ address: ${servers[name]} }]\n`);
  return `services:\n${blocks.join('')}`;
};

describe('mode http limits (services[].http) through a running yoke', () => {
  let run: Running;
  let file: string;
  let limits: Recorder, serial: Recorder, parallel: Recorder;
  let hole: { port: number; close(): void };
  let silent: net.Server;
  const held = new Set<net.Socket>();
  /** The silent server's connection that carried the POST /form request. */
  let formAt: net.Socket | undefined;
  let ports: Record<string, number>;
  let servers: Record<string, string>;
  let dir: string;

  before(async () => {
    [limits, serial, parallel] = await Promise.all([recorder(), recorder(100), recorder(100)]);
    hole = await blackhole();
    // Accepts connections and reads requests, and never answers.
    silent = net.createServer((s) => {
      held.add(s);
      s.on('close', () => held.delete(s));
      s.on('data', (d: Buffer) => { if (d.includes('POST /form')) formAt = s; });
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const [a, b, c, d, e] = await freePorts(5) as [number, number, number, number, number];
    ports = { limits: a, serial: b, parallel: c, unreachable: d, silent: e };
    servers = {
      limits: limits.address, serial: serial.address, parallel: parallel.address, unreachable: `127.0.0.1:${hole.port}`,
      silent: `127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
    };
    file = writeConfig(config(ports, servers, '1k'));
    dir = mkdtempSync(join(tmpdir(), 'yoke-limits-'));
    run = await startYoke(file, {}, 'service up');
    await until(() => run.logs.filter((l) => l.includes('service up')).length === 5, 'every service up');
  });
  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    hole.close();
    for (const s of held) s.destroy();
    silent.close();
    await Promise.all([limits, serial, parallel].map((r) => r.close()));
  });

  const url = (name: string, path = '/') => `http://127.0.0.1:${ports[name]}${path}`;
  const upload = (bytes: Buffer): string => { const f = join(dir, `${bytes.length}-${Date.now()}.bin`); writeFileSync(f, bytes); return f; };
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('a body whose Content-Length is over max_body_size gets 413 with a request id, and nothing reaches the server', async () => {
    const begun = limits.begun;
    const r = await curl(['--data-binary', `@${upload(randomBytes(2048))}`, url('limits', '/upload')]);
    assert.equal(r.status, 413);
    assert.match(r.body, /^413 Payload Too Large: .*larger than the limit of 1024 bytes\nrequest id: [0-9a-f]{8}-[0-9a-z]+\n$/);
    // With Expect: 100-continue the client hears 413 instead of 100, and sends nothing of its body.
    const expect = await rawExchange(ports.limits as number, 'PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n', 2000, false);
    assert.match(expect, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(expect, /100 Continue/);
    assert.equal(limits.begun, begun, 'no request reached the server');
  });

  it('a chunked body that grows past max_body_size is cut: 413, and the request the server had begun is aborted', async () => {
    const [begun, cut, whole] = [limits.begun, limits.cut, limits.whole];
    const { socket, answer } = client(ports.limits as number);
    socket.write(`POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n${'a'.repeat(512)}\r\n`);
    await until(() => limits.begun === begun + 1, 'the server sees the request begin');
    socket.write(`200\r\n${'b'.repeat(512)}\r\n200\r\n${'c'.repeat(512)}\r\n0\r\n\r\n`);
    assert.match(await answer, /^HTTP\/1\.1 413 Payload Too Large\r\n[\s\S]*grew past the limit of 1024 bytes\nrequest id: /);
    await until(() => limits.cut === cut + 1, 'the server sees its request aborted');
    assert.equal(limits.whole, whole, 'the body never arrived whole');
  });

  it('bodies within max_body_size arrive intact, with Content-Length and chunked', async () => {
    const data = randomBytes(1024);
    const fixed = await curl(['--data-binary', `@${upload(data)}`, url('limits')]);
    assert.equal(fixed.status, 200);
    assert.deepEqual(JSON.parse(fixed.body), { size: 1024, sha256: sha(data) });
    const chunked = await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', `@${upload(data)}`, url('limits')]);
    assert.equal(chunked.status, 200);
    assert.deepEqual(JSON.parse(chunked.body), { size: 1024, sha256: sha(data) });
  });

  it('a client that stalls mid-body gets 408 after body_timeout, and the request the server had begun is aborted', async () => {
    const [begun, cut] = [limits.begun, limits.cut];
    const { socket, answer } = client(ports.limits as number);
    socket.write('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    await until(() => limits.begun === begun + 1, 'the server sees the request begin');
    const t0 = Date.now();
    const text = await answer;
    const took = Date.now() - t0;
    assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*the request body did not arrive in time\nrequest id: /);
    inTime(took, '408 (body_timeout)');
    await until(() => limits.cut === cut + 1, 'the server sees its request aborted');
  });

  it('max_header_size and max_headers bound the head: 431 past either, nothing reaches the server', async () => {
    const begun = limits.begun;
    const big = await rawExchange(ports.limits as number, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1100)}\r\n\r\n`, 2000, false);
    assert.match(big, /^HTTP\/1\.1 431 [\s\S]*request head larger than 1024 bytes/);
    const fields = Array.from({ length: 9 }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    const many = await rawExchange(ports.limits as number, `GET / HTTP/1.1\r\nHost: x\r\n${fields}\r\n`, 2000, false);
    assert.match(many, /^HTTP\/1\.1 431 [\s\S]*more than 8 header fields/);
    assert.equal(limits.begun, begun);
  });

  it('server_connections: 1 makes concurrent requests to a server wait their turn on one connection; without it they go in parallel', async () => {
    const four = (name: string) => Promise.all([1, 2, 3, 4].map(() => curl([url(name)])));
    const t0 = Date.now();
    const one = await four('serial');
    const serialMs = Date.now() - t0;
    assert.deepEqual(one.map((r) => r.status), [200, 200, 200, 200]);
    assert.equal(serial.maxSockets, 1, 'the server never held more than one connection');
    assert.ok(serialMs >= 380, `4 requests of 100 ms one after another took ${serialMs} ms`);
    const many = await four('parallel');
    assert.deepEqual(many.map((r) => r.status), [200, 200, 200, 200]);
    assert.ok(parallel.maxSockets > 1, `without the limit the server held ${parallel.maxSockets} connections at once`);
  });

  it('an upgrade to a server that does not accept the connection gets 502 after connect_timeout', async () => {
    const { text, took } = await timed(ports.unreachable as number, UPGRADE);
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*did not accept the connection in time\nrequest id: /);
    inTime(took, '502 (connect_timeout)');
  });

  it('an upgrade the server accepts but never answers gets 504 after server_headers_timeout', async () => {
    const { text, took } = await timed(ports.silent as number, UPGRADE);
    assert.match(text, /^HTTP\/1\.1 504 Gateway Timeout\r\n[\s\S]*did not answer in time\nrequest id: /);
    inTime(took, '504 (server_headers_timeout)');
    await until(() => held.size === 0, 'yoke closes its connection to the silent server');
  });

  it('server_headers_timeout runs from the end of the request body: a slow upload that keeps coming is not cut', async () => {
    const { socket, answer } = client(ports.parallel as number);
    socket.write('POST /trickle HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nConnection: close\r\n\r\n');
    for (let i = 0; i < 5; i++) { await sleep(250); socket.write('0123456789'); }
    const text = await answer;
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /"size":50/);
  });

  it('a request with a body whose server never answers gets 504 after server_headers_timeout, its connection to the server closed', async () => {
    const { text, took } = await timed(ports.silent as number, 'POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    assert.match(text, /^HTTP\/1\.1 504 Gateway Timeout\r\n[\s\S]*did not answer in time\nrequest id: /);
    inTime(took, '504 (server_headers_timeout)');
    // (undici may open a fresh idle connection after the abort: it closes after server_idle_timeout.)
    await until(() => formAt !== undefined && !held.has(formAt), 'yoke closes the connection that carried the request');
  });

  it('a reload that changes max_body_size applies to the next request', async () => {
    const data = randomBytes(2048);
    assert.equal((await curl(['--data-binary', `@${upload(data)}`, url('limits')])).status, 413);
    writeFileSync(file, config(ports, servers, '4k'));
    const reloads = run.logs.filter((l) => l.includes('"reloaded"')).length;
    run.child.kill('SIGHUP');
    await until(() => run.logs.filter((l) => l.includes('"reloaded"')).length > reloads, 'the reload');
    const r = await curl(['--data-binary', `@${upload(data)}`, url('limits')]);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { size: 2048, sha256: sha(data) });
  });
});
