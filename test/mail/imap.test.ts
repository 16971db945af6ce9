// IMAP front dialogue, byte by byte: what yoke says, what it asks the router and backend, and that no split of the
// client's bytes changes any of it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IMAP_DEFAULTS, imapReplay, imapStart, imapStep, type ImapConfig, type ImapState } from '../../l7/mail/imap.ts';
import type { MailEvent } from '../../l7/mail/types.ts';
import { answer, assertSplitSafe, b, b64, c, found, greeting, run, trace, tlsUp, type Machine } from './helpers.ts';

const imap = (over: Partial<ImapConfig> = {}): Machine<ImapState> => ({
  start: () => imapStart({ ...IMAP_DEFAULTS, ...over }),
  step: imapStep,
});
const m = imap();
const toClient = (text: string) => ({ type: 'send-to-client', text });
const toBackend = (text: string) => ({ type: 'send-to-backend', text });

/** The backend half of a LOGIN replay that succeeds. */
const backendOk: MailEvent[] = [b('* OK Dovecot ready.\r\n')];

describe('imap: happy paths', () => {
  it('greets with its capabilities', () => {
    assert.equal(greeting(m), '* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID STARTTLS AUTH=PLAIN AUTH=LOGIN] yoke ready\r\n');
  });

  it('LOGIN with quoted strings: lookup, replay, the tagged answer under the client tag, piping', () => {
    const script = [
      c('a1 CAPABILITY\r\n'), c('a2 LOGIN "alice" "s3cret"\r\n'), found('mail1'), ...backendOk,
      b('Y1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'),
    ];
    assert.deepEqual(trace(m, script), [
      toClient('* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID STARTTLS AUTH=PLAIN AUTH=LOGIN\r\na1 OK CAPABILITY completed\r\n'),
      { type: 'lookup', user: 'alice' },
      { type: 'connect-backend', server: 'mail1' },
      toBackend('Y1 LOGIN "alice" "s3cret"\r\n'),
      toClient('a2 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'),
      { type: 'start-piping', toBackend: '', toClient: '' },
    ]);
    assertSplitSafe(m, script);
  });

  it('LOGIN with a synchronizing literal gets "+" and atoms pass as they are; commands pipelined after LOGIN go to the backend', () => {
    const script = [c('a LOGIN {5}\r\n'), c('b\xe9b\xe9b pw\r\nb SELECT INBOX\r\n'), found('m2'), ...backendOk, b('+ OK\r\n'), b('Y1 OK done\r\n* 3 EXISTS\r\n')];
    assert.deepEqual(trace(m, script), [
      toClient('+ Ready for literal data\r\n'),
      { type: 'lookup', user: 'b\xe9b\xe9b' },
      { type: 'connect-backend', server: 'm2' },
      toBackend('Y1 LOGIN {5}\r\nb\xe9b\xe9b "pw"\r\n'),
      toClient('a OK done\r\n'),
      { type: 'start-piping', toBackend: 'b SELECT INBOX\r\n', toClient: '* 3 EXISTS\r\n' },
    ]);
    assertSplitSafe(m, script);
  });

  it('LITERAL+ literals need no "+"; a password with CR LF is replayed as a literal', () => {
    const script = [c('x LOGIN {3+}\r\nbob {4+}\r\na\r\nb\r\n'), found('m'), ...backendOk, b('+ go\r\n'), b('Y1 OK\r\n')];
    const r = run(m, script);
    assert.deepEqual(trace(m, script), [
      { type: 'lookup', user: 'bob' },
      { type: 'connect-backend', server: 'm' },
      toBackend('Y1 LOGIN "bob" {4}\r\na\r\nb\r\n'),
      toClient('x OK\r\n'),
      { type: 'start-piping', toBackend: '', toClient: '' },
    ]);
    assert.equal(r.state.credentials, undefined, 'the password is dropped once replayed');
    assertSplitSafe(m, script);
  });

  it('AUTHENTICATE PLAIN with SASL-IR keeps the authzid; the replay waits for the backend\'s "+"', () => {
    const ir = b64('admin\0carol\0pw d');
    const script = [c(`t1 AUTHENTICATE PLAIN ${ir}\r\n`)];
    const r = run(m, script);
    assert.equal(r.state.phase, 'lookup');
    assert.deepEqual(r.state.credentials && Buffer.from(r.state.credentials.authzid).toString(), 'admin');
    assert.deepEqual(r.state.credentials && Buffer.from(r.state.credentials.password).toString(), 'pw d');
    const full = [...script, found('s'), ...backendOk, b('+ \r\n'), b('Y1 OK [CAPABILITY IMAP4rev1] ok\r\n')];
    assert.deepEqual(trace(m, full), [
      { type: 'lookup', user: 'carol' },
      { type: 'connect-backend', server: 's' },
      toBackend(`Y1 AUTHENTICATE PLAIN\r\n${ir}\r\n`),
      toClient('t1 OK [CAPABILITY IMAP4rev1] ok\r\n'),
      { type: 'start-piping', toBackend: '', toClient: '' },
    ]);
    assertSplitSafe(m, full);
  });

  it('AUTHENTICATE PLAIN without initial response: an empty "+ " continuation', () => {
    const script = [c('t AUTHENTICATE plain\r\n'), c(`${b64('\0dave\0pw')}\r\n`)];
    assert.deepEqual(trace(m, script), [toClient('+ \r\n'), { type: 'lookup', user: 'dave' }]);
    assertSplitSafe(m, script);
  });

  it('AUTHENTICATE LOGIN: two base64 prompts; replayed as AUTHENTICATE LOGIN', () => {
    const script = [c('t AUTHENTICATE LOGIN\r\n'), c(`${b64('erin')}\r\n`), c(`${b64('pw')}\r\n`), found('s'), ...backendOk, b('+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n'), b('Y1 NO [AUTHENTICATIONFAILED] nope\r\n')];
    assert.deepEqual(trace(m, script), [
      toClient('+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n'),
      { type: 'lookup', user: 'erin' },
      { type: 'connect-backend', server: 's' },
      toBackend(`Y1 AUTHENTICATE LOGIN\r\n${b64('erin')}\r\n${b64('pw')}\r\n`),
      toClient('t NO [AUTHENTICATIONFAILED] nope\r\n'),
      { type: 'close-backend' },
    ]);
    assertSplitSafe(m, script);
  });

  it('a failed backend login is passed back and the client may log in again, routed afresh (tag Y2)', () => {
    const script = [c('a LOGIN u p\r\n'), found('s1'), ...backendOk, b('* OK untagged news\r\nY1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n'), c('b LOGIN u q\r\n'), found('s1'), ...backendOk, b('Y2 OK in\r\n')];
    assert.deepEqual(trace(m, script).slice(3), [
      toClient('* OK untagged news\r\na NO [AUTHENTICATIONFAILED] Authentication failed.\r\n'),
      { type: 'close-backend' },
      { type: 'lookup', user: 'u' },
      { type: 'connect-backend', server: 's1' },
      toBackend('Y2 LOGIN "u" "q"\r\n'),
      toClient('b OK in\r\n'),
      { type: 'start-piping', toBackend: '', toClient: '' },
    ]);
  });

  it('NOOP, ID and LOGOUT', () => {
    const script = [c('1 NOOP\r\n2 ID ("name" "mutt")\r\n3 LOGOUT\r\n4 NOOP\r\n')];
    assert.deepEqual(trace(m, script), [
      toClient('1 OK NOOP completed\r\n* ID NIL\r\n2 OK ID completed\r\n* BYE Logging out\r\n3 OK LOGOUT completed\r\n'),
      { type: 'close' },
    ]);
  });
});

