// STARTTLS toward the mail servers (l7/mail/backend-starttls.ts), byte by byte: what yoke writes for each server
// reply, when it starts the handshake, and every way a server can fail it (none of which lets a login go in clear).
// Server replies are real shapes: Dovecot 2.3's greetings and answers, Postfix's EHLO answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UPGRADE_LIMITS, upgradeStart, upgradeStep, type UpgradeAction, type UpgradeProtocol } from '../../l7/mail/backend-starttls.ts';
import { check, printed, yaml } from '../config/helpers.ts';

const t = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** What the machine did for these server chunks: sends merged, then the outcome. */
function trace(proto: UpgradeProtocol, chunks: readonly string[]): string[] {
  let state = upgradeStart(proto, 'yoke.test');
  const out: string[] = [];
  const add = (a: UpgradeAction): void => {
    if (a.type === 'send') {
      const last = out.length - 1;
      if (out[last]?.startsWith('send ')) out[last] += t(a.bytes);
      else out.push(`send ${t(a.bytes)}`);
    } else out.push(a.type === 'fail' ? `fail ${a.reason}` : `handshake ${t(a.greeting)}`);
  };
  for (const chunk of chunks) {
    const r = upgradeStep(state, Buffer.from(chunk, 'latin1'));
    state = r.state;
    r.actions.forEach(add);
  }
  return out;
}

/** The trace of the server's bytes as one chunk, checked against every split in two and byte by byte. */
function whole(proto: UpgradeProtocol, stream: string): string[] {
  const one = trace(proto, [stream]);
  for (let k = 1; k < stream.length; k++) assert.deepEqual(trace(proto, [stream.slice(0, k), stream.slice(k)]), one, `split at ${k}`);
  assert.deepEqual(trace(proto, [...stream]), one, 'byte by byte');
  return one;
}

const DOVECOT_IMAP = '* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n';

describe('backend STARTTLS: IMAP', () => {
  it('a greeting whose capabilities list STARTTLS: STARTTLS at once, the handshake after OK, the greeting kept for the dialogue', () => {
    assert.deepEqual(whole('imap', `${DOVECOT_IMAP}S2 OK Begin TLS negotiation now.\r\n`), [
      'send S2 STARTTLS\r\n',
      `handshake ${DOVECOT_IMAP}`,
    ]);
  });

  it('a greeting without capabilities: CAPABILITY first, STARTTLS only when its answer lists it (any case)', () => {
    const stream = '* OK ready\r\n* CAPABILITY IMAP4rev1 starttls AUTH=PLAIN\r\n* OK [ALERT] noise\r\nS1 OK done\r\nS2 OK go\r\n';
    assert.deepEqual(whole('imap', stream), ['send S1 CAPABILITY\r\nS2 STARTTLS\r\n', 'handshake * OK ready\r\n']);
    // a greeting listing capabilities without STARTTLS is asked again, as CAPABILITY is authoritative
    assert.deepEqual(trace('imap', ['* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n', '* CAPABILITY IMAP4rev1 STARTTLS\r\nS1 OK\r\n']), [
      'send S1 CAPABILITY\r\nS2 STARTTLS\r\n',
    ]);
  });

  it('no STARTTLS in CAPABILITY: a failure, and nothing but CAPABILITY was written', () => {
    assert.deepEqual(whole('imap', '* OK ready\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN STARTTLSX\r\nS1 OK done\r\n'), [
      'send S1 CAPABILITY\r\n',
      'fail imap server: STARTTLS is not offered',
    ]);
  });

  it('STARTTLS refused (NO, BAD), CAPABILITY refused, BYE, PREAUTH, a non-OK greeting, a reply out of turn: failures', () => {
    const cases: [string, string][] = [
      [`${DOVECOT_IMAP}S2 NO [UNAVAILABLE] TLS not available\r\n`, 'imap server: STARTTLS answered NO'],
      [`${DOVECOT_IMAP}S2 BAD unknown command\r\n`, 'imap server: STARTTLS answered BAD'],
      ['* OK hi\r\nS1 NO no\r\n', 'imap server: CAPABILITY answered NO'],
      [`${DOVECOT_IMAP}* BYE shutting down\r\n`, 'imap server: BYE before TLS'],
      ['* PREAUTH logged in as root\r\n', 'imap server: greeting is not * OK'],
      ['* BYE too many connections\r\n', 'imap server: greeting is not * OK'],
      [`${DOVECOT_IMAP}Y1 OK LOGIN completed\r\n`, 'imap server: an answer out of turn before TLS'],
      [`${DOVECOT_IMAP}+ go ahead\r\n`, 'imap server: an answer out of turn before TLS'],
    ];
    for (const [stream, reason] of cases) assert.equal(whole('imap', stream).at(-1), `fail ${reason}`, stream);
  });

  it('bytes after the go-ahead, before TLS (a response injection): a failure in any split that has them before the handshake', () => {
    assert.deepEqual(trace('imap', [`${DOVECOT_IMAP}S2 OK go\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n`]), [
      'send S2 STARTTLS\r\n',
      'fail imap server: bytes after its STARTTLS answer, before TLS',
    ]);
    // once the handshake is asked for, the machine is done: later bytes are the TLS layer's, never its
    const r = trace('imap', [DOVECOT_IMAP, 'S2 OK go\r\n', 'S3 NO late\r\n']);
    assert.deepEqual(r, ['send S2 STARTTLS\r\n', `handshake ${DOVECOT_IMAP}`]);
  });

  it('limits: a line over maxLine, or more than maxLines untagged lines, is a failure', () => {
    assert.match(trace('imap', [`* OK ${'x'.repeat(UPGRADE_LIMITS.maxLine)}\r\n`]).at(-1) ?? '', /^fail imap server: a line longer than/);
    const noise = '* OK noise\r\n'.repeat(UPGRADE_LIMITS.maxLines);
    assert.equal(trace('imap', ['* OK hi\r\n', noise]).at(-1), `fail imap server: more than ${UPGRADE_LIMITS.maxLines} lines before TLS`);
  });
});

