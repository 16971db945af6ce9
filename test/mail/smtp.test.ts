// SMTP front dialogue (submission and delivery), byte by byte, and split at every offset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SMTP_DEFAULTS, smtpStart, smtpStep, type SmtpConfig, type SmtpState } from '../../l7/mail/smtp.ts';
import { parsePath, readReply } from '../../l7/mail/smtp-codec.ts';
import type { MailEvent } from '../../l7/mail/types.ts';
import { answer, assertSplitSafe, b, b64, c, found, greeting, trace, tlsUp, type Machine } from './helpers.ts';

const smtp = (over: Partial<SmtpConfig> = {}): Machine<SmtpState> => ({ start: () => smtpStart({ ...SMTP_DEFAULTS, ...over }), step: smtpStep });
const m = smtp();
const toClient = (text: string) => ({ type: 'send-to-client', text });
const toBackend = (text: string) => ({ type: 'send-to-backend', text });
const EHLO = '250-yoke\r\n250-PIPELINING\r\n250-SIZE\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n';
const backendEhlo = b('250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n');

describe('smtp: submission', () => {
  it('greets with 220 and its name; EHLO lists the extensions', () => {
    assert.equal(greeting(m), '220 yoke ESMTP yoke ready\r\n');
    assert.deepEqual(trace(m, [c('EHLO client.example\r\n')]), [toClient(EHLO)]);
    assert.deepEqual(trace(m, [c('HELO client.example\r\n')]), [toClient('250 yoke\r\n')]);
  });

  it('AUTH PLAIN with initial response: lookup, EHLO and AUTH replayed, 235 relayed, then piping', () => {
    const ir = b64('\0alice\0pw');
    const script = [c(`EHLO c.example\r\nAUTH PLAIN ${ir}\r\n`), c('MAIL FROM:<alice@x>\r\n'), found('m1'), b('220 mx ESMTP\r\n'), backendEhlo, b('235 2.7.0 Authentication successful\r\n')];
    assert.deepEqual(trace(m, script), [
      toClient(EHLO),
      { type: 'lookup', user: 'alice' },
      { type: 'connect-backend', server: 'm1' },
      toBackend(`EHLO c.example\r\nAUTH PLAIN ${ir}\r\n`),
      toClient('235 2.7.0 Authentication successful\r\n'),
      { type: 'start-piping', toBackend: 'MAIL FROM:<alice@x>\r\n', toClient: '' },
    ]);
    assertSplitSafe(m, script);
  });

  it('AUTH LOGIN: 334 prompts; replayed as AUTH LOGIN; a 535 is relayed and the backend dropped', () => {
    const script = [c('EHLO c\r\nAUTH LOGIN\r\n'), c(`${b64('bob')}\r\n`), c(`${b64('pw')}\r\n`), found('m2'), b('220 mx\r\n'), backendEhlo, b('334 VXNlcm5hbWU6\r\n'), b('334 UGFzc3dvcmQ6\r\n'), b('535 5.7.8 Error: authentication failed\r\n')];
    assert.deepEqual(trace(m, script), [
      toClient(`${EHLO}334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n`),
      { type: 'lookup', user: 'bob' },
      { type: 'connect-backend', server: 'm2' },
      toBackend(`EHLO c\r\nAUTH LOGIN\r\n${b64('bob')}\r\n${b64('pw')}\r\n`),
      toClient('535 5.7.8 Error: authentication failed\r\n'),
      { type: 'close-backend' },
    ]);
    assertSplitSafe(m, script);
  });

  it('AUTH refusals: before EHLO, unknown mechanism, bad base64, cancel, malformed PLAIN, unknown user; temp failure 454', () => {
    const out = trace(m, [c(`AUTH PLAIN\r\nEHLO c\r\nAUTH CRAM-MD5\r\nAUTH PLAIN\r\n!!\r\nAUTH LOGIN\r\n*\r\nAUTH PLAIN ${b64('nonul')}\r\n`)]);
    assert.equal(out[0]?.text, '503 5.5.1 Send EHLO first\r\n' + EHLO + '504 5.5.4 Unrecognized authentication type\r\n334 \r\n501 5.5.2 Cannot decode response\r\n334 VXNlcm5hbWU6\r\n501 5.0.0 Authentication cancelled\r\n535 5.7.8 Authentication credentials invalid\r\n');
    assert.deepEqual(trace(m, [c(`EHLO c\r\nAUTH PLAIN ${b64('\0u\0p')}\r\n`), answer({ kind: 'unknown-user' })]).slice(-1), [toClient('535 5.7.8 Authentication credentials invalid\r\n')]);
    assert.deepEqual(trace(m, [c(`EHLO c\r\nAUTH PLAIN ${b64('\0u\0p')}\r\n`), answer({ kind: 'temp-failure', reason: 'ldap down' })]).slice(-1), [toClient('454 4.7.0 Temporary authentication failure\r\n')]);
    for (const bad of [{ type: 'backend-failed', reason: 'x' } as MailEvent, b('554 go away\r\n'), b('nonsense\r\n')]) {
      assert.deepEqual(trace(m, [c(`EHLO c\r\nAUTH PLAIN ${b64('\0u\0p')}\r\n`), found('s'), bad]).slice(-2), [{ type: 'close-backend' }, toClient('454 4.7.0 Temporary authentication failure\r\n')]);
    }
  });

  it('submission only: MAIL before AUTH is 530; delivery only: AUTH is 502', () => {
    assert.deepEqual(trace(smtp({ delivery: false }), [c('EHLO c\r\nMAIL FROM:<a@b>\r\n')]).at(-1), toClient(EHLO + '530 5.7.0 Authentication required\r\n'));
    assert.deepEqual(trace(smtp({ auth: false }), [c('EHLO c\r\nAUTH PLAIN =\r\n')]).at(-1)?.text?.endsWith('502 5.5.1 AUTH not available\r\n'), true);
  });
});