describe('imap: TLS', () => {
  const req = imap({ tls: 'required' });
  it('required: LOGINDISABLED and no AUTH= before TLS, no plaintext LOGIN or AUTHENTICATE, never a lookup', () => {
    const script = [c('a CAPABILITY\r\nb LOGIN alice pw\r\nc AUTHENTICATE PLAIN AGFsaWNlAHB3\r\n')];
    const out = trace(req, script);
    assert.equal(greeting(req), '* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID STARTTLS LOGINDISABLED] yoke ready\r\n');
    assert.match(out[0]?.text ?? '', /b NO \[PRIVACYREQUIRED\][^\r]*\r\nc NO \[PRIVACYREQUIRED\]/);
    assert.ok(!out.some((a) => a.type === 'lookup'));
    assert.equal(run(req, script).state.credentials, undefined);
  });

  it('STARTTLS: bytes injected after it in clear are dropped; after the handshake the login goes through', () => {
    const script = [c('a STARTTLS\r\nb LOGIN evil pw\r\n'), tlsUp, c('c CAPABILITY\r\nd LOGIN alice pw\r\n')];
    assert.deepEqual(trace(req, script), [
      toClient('a OK Begin TLS negotiation now\r\n'),
      { type: 'start-tls' },
      toClient('* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ ID AUTH=PLAIN AUTH=LOGIN\r\nc OK CAPABILITY completed\r\n'),
      { type: 'lookup', user: 'alice' },
    ]);
    assertSplitSafe(req, script);
  });

  it('STARTTLS twice, or where not offered, is BAD; implicit TLS offers nothing and allows login', () => {
    assert.match(trace(req, [c('a STARTTLS\r\n'), tlsUp, c('b STARTTLS\r\n')])[2]?.text ?? '', /^b BAD TLS is already active/);
    assert.match(trace(imap({ tls: 'off' }), [c('a STARTTLS\r\n')])[0]?.text ?? '', /^a BAD STARTTLS is not offered/);
    const imp = trace(imap({ tls: 'implicit' }), [c('a LOGIN u p\r\n')]);
    assert.ok(!greeting(imap({ tls: 'implicit' })).includes('STARTTLS'));
    assert.deepEqual(imp[0], { type: 'lookup', user: 'u' });
  });

  it('tls-started out of turn closes', () => {
    assert.deepEqual(trace(m, [tlsUp]), [{ type: 'close' }]);
  });
});

