// POP3 front dialogue, byte by byte, and split at every offset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POP3_DEFAULTS, pop3Start, pop3Step, type Pop3Config, type Pop3State } from '../../l7/mail/pop3.ts';
import type { MailEvent } from '../../l7/mail/types.ts';
import { answer, assertSplitSafe, b, b64, c, found, greeting, run, trace, tlsUp, type Machine } from './helpers.ts';

const pop3 = (over: Partial<Pop3Config> = {}): Machine<Pop3State> => ({ start: () => pop3Start({ ...POP3_DEFAULTS, ...over }), step: pop3Step });
const m = pop3();
const toClient = (text: string) => ({ type: 'send-to-client', text });
const toBackend = (text: string) => ({ type: 'send-to-backend', text });

describe('pop3: happy paths', () => {
  it('greets; CAPA lists USER, SASL PLAIN, STLS', () => {
    assert.equal(greeting(m), '+OK yoke ready\r\n');
    assert.deepEqual(trace(m, [c('capa\r\n')]), [toClient('+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN\r\nSTLS\r\n.\r\n')]);
  });

  it('USER/PASS: lookup, replay USER then PASS each after +OK, the answer relayed, then piping', () => {
    const script = [c('USER alice\r\n'), c('PASS pass word \r\nSTAT\r\n'), found('m1'), b('+OK Dovecot ready. <1.2@x>\r\n'), b('+OK\r\n'), b('+OK Logged in.\r\n')];
    assert.deepEqual(trace(m, script), [
      toClient('+OK\r\n'),
      { type: 'lookup', user: 'alice' },
      { type: 'connect-backend', server: 'm1' },
      toBackend('USER alice\r\nPASS pass word \r\n'),
      toClient('+OK Logged in.\r\n'),
      { type: 'start-piping', toBackend: 'STAT\r\n', toClient: '' },
    ]);
    assert.equal(run(m, script).state.credentials, undefined);
    assertSplitSafe(m, script);
  });

  it('AUTH PLAIN with initial response and with a "+ " continuation; replayed with an initial response', () => {
    const msg = b64('\0bob\0pw');
    for (const client of [[c(`AUTH PLAIN ${msg}\r\n`)], [c('AUTH PLAIN\r\n'), c(`${msg}\r\n`)]]) {
      const script = [...client, found('m2'), b('+OK hi\r\n'), b('-ERR [AUTH] Authentication failed.\r\n')];
      const out = trace(m, script);
      assert.deepEqual(out.slice(-5), [
        { type: 'lookup', user: 'bob' },
        { type: 'connect-backend', server: 'm2' },
        toBackend(`AUTH PLAIN ${msg}\r\n`),
        toClient('-ERR [AUTH] Authentication failed.\r\n'),
        { type: 'close-backend' },
      ]);
      assertSplitSafe(m, script);
    }
    assert.deepEqual(trace(m, [c('AUTH PLAIN\r\n')]), [toClient('+ \r\n')]);
  });

  it('a backend refusing USER: its -ERR goes to the client as the answer', () => {
    const out = trace(m, [c('USER a\r\nPASS b\r\n'), found('s'), b('+OK\r\n'), b('-ERR no such user\r\n')]);
    assert.deepEqual(out.slice(-3), [toBackend('USER a\r\n'), toClient('-ERR no such user\r\n'), { type: 'close-backend' }]);
  });

  it('AUTH alone lists mechanisms; QUIT closes', () => {
    assert.deepEqual(trace(m, [c('AUTH\r\nQUIT\r\n')]), [toClient('+OK\r\nPLAIN\r\n.\r\n+OK Bye\r\n'), { type: 'close' }]);
  });
});