describe('smtp: TLS', () => {
  const req = smtp({ tls: 'required' });
  it('required: no AUTH offered and AUTH/MAIL refused with 530 before STARTTLS', () => {
    const out = trace(req, [c('EHLO c\r\nAUTH PLAIN AGEAYg==\r\nMAIL FROM:<a@b>\r\n')]);
    assert.equal(out[0]?.text, EHLO.replace('250-STARTTLS\r\n250 AUTH PLAIN LOGIN', '250 STARTTLS') + '530 5.7.0 Must issue a STARTTLS command first\r\n'.repeat(2));
  });
  it('STARTTLS: injected bytes dropped, EHLO needed again, then AUTH goes through', () => {
    const script = [c('EHLO c\r\nSTARTTLS\r\nAUTH PLAIN AGEAYg==\r\n'), tlsUp, c(`AUTH PLAIN ${b64('\0u\0p')}\r\nEHLO c\r\nAUTH PLAIN ${b64('\0u\0p')}\r\n`)];
    const out = trace(req, script);
    assert.deepEqual(out.slice(1), [
      { type: 'start-tls' },
      toClient('503 5.5.1 Send EHLO first\r\n' + '250-yoke\r\n250-PIPELINING\r\n250-SIZE\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n'),
      { type: 'lookup', user: 'u' },
    ]);
    assertSplitSafe(req, script);
  });
});