describe('imap: failures in IMAP words', () => {
  it('directory down: NO [UNAVAILABLE], the connection stays', () => {
    const script = [c('a LOGIN u p\r\n'), answer({ kind: 'temp-failure', reason: 'ldap timeout' }), c('b NOOP\r\n')];
    assert.deepEqual(trace(m, script).slice(1), [toClient('a NO [UNAVAILABLE] Temporary failure, try again later\r\nb OK NOOP completed\r\n')]);
  });
  it('backend down, or a backend greeting other than * OK: close-backend and NO [UNAVAILABLE]', () => {
    for (const bad of [{ type: 'backend-failed', reason: 'ECONNREFUSED' } as MailEvent, b('* BYE overloaded\r\n'), b('* PREAUTH hi\r\n')]) {
      const out = trace(m, [c('a LOGIN u p\r\n'), found('s'), bad]);
      assert.deepEqual(out.slice(2), [{ type: 'close-backend' }, toClient('a NO [UNAVAILABLE] Temporary failure, try again later\r\n')]);
    }
  });
  it('unknown user: NO [AUTHENTICATIONFAILED]; three failures close', () => {
    const no = answer({ kind: 'unknown-user' });
    const out = trace(m, [c('a LOGIN u p\r\n'), no, c('b LOGIN u p\r\n'), no, c('c LOGIN u p\r\n'), no]);
    assert.deepEqual(out.slice(-2), [toClient('c NO [AUTHENTICATIONFAILED] Authentication failed\r\n* BYE Too many failed logins\r\n'), { type: 'close' }]);
  });
  it('timeout: BYE and close', () => {
    assert.deepEqual(trace(m, [{ type: 'timeout' }]), [toClient('* BYE Login timeout\r\n'), { type: 'close' }]);
  });
});

