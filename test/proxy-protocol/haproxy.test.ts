/**
 * Interop with a real implementation: HAProxy writes headers our decoder must read (send-proxy, send-proxy-v2
 * with CRC32C and a unique id), and reads headers our encoder writes (accept-proxy), which it then forwards as
 * its own v2 header to our decoder, so both directions are checked field by field.
 * HAProxy runs in the foreground on loopback ports found free just before, and is killed by its pid afterwards.
 * A machine without haproxy fails these tests: scripts/apt-deps test installs it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Endpoint } from '../../core/address.ts';
import { decodeProxy } from '../../l7/proxy-protocol/decode.ts';
import { encodeProxyLocal, encodeProxyV1, encodeProxyV2 } from '../../l7/proxy-protocol/encode.ts';
import { PP2_TYPE, type ProxyHeader } from '../../l7/proxy-protocol/types.ts';
import { ep, okHeader } from './helpers.ts';

const MISSING = 'haproxy is not installed (looked on PATH and in /usr/sbin): run `scripts/apt-deps test`, which installs the Debian package haproxy';
const DEADLINE_MS = 5000;
const LOOPBACK = '127.0.0.1';

interface World {
  readonly ports: { readonly sendV2: number; readonly sendV1: number; readonly accept: number };
  /** The bytes of the next connection HAProxy makes to the Node backend, once HAProxy ends it. */
  next(): Promise<Buffer>;
  accepted(): number;
}

let world: Promise<World> | undefined;
let haproxy: ChildProcess | undefined;
let backend: net.Server | undefined;
let dir: string | undefined;