describe('smtp: delivery', () => {
  it('the first routed RCPT opens the backend; EHLO, MAIL, RCPT replayed as written; answers relayed; DATA forwarded', () => {
    const script = [
      c('EHLO mta.example\r\nMAIL FROM:<s@x> BODY=8BITMIME\r\nRCPT TO:<alice@d>\r\nRCPT TO:<bob@d>\r\nDATA\r\n'),
      found('m1'), b('220 mx\r\n'), backendEhlo, b('250 2.1.0 Ok\r\n'), b('250 2.1.5 Ok\r\n'),
      found('m1'), b('250 2.1.5 Ok\r\n'),
    ];
    assert.deepEqual(trace(m, script), [
      toClient(EHLO.replace('250 AUTH', '250-AUTH').replace(/-AUTH PLAIN LOGIN\r\n$/, ' AUTH PLAIN LOGIN\r\n') + '250 2.1.0 Ok\r\n'),
      { type: 'lookup', user: 'alice' },
      { type: 'connect-backend', server: 'm1' },
      toBackend('EHLO mta.example\r\nMAIL FROM:<s@x> BODY=8BITMIME\r\nRCPT TO:<alice@d>\r\n'),
      toClient('250 2.1.5 Ok\r\n'),
      { type: 'lookup', user: 'bob' },
      toBackend('RCPT TO:<bob@d>\r\n'),
      toClient('250 2.1.5 Ok\r\n'),
      toBackend('DATA\r\n'),
    ]);
    assertSplitSafe(m, script);
  });

  it('a recipient on another server gets 451 4.3.0 and is not replayed; the others go on', () => {
    const script = [
      c('HELO mta\r\nMAIL FROM:<>\r\nRCPT TO:<a@d>\r\nRCPT TO:<b@d>\r\nRCPT TO:<c@d>\r\nDATA\r\n'),
      found('m1'), b('220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n'), found('m2'), found('m1'), b('550 5.1.1 no such user\r\n'),
    ];
    assert.deepEqual(trace(m, script).slice(2), [
      { type: 'connect-backend', server: 'm1' },
      toBackend('HELO mta\r\nMAIL FROM:<>\r\nRCPT TO:<a@d>\r\n'),
      toClient('250 ok\r\n'),
      { type: 'lookup', user: 'b' },
      toClient('451 4.3.0 Recipient on another server, try again later\r\n'),
      { type: 'lookup', user: 'c' },
      toBackend('RCPT TO:<c@d>\r\n'),
      toClient('550 5.1.1 no such user\r\n'),
      toBackend('DATA\r\n'),
    ]);
  });

  it('unknown recipient 550, directory down 451, no valid recipients 554 at DATA', () => {
    const out = trace(m, [c('EHLO m\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@d>\r\n'), answer({ kind: 'unknown-user' }), c('RCPT TO:<b@d>\r\n'), answer({ kind: 'temp-failure', reason: 'x' }), c('DATA\r\n')]);
    assert.deepEqual(out.slice(-3), [
      toClient('550 5.1.1 Recipient address rejected: user unknown\r\n'), { type: 'lookup', user: 'b' },
      toClient('451 4.3.0 Temporary failure, try again later\r\n554 5.5.1 No valid recipients\r\n'),
    ]);
  });

  it('a backend refusing MAIL: its answer goes to the RCPT and the next RCPT routes afresh', () => {
    const out = trace(m, [c('EHLO m\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@d>\r\nRCPT TO:<b@d>\r\n'), found('m1'), b('220 mx\r\n250 mx\r\n550 5.7.1 sender rejected\r\n'), found('m2')]);
    assert.deepEqual(out.slice(-5), [
      toBackend('EHLO m\r\nMAIL FROM:<s@x>\r\n'), toClient('550 5.7.1 sender rejected\r\n'), { type: 'close-backend', text: 'QUIT\r\n' }, { type: 'lookup', user: 'b' }, { type: 'connect-backend', server: 'm2' },
    ]);
  });

  it('a backend lost after taking recipients: DATA gets 451 and the transaction resets', () => {
    const out = trace(m, [c('EHLO m\r\nMAIL FROM:<s@x>\r\nRCPT TO:<a@d>\r\n'), found('m1'), b('220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n'), { type: 'backend-failed', reason: 'reset' }, c('DATA\r\n')]);
    assert.deepEqual(out.slice(-2), [{ type: 'close-backend' }, toClient('451 4.3.0 Temporary failure, try again later\r\n')]);
  });

  it('the whole address as the key when configured; postmaster without a domain', () => {
    const addr = smtp({ rcptKey: 'address' });
    assert.deepEqual(trace(addr, [c('EHLO m\r\nMAIL FROM:<>\r\nRCPT TO:<"j doe"@Ex.ORG> NOTIFY=NEVER\r\n')]).at(-1), { type: 'lookup', user: 'j doe@Ex.ORG' });
    assert.deepEqual(trace(addr, [c('EHLO m\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\n')]).at(-1), { type: 'lookup', user: 'Postmaster' });
  });

  it('sequence errors and bad addresses get 503/501; RSET and EHLO reset the transaction and drop the backend with QUIT', () => {
    const out = trace(m, [c('MAIL FROM:<a@b>\r\nRCPT TO:<a@b>\r\nDATA\r\nEHLO m\r\nMAIL FROM:<a b>\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nRCPT TO:a@b\r\nRCPT TO:<a..b@c>\r\nRCPT TO:<@r:x@y>\r\n'), found('m1'), c('RSET\r\n'), b('220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n')]);
    assert.equal(out[0]?.text, '503 5.5.1 Send EHLO or HELO first\r\n503 5.5.1 Need MAIL command\r\n503 5.5.1 Need MAIL command\r\n' + EHLO + '501 5.1.7 Bad sender address syntax\r\n250 2.1.0 Ok\r\n503 5.5.1 Nested MAIL command\r\n501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n');
    // the RSET waits in the buffer while the RCPT is replayed, then drops the backend
    assert.deepEqual(out.slice(1), [
      { type: 'lookup', user: 'x' }, { type: 'connect-backend', server: 'm1' }, toBackend('EHLO m\r\nMAIL FROM:<a@b>\r\nRCPT TO:<@r:x@y>\r\n'),
      toClient('250 ok\r\n'), { type: 'close-backend', text: 'QUIT\r\n' }, toClient('250 2.0.0 Ok\r\n'),
    ]);
  });

  it('recipients are limited (452), and RCPTs do not count toward the command limit', () => {
    const few = smtp({ maxRecipients: 2 });
    const out = trace(few, [c('EHLO m\r\nMAIL FROM:<>\r\nRCPT TO:<a@d>\r\n'), answer({ kind: 'unknown-user' }), c('RCPT TO:<b@d>\r\n'), answer({ kind: 'unknown-user' }), c('RCPT TO:<c@d>\r\n')]);
    assert.deepEqual(out.at(-1), toClient('550 5.1.1 Recipient address rejected: user unknown\r\n452 4.5.3 Too many recipients\r\n'));
  });
});