describe('imap: hostile and malformed input', () => {
  it('user names come out as exact bytes: spaces, escapes, 8-bit, LDAP specials', () => {
    const cases: [string, string][] = [
      ['"  al ice "', '  al ice '],
      ['"a\\"b\\\\c"', 'a"b\\c'],
      ['{4}\r\n*)(\\', '*)(\\'],
      ['"\xff\xfe"', '\xff\xfe'],
      ['al]ice', 'al]ice'],
    ];
    for (const [arg, user] of cases) {
      const out = trace(m, [c(`a LOGIN ${arg} pw\r\n`)]);
      assert.deepEqual(out.find((x) => x.type === 'lookup'), { type: 'lookup', user }, arg);
    }
  });
  it('NUL, CR or LF in a user, an empty or over-long user: NO, never a lookup', () => {
    for (const arg of ['{3}\r\na\0b', '{3}\r\na\rb', '""', `{256}\r\n${'u'.repeat(256)}`]) {
      const out = trace(m, [c(`a LOGIN ${arg} pw\r\n`)]);
      assert.ok(!out.some((x) => x.type === 'lookup'), arg);
      assert.match(out.at(-1)?.text ?? '', /a NO \[AUTHENTICATIONFAILED\]/, arg);
    }
  });
  it('malformed commands get BAD under their tag, or untagged', () => {
    const out = trace(m, [c('\r\nnotag\r\na FROB\r\nb LOGIN onlyuser\r\nc LOGIN "unterminated pw\r\nd AUTHENTICATE\r\ne AUTHENTICATE CRAM-MD5\r\nf SELECT INBOX\r\ng+ NOOP\r\nh CAPABILITY extra\r\n')]);
    assert.equal(out[0]?.text, [
      '* BAD Missing tag or command', 'notag BAD Missing tag or command', 'a BAD Unknown command or not valid before login',
      'b BAD Invalid arguments to LOGIN', 'c BAD Invalid arguments to LOGIN', 'd BAD Invalid arguments to AUTHENTICATE',
      'e NO Unsupported authentication mechanism', 'f BAD Unknown command or not valid before login', 'g BAD Missing tag or command',
      'h BAD Unknown command or not valid before login', '',
    ].join('\r\n'));
  });
  it('bad base64 and "*" in AUTHENTICATE: BAD; malformed PLAIN: NO', () => {
    const out = trace(m, [c('a AUTHENTICATE PLAIN\r\nAGE=x\r\nb AUTHENTICATE PLAIN\r\n*\r\n'), c(`c AUTHENTICATE PLAIN ${b64('no-nuls')}\r\n`)]);
    assert.equal(out.map((x) => x.text ?? '').join(''), '+ \r\na BAD Invalid base64 data\r\n+ \r\nb BAD AUTHENTICATE cancelled\r\nc NO [AUTHENTICATIONFAILED] Authentication failed\r\n');
  });
  it('an over-long line: BYE and close', () => {
    const out = trace(m, [c(`a LOGIN ${'x'.repeat(9000)}`)]);
    assert.deepEqual(out, [toClient('* BYE Line too long\r\n'), { type: 'close' }]);
  });
  it('a synchronizing literal over the limit: BAD, no "+", and the client goes on', () => {
    const script = [c('a LOGIN {5000}\r\nb NOOP\r\n')];
    assert.deepEqual(trace(m, script), [toClient('a BAD Literal too large\r\nb OK NOOP completed\r\n')]);
    assertSplitSafe(m, script);
  });
  it('a non-synchronizing literal over the limit, or a size of 11 digits: BYE and close (RFC 7888 4)', () => {
    for (const lit of ['{5000+}', '{99999999999}']) {
      const out = trace(m, [c(`a LOGIN ${lit}\r\n`)]);
      assert.equal(out.at(-1)?.type, lit.endsWith('+}') ? 'close' : 'send-to-client', lit);
    }
  });
  it('more literals in one command than allowed: BYE', () => {
    const out = trace(m, [c('a ID (' + '{1+}\r\nx '.repeat(9) + ')\r\n')]);
    assert.deepEqual(out.slice(-2), [toClient('* BYE Too many literals\r\n'), { type: 'close' }]);
  });
  it('commands before login are limited', () => {
    const out = trace(m, [c('a NOOP\r\n'.repeat(25))]);
    assert.equal(out.at(-1)?.type, 'close');
    assert.equal((out[0]?.text ?? '').split('a OK NOOP').length - 1, IMAP_DEFAULTS.maxCommands);
    assert.match(out[0]?.text ?? '', /\* BYE Too many commands before login\r\n$/);
  });
  it('pending input while waiting on the router is bounded', () => {
    const out = trace(m, [c('a LOGIN u p\r\n'), c('x'.repeat(70000))]);
    assert.deepEqual(out.slice(-2), [toClient('* BYE Too much input\r\n'), { type: 'close' }]);
  });
  it('a backend that answers "+" with nothing left to send is a temporary failure', () => {
    const out = trace(m, [c('a LOGIN u p\r\n'), found('s'), ...backendOk, b('+ more?\r\n')]);
    assert.deepEqual(out.slice(-2), [{ type: 'close-backend' }, toClient('a NO [UNAVAILABLE] Temporary failure, try again later\r\n')]);
  });
});

describe('imap: replay encoding', () => {
  it('quoted when 7-bit text, sync literals otherwise', () => {
    const enc = (user: string, password: string): string => imapReplay({ mechanism: 'command', authzid: new Uint8Array(), user: Buffer.from(user, 'latin1'), password: Buffer.from(password, 'latin1') }, 'Y1').map((x) => Buffer.from(x).toString('latin1')).join('|');
    assert.equal(enc('a"b', 'c\\d'), 'Y1 LOGIN "a\\"b" "c\\\\d"\r\n');
    assert.equal(enc('\xe9', 'p'), 'Y1 LOGIN {1}\r\n|\xe9 "p"\r\n');
    assert.equal(enc('u', '\xe9'), 'Y1 LOGIN "u" {1}\r\n|\xe9\r\n');
  });
});
