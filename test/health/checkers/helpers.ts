// Shared pieces of the checker tests: spec builders, a prober-like runner, fake servers on 127.0.0.1 port 0
// (the brief allows small fake servers as backends), a handle-leak check and an openssl-made test CA.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import type { Endpoint } from '../../../core/address.ts';
import type { Checker, CheckResult } from '../../../core/health/checker.ts';
import type { CheckCommon } from '../../../core/health/spec.ts';

/** The settings every checker shares; the checkers only read timeoutMs. */
export function common(timeoutMs = 1000): CheckCommon {
  return {
    intervalMs: 1000, timeoutMs, rise: 1, fall: 1, retryDelayMs: 1000, warmupMs: 0,
    port: undefined, address: undefined, alpha: false, inhibitOnFailure: false, passiveFall: 0,
  };
}

/** 127.0.0.1 at `port`. */
export function local(port: number): Endpoint {
  return { host: '127.0.0.1', port, family: 4 };
}

/** Bytes of a string, as the config layer hands `send`/`expect` over. */
export function bytes(text: string): number[] {
  return [...Buffer.from(text, 'latin1')];
}

/** Runs one check as the prober does (abort at timeoutMs) and measures how long it took. */
export async function runCheck(checker: Checker, target: Endpoint, timeoutMs: number): Promise<CheckResult & { elapsedMs: number }> {
  const running = new AbortController();
  const timer = setTimeout(() => running.abort(), timeoutMs);
  const started = performance.now();
  try {
    const result = await checker.check(target, running.signal);
    return { ...result, elapsedMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Listens on 127.0.0.1 port 0 and returns the port. */
export async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

/** A TCP server that hands each connection to `onConnection`; close() also destroys open connections. */
export async function tcpServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  const port = await listen(server);
  return {
    port,
    accepted: () => accepted,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, read back, released). */
export async function closedTcpPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A UDP port on 127.0.0.1 that nothing listens on. */
export async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A UDP socket bound on 127.0.0.1 port 0 that hands each datagram to `onMessage`. */
export async function udpServer(onMessage: (msg: Buffer, reply: (data: Uint8Array | string) => void) => void): Promise<{ port: number; received: Buffer[]; close: () => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(msg);
    onMessage(msg, (data) => socket.send(data, rinfo.port, rinfo.address));
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { port: socket.address().port, received, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

/** The kinds of handle a checker could leak: sockets, child processes and their pipes, ref'd timers. */
const WATCHED = ['TCPSocketWrap', 'TCPWrap', 'TLSWrap', 'UDPWrap', 'ProcessWrap', 'PipeWrap', 'Timeout'];

function handleCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (WATCHED.includes(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** The handles open when the test file starts (the runner's own stdout/stderr pipes). */
const BASELINE = handleCounts();

/**
 * Asserts that no socket, process, pipe or timer is left beyond those at the start: call after the test's servers
 * are closed. Closing is asynchronous, so this waits up to 1s for handles to go.
 */
export async function assertNoLeaks(): Promise<void> {
  const excess = (): string[] => {
    const now = handleCounts();
    return [...now].filter(([kind, n]) => n > (BASELINE.get(kind) ?? 0)).map(([kind, n]) => `${kind}×${n - (BASELINE.get(kind) ?? 0)}`);
  };
  for (let i = 0; i < 100 && excess().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(excess(), [], 'handles left open');
}

export { makePki, type TestPki } from '../../helpers/pki.ts';