describe('smtp: hostile input', () => {
  it('bare LF: 500 and close (no SMTP smuggling)', () => {
    assert.deepEqual(trace(m, [c('EHLO m\n')]), [toClient('500 5.5.2 Line ended in bare LF, closing connection\r\n'), { type: 'close' }]);
  });
  it('a command line over maxLine: 500 and on; a line over the AUTH limit: close', () => {
    assert.deepEqual(trace(m, [c(`NOOP ${'x'.repeat(3000)}\r\nNOOP\r\n`)]), [toClient('500 5.5.6 Line too long\r\n250 2.0.0 Ok\r\n')]);
    assert.deepEqual(trace(m, [c('x'.repeat(13000))]), [toClient('500 5.5.6 Line too long, closing connection\r\n'), { type: 'close' }]);
  });
  it('unknown commands 500, VRFY 252, too many commands 421', () => {
    const out = trace(m, [c('FROB\r\nVRFY a\r\n' + 'NOOP\r\n'.repeat(30))]);
    assert.match(out[0]?.text ?? '', /^500 5\.5\.2 Command not recognized\r\n252 2\.5\.2 Cannot VRFY user\r\n(250 2\.0\.0 Ok\r\n){18}421 4\.7\.0 Too many commands, closing connection\r\n$/);
    assert.equal(out.at(-1)?.type, 'close');
  });
  it('timeout: 421', () => {
    assert.deepEqual(trace(m, [{ type: 'timeout' }]), [toClient('421 4.4.2 Timeout, closing connection\r\n'), { type: 'close' }]);
  });
});

describe('smtp: codec', () => {
  it('multi-line replies: codes must agree; need-more until the last line', () => {
    const buf = Buffer.from('250-a\r\n250-b\r\n250 c\r\n');
    for (let k = 0; k < buf.length; k++) assert.equal(readReply(buf.subarray(0, k), 0), 'need-more');
    const r = readReply(buf, 0);
    assert.ok(typeof r === 'object' && r.code === 250 && r.lines.length === 3 && r.next === buf.length);
    assert.equal(readReply(Buffer.from('250-a\r\n251 b\r\n'), 0), 'malformed');
    assert.equal(readReply(Buffer.from('25x ok\r\n'), 0), 'malformed');
    assert.ok(typeof readReply(Buffer.from('354\r\n'), 0) === 'object');
  });
  it('paths: dot-strings, quoted strings, source routes, parameters', () => {
    const p = (s: string): string | undefined => {
      const r = parsePath(Buffer.from(s, 'latin1'));
      return r && `${Buffer.from(r.local).toString('latin1')}|${Buffer.from(r.domain).toString('latin1')}`;
    };
    assert.equal(p('<a.b+c@d.e>'), 'a.b+c@d.e'.replace('@', '|'));
    assert.equal(p(' <"a\\"b c"@d>'), 'a"b c|d');
    assert.equal(p('<@x,@y:u@z> SIZE=1'), 'u|z');
    for (const bad of ['a@b', '<a@b', '<.a@b>', '<a.@b>', '<a@>', '<a@b>x', '<>', '<a b@c>', '<"a@b>']) assert.equal(p(bad), undefined, bad);
  });
});