describe('pop3: TLS', () => {
  const req = pop3({ tls: 'required' });
  it('required: no USER or SASL in CAPA, USER/PASS/AUTH refused before STLS', () => {
    const out = trace(req, [c('CAPA\r\nUSER a\r\nPASS b\r\nAUTH PLAIN AGEAYg==\r\n')]);
    assert.equal(out[0]?.text, '+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nSTLS\r\n.\r\n' + '-ERR Use STLS before logging in\r\n'.repeat(3));
    assert.equal(out.length, 1);
  });
  it('STLS drops bytes injected after it; the login then works', () => {
    const script = [c('STLS\r\nUSER evil\r\n'), tlsUp, c('PASS x\r\nUSER a\r\nPASS b\r\n')];
    assert.deepEqual(trace(req, script), [
      toClient('+OK Begin TLS negotiation\r\n'), { type: 'start-tls' },
      toClient('-ERR USER first\r\n+OK\r\n'), { type: 'lookup', user: 'a' },
    ]);
    assertSplitSafe(req, script);
  });
  it('STLS where not offered or twice: -ERR', () => {
    assert.deepEqual(trace(pop3({ tls: 'implicit' }), [c('STLS\r\n')]), [toClient('-ERR TLS is already active\r\n')]);
    assert.deepEqual(trace(pop3({ tls: 'off' }), [c('STLS\r\n')]), [toClient('-ERR STLS is not offered\r\n')]);
  });
});

describe('pop3: failures and hostile input', () => {
  it('directory down or backend down: -ERR [SYS/TEMP]', () => {
    const temp = toClient('-ERR [SYS/TEMP] Temporary failure, try again later\r\n');
    assert.deepEqual(trace(m, [c('USER a\r\nPASS b\r\n'), answer({ kind: 'temp-failure', reason: 'x' })]).slice(-1), [temp]);
    for (const bad of [{ type: 'backend-failed', reason: 'x' } as MailEvent, b('-ERR busy\r\n'), b('garbage\r\n')]) {
      assert.deepEqual(trace(m, [c('USER a\r\nPASS b\r\n'), found('s'), bad]).slice(-2), [{ type: 'close-backend' }, temp]);
    }
  });
  it('unknown user: -ERR [AUTH]; three failures close', () => {
    const no = answer({ kind: 'unknown-user' });
    const out = trace(m, [c('USER a\r\nPASS b\r\n'), no, c('USER a\r\nPASS b\r\n'), no, c('USER a\r\nPASS b\r\n'), no]);
    assert.deepEqual(out.slice(-2), [toClient('-ERR [AUTH] Authentication failed\r\n'), { type: 'close' }]);
  });
  it('user names are every octet after "USER ", exactly', () => {
    for (const [line, user] of [['USER  two spaces \r\n', ' two spaces '], ['USER *)(uid=*\\\r\n', '*)(uid=*\\'], ['USER \xc3\xa9\tx\r\n', '\xc3\xa9\tx'], ['user a\nPASS b\n', 'a']]) {
      assert.deepEqual(trace(m, [c(line as string), c('PASS p\r\n')]).find((a) => a.type === 'lookup'), { type: 'lookup', user }, line);
    }
  });
  it('NUL in a user, an empty or over-long user: -ERR', () => {
    for (const u of ['a\0b', '', 'u'.repeat(256)]) assert.deepEqual(trace(m, [c(`USER ${u}\r\n`)]), [toClient('-ERR [AUTH] Invalid user name\r\n')]);
  });
  it('malformed and unknown commands: -ERR; bad base64 and "*": -ERR', () => {
    const out = trace(m, [c('\r\nAPOP a b\r\nUSER\r\nPASS\r\nAUTH CRAM-MD5\r\nAUTH PLAIN\r\n!!!\r\nAUTH PLAIN\r\n*\r\n')]);
    assert.equal(out[0]?.text, [
      '-ERR Unknown command or not valid before login', '-ERR Unknown command or not valid before login', '-ERR Unknown command or not valid before login',
      '-ERR Unknown command or not valid before login', '-ERR Unsupported authentication mechanism', '+ ', '-ERR Invalid base64 data', '+ ',
      '-ERR Authentication cancelled', '',
    ].join('\r\n'));
  });
  it('an over-long line closes; commands before login are limited', () => {
    assert.deepEqual(trace(m, [c('USER ' + 'x'.repeat(3000))]), [toClient('-ERR Line too long\r\n'), { type: 'close' }]);
    const out = trace(m, [c('NOOP\r\n'.repeat(30))]);
    assert.equal(out.at(-1)?.type, 'close');
    assert.match(out[0]?.text ?? '', /-ERR Too many commands before login\r\n$/);
  });
  it('timeout: -ERR and close', () => {
    assert.deepEqual(trace(m, [{ type: 'timeout' }]), [toClient('-ERR Login timeout\r\n'), { type: 'close' }]);
  });
});
