// TCP_CHECK against fake TCP servers on 127.0.0.1 (written here, as the brief allows).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { TcpCheckSpec } from '../../../core/health/spec.ts';
import { TcpChecker } from '../../../core/health/checkers/tcp.ts';
import { assertNoLeaks, bytes, closedTcpPort, common, local, runCheck, tcpServer } from './helpers.ts';

function tcp(extra: Partial<TcpCheckSpec> = {}, timeoutMs = 1000): TcpChecker {
  return new TcpChecker({ ...common(timeoutMs), type: 'tcp', send: undefined, expect: undefined, ...extra });
}

afterEach(assertNoLeaks);

test('a connection that opens passes', async () => {
  const server = await tcpServer(() => {});
  try {
    const r = await runCheck(tcp(), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [true, 'connected']);
    assert.equal(server.accepted(), 1);
  } finally { await server.close(); }
});

test('a refused connection fails with "connect refused"', async () => {
  const r = await runCheck(tcp(), local(await closedTcpPort()), 1000);
  assert.deepEqual([r.ok, r.detail], [false, 'connect refused']);
});

test('send then expect: a reply that begins with expect passes, even when it arrives in pieces', async () => {
  let got = '';
  const server = await tcpServer((s) => s.on('data', (d) => {
    got += d.toString();
    if (got === 'PING\r\n') { s.write('+PO'); setTimeout(() => s.write('NG and more\r\n'), 20); }
  }));
  try {
    const r = await runCheck(tcp({ send: bytes('PING\r\n'), expect: bytes('+PONG') }), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [true, 'expected reply']);
    assert.equal(got, 'PING\r\n');
  } finally { await server.close(); }
});

test('expect without send reads the banner', async () => {
  const server = await tcpServer((s) => s.write('SSH-2.0-test\r\n'));
  try {
    assert.equal((await runCheck(tcp({ expect: bytes('SSH-2.0') }), local(server.port), 1000)).ok, true);
  } finally { await server.close(); }
});

test('a wrong reply fails at its first wrong byte, not at the timeout', async () => {
  const server = await tcpServer((s) => s.write('-ERR no\r\n'));
  try {
    const r = await runCheck(tcp({ expect: bytes('+PONG') }, 2000), local(server.port), 2000);
    assert.equal(r.ok, false);
    assert.match(r.detail, /^unexpected reply "-ERR/);
    assert.ok(r.elapsedMs < 500, `took ${r.elapsedMs}ms`);
  } finally { await server.close(); }
});

test('a server that closes before the expected bytes fails', async () => {
  const server = await tcpServer((s) => s.end('+PO'));
  try {
    const r = await runCheck(tcp({ expect: bytes('+PONG') }), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [false, 'closed after short reply "+PO"']);
  } finally { await server.close(); }
});

test('a silent server fails by the deadline with "timeout after"', async () => {
  const server = await tcpServer(() => {});
  try {
    const r = await runCheck(tcp({ expect: bytes('hello') }, 300), local(server.port), 300);
    assert.deepEqual([r.ok, r.detail], [false, 'timeout after 300ms']);
    assert.ok(r.elapsedMs >= 290 && r.elapsedMs < 500, `took ${r.elapsedMs}ms`);
  } finally { await server.close(); }
});

test('send without expect passes once the bytes are written', async () => {
  const server = await tcpServer(() => {});
  try {
    const r = await runCheck(tcp({ send: bytes('x') }), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [true, 'sent']);
  } finally { await server.close(); }
});

test('an already aborted signal resolves at once without connecting', async () => {
  const server = await tcpServer(() => {});
  try {
    const r = await tcp().check(local(server.port), AbortSignal.abort());
    assert.equal(r.ok, false);
    assert.equal(server.accepted(), 0);
  } finally { await server.close(); }
});
