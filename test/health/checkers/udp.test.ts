// UDP_CHECK against fake UDP servers on 127.0.0.1 (written here, as the brief allows); a port with no listener
// makes the kernel answer with ICMP port unreachable.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { quietPeriodMs, UdpChecker } from '../../../core/health/checkers/udp.ts';
import type { UdpCheckSpec } from '../../../core/health/spec.ts';
import { assertNoLeaks, bytes, closedUdpPort, common, local, runCheck, udpServer } from './helpers.ts';

function udp(extra: Partial<UdpCheckSpec> = {}, timeoutMs = 1000): UdpChecker {
  return new UdpChecker({ ...common(timeoutMs), type: 'udp', send: undefined, expect: undefined, requireReply: false, ...extra });
}

afterEach(assertNoLeaks);

test('expect: a reply that begins with it passes', async () => {
  const server = await udpServer((msg, reply) => { if (msg.toString() === 'ping') reply('pong!'); });
  try {
    const r = await runCheck(udp({ send: bytes('ping'), expect: bytes('pong') }), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [true, 'expected reply']);
  } finally { await server.close(); }
});

test('expect: another reply fails at once', async () => {
  const server = await udpServer((_msg, reply) => reply('nope'));
  try {
    const r = await runCheck(udp({ expect: bytes('pong') }), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [false, 'unexpected reply of 4 bytes']);
    assert.ok(r.elapsedMs < 200, `took ${r.elapsedMs}ms`);
  } finally { await server.close(); }
});

test('no listener: the ICMP port unreachable fails the check at once', async () => {
  const r = await runCheck(udp(), local(await closedUdpPort()), 1000);
  assert.deepEqual([r.ok, r.detail], [false, 'ICMP port unreachable']);
  assert.ok(r.elapsedMs < quietPeriodMs(1000), `took ${r.elapsedMs}ms`);
});

test('a silent listener passes without expect, after the quiet period and before the timeout', async () => {
  const server = await udpServer(() => {});
  try {
    const r = await runCheck(udp({}, 400), local(server.port), 400);
    assert.deepEqual([r.ok, r.detail], [true, 'no ICMP error']);
    assert.ok(r.elapsedMs >= 190 && r.elapsedMs < 390, `took ${r.elapsedMs}ms`);
    assert.deepEqual(server.received.map((b) => [...b]), [[0]], 'the default payload is one zero byte');
  } finally { await server.close(); }
});

test('a silent listener fails with requireReply, at the timeout', async () => {
  const server = await udpServer(() => {});
  try {
    const r = await runCheck(udp({ requireReply: true }, 300), local(server.port), 300);
    assert.deepEqual([r.ok, r.detail], [false, 'timeout after 300ms']);
    assert.ok(r.elapsedMs < 500, `took ${r.elapsedMs}ms`);
  } finally { await server.close(); }
});

test('requireReply: any reply passes', async () => {
  const server = await udpServer((msg, reply) => reply(msg));
  try {
    const r = await runCheck(udp({ requireReply: true, send: bytes('hi') }), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [true, 'reply']);
    assert.equal(server.received[0]?.toString(), 'hi');
  } finally { await server.close(); }
});

test('the quiet period is half the timeout, at most 500ms', () => {
  assert.deepEqual([100, 400, 1000, 5000].map(quietPeriodMs), [50, 200, 500, 500]);
});