after(async () => {
  if (haproxy?.pid !== undefined && haproxy.exitCode === null) {
    const exited = new Promise((resolve) => haproxy?.once('exit', resolve));
    process.kill(haproxy.pid, 'SIGTERM');
    await exited;
  }
  backend?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function findHaproxy(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((d) => join(d, 'haproxy')).find((p) => existsSync(p));
}

/** A port that was free a moment ago (HAProxy binds it itself, so port 0 cannot be used). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, LOOPBACK, resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function startBackend(): Promise<{ port: number; next(): Promise<Buffer>; accepted(): number }> {
  const done: Buffer[] = [];
  const waiting: ((b: Buffer) => void)[] = [];
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const w = waiting.shift();
      if (w) w(bytes); else done.push(bytes);
      socket.end();
    });
  });
  backend = server;
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    next: () => within(new Promise<Buffer>((resolve) => { const b = done.shift(); if (b) resolve(b); else waiting.push(resolve); }), 'the backend waiting for a connection from HAProxy'),
    accepted: () => count,
  };
}

async function start(): Promise<World> {
  const bin = findHaproxy();
  assert.ok(bin !== undefined, MISSING);
  const be = await startBackend();
  const ready = await freePort();
  const ports = { sendV2: await freePort(), sendV1: await freePort(), accept: await freePort() };
  const node = `${LOOPBACK}:${be.port}`;
  dir = mkdtempSync(join(tmpdir(), 'yoke-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, `global
  nbthread 1
defaults
  mode tcp
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend ready
  bind ${LOOPBACK}:${ready}
  tcp-request connection reject
frontend send_v2
  bind ${LOOPBACK}:${ports.sendV2}
  unique-id-format yoke-%ci
  default_backend node_v2_crc
frontend send_v1
  bind ${LOOPBACK}:${ports.sendV1}
  default_backend node_v1
frontend accept
  bind ${LOOPBACK}:${ports.accept} accept-proxy
  default_backend node_v2
backend node_v2_crc
  server node ${node} send-proxy-v2 proxy-v2-options crc32c,unique-id
backend node_v1
  server node ${node} send-proxy
backend node_v2
  server node ${node} send-proxy-v2
`);
  let stderr = '';
  const child = spawn(bin, ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  haproxy = child;
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`haproxy exited (${code}): ${stderr}`))));
  exited.catch(() => {});
  // All binds happen before HAProxy accepts anything, so one answering listener means all are up.
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const up = await Promise.race([exited, new Promise<boolean>((resolve) => {
      const s = net.connect(ready, LOOPBACK, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    })]);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`haproxy did not listen within ${DEADLINE_MS} ms: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ports, next: be.next, accepted: be.accepted };
}

/**
 * Connects to `port`, sends `bytes` and (unless told not to) ends; resolves with the client's own address once
 * the connection closes. A reset counts as a close when not ending, as that is how HAProxy refuses a header.
 */
async function send(port: number, bytes: Buffer, end = true): Promise<Endpoint> {
  return within(new Promise<Endpoint>((resolve, reject) => {
    const s = net.connect(port, LOOPBACK, () => {
      const self = ep(s.localAddress as string, s.localPort as number);
      s.on('close', () => resolve(self));
      if (end) s.end(bytes); else s.write(bytes);
    });
    s.on('error', (err) => { if (end) reject(err); });
    s.resume();
  }), `a client of HAProxy port ${port}`);
}

function decoded(bytes: Buffer, payload: string): ProxyHeader {
  const result = decodeProxy(bytes);
  const header = okHeader(result);
  assert.equal(bytes.subarray(result.kind === 'ok' ? result.length : 0).toString(), payload);
  return header;
}

test('our decoder reads HAProxy\'s send-proxy-v2 header, CRC32C and unique id included', async () => {
  const w = await (world ??= start());
  const client = await send(w.ports.sendV2, Buffer.from('hello'));
  const h = decoded(await w.next(), 'hello');
  assert.deepEqual([h.version, h.command, h.transport], [2, 'proxy', 'stream']);
  assert.deepEqual(h.src, client);
  assert.deepEqual(h.dst, ep(LOOPBACK, w.ports.sendV2));
  assert.deepEqual(h.tlvs.map((t) => t.type), [PP2_TYPE.CRC32C, PP2_TYPE.UNIQUE_ID]);
  assert.equal(h.tlvs[1]?.value.toString(), `yoke-${LOOPBACK}`);
});

test('our decoder reads HAProxy\'s send-proxy (v1) line', async () => {
  const w = await (world ??= start());
  const client = await send(w.ports.sendV1, Buffer.from('hello'));
  const h = decoded(await w.next(), 'hello');
  assert.deepEqual([h.version, h.command, h.src, h.dst], [1, 'proxy', client, ep(LOOPBACK, w.ports.sendV1)]);
});

test('HAProxy accept-proxy takes our v1 and v2 headers and passes on the addresses we wrote', async () => {
  const w = await (world ??= start());
  const crc = { type: PP2_TYPE.CRC32C, value: Buffer.alloc(4) };
  const authority = { type: PP2_TYPE.AUTHORITY, value: Buffer.from('example.com') };
  const cases: [string, Buffer, Endpoint, Endpoint][] = [
    ['v1 TCP4', encodeProxyV1(ep('192.0.2.1', 40000), ep('198.51.100.7', 443)), ep('192.0.2.1', 40000), ep('198.51.100.7', 443)],
    ['v1 TCP6', encodeProxyV1(ep('2001:db8::1', 1), ep('fe80::1', 65535)), ep('2001:db8::1', 1), ep('fe80::1', 65535)],
    ['v2 TCP4', encodeProxyV2(ep('203.0.113.9', 5555), ep('10.1.2.3', 80), 'stream'), ep('203.0.113.9', 5555), ep('10.1.2.3', 80)],
    ['v2 TCP6', encodeProxyV2(ep('2001:db8:0:1::42', 0), ep('::1', 8443), 'stream'), ep('2001:db8:0:1::42', 0), ep('::1', 8443)],
    ['v2 mixed', encodeProxyV2(ep('192.0.2.1', 7), ep('2001:db8::2', 8), 'stream'), ep('::ffff:192.0.2.1', 7), ep('2001:db8::2', 8)],
    ['v2 CRC32C + authority', encodeProxyV2(ep('192.0.2.44', 1234), ep('192.0.2.45', 25), 'stream', [crc, authority]),
      ep('192.0.2.44', 1234), ep('192.0.2.45', 25)],
  ];
  for (const [name, header, src, dst] of cases) {
    await send(w.ports.accept, Buffer.concat([header, Buffer.from('hello')]));
    const h = decoded(await w.next(), 'hello');
    assert.deepEqual([h.src, h.dst], [src, dst], name);
  }
});

test('HAProxy accept-proxy takes our LOCAL headers and uses the real endpoints', async () => {
  const w = await (world ??= start());
  for (const version of [1, 2] as const) {
    const client = await send(w.ports.accept, Buffer.concat([encodeProxyLocal(version), Buffer.from('hello')]));
    const h = decoded(await w.next(), 'hello');
    assert.deepEqual([h.src, h.dst], [client, ep(LOOPBACK, w.ports.accept)], `v${version}`);
  }
});

test('HAProxy and our decoder both refuse a v2 header whose CRC32C does not match', async () => {
  const w = await (world ??= start());
  const bad = encodeProxyV2(ep('192.0.2.1', 1), ep('192.0.2.2', 2), 'stream', [{ type: PP2_TYPE.CRC32C, value: Buffer.alloc(4) }]);
  bad[19] = (bad[19] as number) ^ 1;
  assert.equal(decodeProxy(bad).kind, 'malformed');
  const before = w.accepted();
  // The client does not end: only HAProxy refusing the header closes this connection.
  await send(w.ports.accept, Buffer.concat([bad, Buffer.from('hello')]), false);
  assert.equal(w.accepted(), before, 'HAProxy must not have connected to the backend');
});
