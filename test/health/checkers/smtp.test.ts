// SMTP_CHECK: the reply decoder byte by byte, the dialogue step, and the checker against fake SMTP servers on
// 127.0.0.1 (written here, as the brief allows) that play a script of replies.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import type net from 'node:net';
import { afterEach, test } from 'node:test';
import { decodeReply, MAX_REPLY, SmtpChecker, smtpStep } from '../../../core/health/checkers/smtp.ts';
import { assertNoLeaks, closedTcpPort, common, local, runCheck, tcpServer } from './helpers.ts';

function smtp(opts: { helo?: string; timeoutMs?: number } = { helo: 'checker.example' }): SmtpChecker {
  return new SmtpChecker({ ...common(opts.timeoutMs ?? 1000), type: 'smtp', helo: opts.helo });
}

/**
 * A fake SMTP server: sends `greeting` (each element a separate write, a few ms apart, to split replies across
 * packets), answers HELO with `heloReply`, and records the client's lines.
 */
async function mailServer(greeting: string[], heloReply: string) {
  const lines: string[] = [];
  const server = await tcpServer((s: net.Socket) => {
    let buffered = '';
    void (async () => {
      for (const part of greeting) {
        if (s.destroyed) return;
        s.write(part);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    s.on('data', (d) => {
      buffered += d.toString('latin1');
      let nl: number;
      while ((nl = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 2);
        lines.push(line);
        if (line.startsWith('HELO ')) s.write(heloReply);
        if (line === 'QUIT') s.end('221 bye\r\n');
      }
    });
  });
  return { ...server, lines };
}

afterEach(assertNoLeaks);

test('decodeReply: a multi-line reply split at every byte is need-more until its last line ends', () => {
  const whole = '220-mail.example ESMTP\r\n220-second line\r\n220 ready\r\n250 next';
  const end = whole.indexOf('250');
  for (let i = 0; i < end; i++) assert.deepEqual(decodeReply(whole.slice(0, i)), { kind: 'need-more' }, `at ${i}`);
  assert.deepEqual(decodeReply(whole), { kind: 'reply', code: 220, text: 'mail.example ESMTP\nsecond line\nready', rest: '250 next' });
});

test('decodeReply: bare LF, a code alone, malformed lines, mixed codes, too long', () => {
  assert.deepEqual(decodeReply('250\n'), { kind: 'reply', code: 250, text: '', rest: '' });
  assert.equal(decodeReply('HTTP/1.1 400 Bad Request\r\n').kind, 'malformed');
  assert.equal(decodeReply('22 short\r\n').kind, 'malformed');
  assert.deepEqual(decodeReply('250-a\r\n251 b\r\n'), { kind: 'malformed', why: 'reply code changed from 250 to 251' });
  assert.deepEqual(decodeReply('2'.repeat(MAX_REPLY + 1)), { kind: 'malformed', why: 'reply too long' });
});

test('smtpStep: 220 → HELO, 250 → pass and QUIT, anything else fails and QUITs', () => {
  assert.deepEqual(smtpStep('greeting', 220, 'me'), { state: 'helo', send: 'HELO me\r\n' });
  assert.deepEqual(smtpStep('greeting', 554, 'me'), { state: 'greeting', send: 'QUIT\r\n', result: { ok: false, detail: 'greeting 554' } });
  assert.deepEqual(smtpStep('helo', 250, 'me'), { state: 'helo', send: 'QUIT\r\n', result: { ok: true, detail: 'HELO accepted' } });
  assert.deepEqual(smtpStep('helo', 550, 'me'), { state: 'helo', send: 'QUIT\r\n', result: { ok: false, detail: 'HELO answered 550' } });
});

test('a good server: greeting 220, HELO with the configured name, 250, then QUIT', async () => {
  const server = await mailServer(['220 mail.example ESMTP\r\n'], '250 mail.example\r\n');
  try {
    const r = await runCheck(smtp(), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [true, 'HELO accepted']);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(server.lines, ['HELO checker.example', 'QUIT']);
  } finally { await server.close(); }
});

test('without helo the HELO carries this host name', async () => {
  const server = await mailServer(['220 ok\r\n'], '250 ok\r\n');
  try {
    assert.equal((await runCheck(smtp({}), local(server.port), 1000)).ok, true);
    assert.equal(server.lines[0], `HELO ${hostname()}`);
  } finally { await server.close(); }
});

test('a multi-line greeting arriving in pieces, and a multi-line 250, pass', async () => {
  const server = await mailServer(['220-mail.example ESMTP\r\n220-', 'no UCE\r', '\n220 ready\r\n'], '250-mail.example\r\n250 PIPELINING\r\n');
  try {
    const r = await runCheck(smtp(), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [true, 'HELO accepted']);
    assert.equal(server.lines.filter((l) => l.startsWith('HELO')).length, 1, 'HELO sent once, after the last greeting line');
  } finally { await server.close(); }
});

test('a 554 greeting fails with "greeting 554" and the check still says QUIT', async () => {
  const server = await mailServer(['554 no service\r\n'], '250 ok\r\n');
  try {
    const r = await runCheck(smtp(), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [false, 'greeting 554']);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(server.lines, ['QUIT']);
  } finally { await server.close(); }
});

test('HELO rejected fails with the code', async () => {
  const server = await mailServer(['220 ok\r\n'], '550 go away\r\n');
  try {
    const r = await runCheck(smtp(), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [false, 'HELO answered 550']);
  } finally { await server.close(); }
});

test('a server that is not SMTP fails as malformed', async () => {
  const server = await mailServer(['SSH-2.0-OpenSSH\r\n'], '');
  try {
    const r = await runCheck(smtp(), local(server.port), 1000);
    assert.deepEqual([r.ok, r.detail], [false, 'malformed reply "SSH-2.0-OpenSSH"']);
  } finally { await server.close(); }
});

test('a server that closes before greeting, a refused port, a silent server', async () => {
  const closing = await tcpServer((s) => s.end());
  const silent = await mailServer([], '');
  try {
    assert.deepEqual(pick(await runCheck(smtp(), local(closing.port), 1000)), [false, 'closed before greeting']);
    assert.deepEqual(pick(await runCheck(smtp(), local(await closedTcpPort()), 1000)), [false, 'connect refused']);
    const slow = await runCheck(smtp({ timeoutMs: 300 }), local(silent.port), 300);
    assert.deepEqual(pick(slow), [false, 'timeout after 300ms']);
    assert.ok(slow.elapsedMs < 500, `took ${slow.elapsedMs}ms`);
  } finally { await closing.close(); await silent.close(); }
});

function pick(r: { ok: boolean; detail: string }): [boolean, string] {
  return [r.ok, r.detail];
}