describe('backend STARTTLS: POP3', () => {
  it('+OK greeting → STLS → +OK → the handshake, the greeting kept', () => {
    assert.deepEqual(whole('pop3', '+OK Dovecot (Debian) ready.\r\n+OK Begin TLS negotiation now.\r\n'), [
      'send STLS\r\n',
      'handshake +OK Dovecot (Debian) ready.\r\n',
    ]);
  });

  it('STLS refused, a -ERR greeting, bytes after the go-ahead: failures; nothing but STLS is ever written', () => {
    assert.deepEqual(whole('pop3', '+OK hi\r\n-ERR Unknown command.\r\n'), ['send STLS\r\n', 'fail pop3 server: STLS refused']);
    assert.deepEqual(whole('pop3', '-ERR [SYS/TEMP] busy\r\n'), ['fail pop3 server: greeting is not +OK']);
    assert.deepEqual(trace('pop3', ['+OK hi\r\n+OK go\r\n+OK injected\r\n']), ['send STLS\r\n', 'fail pop3 server: bytes after its STARTTLS answer, before TLS']);
  });
});

describe('backend STARTTLS: SMTP', () => {
  const EHLO = '250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n';

  it('a multi-line 220 → EHLO with yoke\u2019s name → STARTTLS when listed → 220 → the handshake, the greeting kept', () => {
    const greeting = '220-mx.example.org ESMTP Postfix\r\n220 at your service\r\n';
    assert.deepEqual(whole('smtp', `${greeting}${EHLO}220 2.0.0 Ready to start TLS\r\n`), [
      'send EHLO yoke.test\r\nSTARTTLS\r\n',
      `handshake ${greeting}`,
    ]);
    assert.deepEqual(trace('smtp', ['220 mx\r\n', '250-mx\r\n250-starttls\r\n250 AUTH PLAIN\r\n', '220 go\r\n']).at(-1), 'handshake 220 mx\r\n');
  });

  it('STARTTLS not in the EHLO answer (the first line is the server\u2019s name, not a keyword): a failure after EHLO', () => {
    assert.deepEqual(whole('smtp', '220 mx\r\n250-STARTTLS.example.org\r\n250-PIPELINING\r\n250 STARTTLSX\r\n'), [
      'send EHLO yoke.test\r\n',
      'fail smtp server: STARTTLS is not offered',
    ]);
    assert.deepEqual(whole('smtp', '220 mx\r\n250 mx.example.org\r\n'), ['send EHLO yoke.test\r\n', 'fail smtp server: STARTTLS is not offered']);
  });

  it('454 to STARTTLS, 5xx to EHLO, a 554 greeting, a malformed reply, bytes after the go-ahead: failures', () => {
    assert.equal(whole('smtp', `220 mx\r\n${EHLO}454 4.7.0 TLS not available due to local problem\r\n`).at(-1), 'fail smtp server: STARTTLS answered 454');
    assert.equal(whole('smtp', '220 mx\r\n502 5.5.2 Error: command not recognized\r\n').at(-1), 'fail smtp server: EHLO answered 502');
    assert.deepEqual(whole('smtp', '554 5.7.1 no service\r\n'), ['fail smtp server: greeting 554']);
    assert.equal(whole('smtp', '220-mx\r\n250 mx\r\n').at(-1), 'fail smtp server: a malformed reply before TLS');
    assert.equal(trace('smtp', [`220 mx\r\n${EHLO}220 go\r\n250 injected\r\n`]).at(-1), 'fail smtp server: bytes after its STARTTLS answer, before TLS');
  });

  it('a reply that never ends is bounded', () => {
    assert.match(trace('smtp', ['220 mx\r\n', '250-x\r\n'.repeat(300)]).at(-1) ?? '', /^fail smtp server: a (malformed reply|reply too long) before TLS$/);
  });
});

describe('backend_tls.mode in the config', () => {
  const service = (backendTls: string) => check(yaml(
    'services:', '  - name: imap', '    listen: 127.0.0.1:143', '    mode: imap', `    backend_tls: ${backendTls}`, '    servers: [{ address: 10.0.0.1:143 }]',
  ));

  it('starttls is taken with the other keys; absent means implicit', () => {
    const r = service('{ mode: starttls, verify: false, server_name: imap.test }');
    assert.deepEqual(printed(r), []);
    assert.deepEqual(r.config?.services[0]?.mail?.backendTls, { mode: 'starttls', verify: false, ca: undefined, serverName: 'imap.test' });
    assert.deepEqual(service('{ mode: implicit }').config?.services[0]?.mail?.backendTls?.mode, 'implicit');
    assert.equal(service('{ verify: true }').config?.services[0]?.mail?.backendTls?.mode, 'implicit');
  });

  it('another mode is refused at its line and column', () => {
    const r = service('{ mode: plain }');
    assert.equal(r.config, undefined);
    assert.equal(printed(r).length, 1);
    assert.match(printed(r)[0] ?? '', /^t\.yaml:5:\d+: services\[0\]\.backend_tls\.mode: /);
  });
});
