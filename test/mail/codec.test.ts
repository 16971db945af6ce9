// lines.ts and sasl.ts whole, and properties of all three dialogues: arbitrary bytes never throw, and generated
// valid logins come out as the same user and password, whatever the split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IMAP_DEFAULTS, imapStart, imapStep } from '../../l7/mail/imap.ts';
import { literalHead, readLine, readLiteral } from '../../l7/mail/lines.ts';
import { POP3_DEFAULTS, pop3Start, pop3Step } from '../../l7/mail/pop3.ts';
import { decodeBase64, decodePlain, encodeBase64, encodePlain, saslContinue, saslStart } from '../../l7/mail/sasl.ts';
import { SMTP_DEFAULTS, smtpStart, smtpStep } from '../../l7/mail/smtp.ts';
import type { Credentials, MailAction, MailEvent } from '../../l7/mail/types.ts';
import { c, found, trace, type Machine } from './helpers.ts';

const B = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const T = (u: Uint8Array): string => Buffer.from(u).toString('latin1');

describe('lines', () => {
  const opts = { maxLine: 10, bareLf: false };
  it('CRLF lines, need-more, bare LF by option, the limit counting CRLF', () => {
    const r = readLine(B('ab\r\ncd'), 0, opts);
    assert.ok(r.kind === 'line' && T(r.line) === 'ab' && r.next === 4);
    assert.equal(readLine(B('ab\r\ncd'), 4, opts).kind, 'need-more');
    assert.deepEqual(readLine(B('ab\n'), 0, opts).kind, 'error');
    const lf = readLine(B('ab\n'), 0, { ...opts, bareLf: true });
    assert.ok(lf.kind === 'line' && T(lf.line) === 'ab');
    assert.equal(readLine(B('12345678\r\n'), 0, opts).kind, 'line');
    assert.equal(readLine(B('123456789\r\n'), 0, opts).kind, 'error');
    assert.equal(readLine(B('1234567890'), 0, opts).kind, 'error', 'too long is known before the LF comes');
    const cr = readLine(B('a\rb\r\n'), 0, opts);
    assert.ok(cr.kind === 'line' && T(cr.line) === 'a\rb', 'a CR inside stays for the parser');
  });
  it('literal heads: {n}, {n+}, refused sizes, look-alikes', () => {
    assert.deepEqual(literalHead(B('a LOGIN {5}'), 100), { size: 5, sync: true, textEnd: 8, tooLarge: false });
    assert.deepEqual(literalHead(B('{0+}'), 100), { size: 0, sync: false, textEnd: 0, tooLarge: false });
    assert.equal(literalHead(B('a {101}'), 100)?.tooLarge, true);
    assert.equal(literalHead(B('a {12345678901}'), 1e12)?.tooLarge, true);
    for (const no of ['a {}', 'a {+}', 'a {5', 'a 5}', 'a {-5}', 'a {5 }', '}']) assert.equal(literalHead(B(no), 100), undefined, no);
    const big = readLine(B('a {101+}\r\n'), 0, { maxLine: 100, bareLf: true, maxLiteral: 100 });
    assert.equal(big.kind, 'error');
    const lit = readLiteral(B('xx\r\nyy'), 0, 4);
    assert.ok(lit.kind === 'literal' && T(lit.bytes) === 'xx\r\n' && lit.next === 4);
    assert.equal(readLiteral(B('xx'), 0, 4).kind, 'need-more');
  });
});

describe('sasl', () => {
  it('strict base64: padding, alphabet, canonical bits, "=" is empty', () => {
    assert.equal(T(decodeBase64(B('YWJj')) as Uint8Array), 'abc');
    assert.equal(T(decodeBase64(B('YQ==')) as Uint8Array), 'a');
    assert.equal(T(decodeBase64(B('YWI=')) as Uint8Array), 'ab');
    assert.equal(decodeBase64(B('='))?.length, 0);
    assert.equal(decodeBase64(B(''))?.length, 0);
    for (const bad of ['YQ', 'YQ=', 'YR==', 'YWJ=', 'Y Q==', 'YQ==YQ==', '====', 'Y===', 'YW-j', 'YWJj\r', 'A=B=']) assert.equal(decodeBase64(B(bad)), undefined, bad);
  });
  it('PLAIN: exactly two NULs; encode and decode agree', () => {
    assert.equal(decodePlain(B('a\0b')), undefined);
    assert.equal(decodePlain(B('a\0b\0c\0d')), undefined);
    const p = decodePlain(B('\0user\0pass'));
    assert.ok(p && T(p.authzid) === '' && T(p.user) === 'user' && T(p.password) === 'pass');
    const cred: Credentials = { mechanism: 'plain', authzid: B('z'), user: B('u'), password: B('p w') };
    assert.equal(T(decodeBase64(encodePlain(cred)) as Uint8Array), 'z\0u\0p w');
  });
  it('the exchange: LOGIN asks twice, PLAIN once; limits and bytes checked', () => {
    const lim = { maxUser: 4, maxPassword: 4 };
    const s = saslStart('login', undefined, lim);
    assert.ok(s.kind === 'challenge' && s.prompt === 'VXNlcm5hbWU6');
    const s2 = s.kind === 'challenge' ? saslContinue(s.pending, encodeBase64(B('bob')), lim) : s;
    assert.ok(s2.kind === 'challenge' && s2.prompt === 'UGFzc3dvcmQ6');
    const s3 = s2.kind === 'challenge' ? saslContinue(s2.pending, encodeBase64(B('pw')), lim) : s2;
    assert.ok(s3.kind === 'done' && T(s3.credentials.user) === 'bob' && s3.credentials.mechanism === 'login');
    assert.deepEqual(saslStart('plain', encodeBase64(B('\0bobby\0p')), lim), { kind: 'malformed', check: 'user-too-long' });
    assert.deepEqual(saslStart('plain', encodeBase64(B('\0bob\0')), lim), { kind: 'malformed', check: 'empty-password' });
    assert.deepEqual(saslStart('plain', encodeBase64(B('\0b\nb\0p')), lim), { kind: 'malformed', check: 'bad-user-byte' });
    assert.deepEqual(saslStart('plain', B('*'), lim), { kind: 'cancelled' });
  });
});

const machines: [string, Machine<unknown>][] = [
  ['imap', { start: () => imapStart(IMAP_DEFAULTS), step: imapStep } as Machine<unknown>],
  ['pop3', { start: () => pop3Start(POP3_DEFAULTS), step: pop3Step } as Machine<unknown>],
  ['smtp', { start: () => smtpStart(SMTP_DEFAULTS), step: smtpStep } as Machine<unknown>],
];

const event: fc.Arbitrary<MailEvent> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ type: 'client-bytes', bytes }) as MailEvent) },
  { weight: 3, arbitrary: fc.constantFrom('a LOGIN {3}\r\n', 'USER x\r\n', 'PASS y\r\n', 'EHLO m\r\n', 'MAIL FROM:<>\r\n', 'RCPT TO:<u@d>\r\n', 'AUTH PLAIN\r\n', 'a AUTHENTICATE LOGIN\r\n', 'STARTTLS\r\n', 'a STARTTLS\r\n', 'DATA\r\n').map((t) => c(t)) },
  { weight: 1, arbitrary: fc.constantFrom<MailEvent>({ type: 'tls-started' }, found('s1'), found('s2'), { type: 'lookup-result', answer: { kind: 'unknown-user' } }, { type: 'lookup-result', answer: { kind: 'temp-failure', reason: 't' } }, { type: 'backend-failed', reason: 'x' }, { type: 'timeout' }) },
  { weight: 2, arbitrary: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...['* OK hi\r\n', '+ \r\n', 'Y1 OK in\r\n', 'Y1 NO no\r\n', '+OK\r\n', '-ERR x\r\n', '220 mx\r\n', '250-a\r\n250 b\r\n', '334 x\r\n', '235 ok\r\n', '550 no\r\n'].map(B))).map((bytes) => ({ type: 'backend-bytes', bytes }) as MailEvent) },
);

describe('properties', () => {
  for (const [name, m] of machines) {
    it(`${name}: arbitrary events never throw, and nothing happens after close or start-piping`, () => {
      fc.assert(fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        let { state } = m.start();
        let ended = false;
        for (const e of events) {
          const r = m.step(state, e);
          if (ended) assert.deepEqual(r.actions, []);
          if (r.actions.some((a: MailAction) => a.type === 'close' || a.type === 'start-piping')) ended = true;
          state = r.state;
        }
      }), { numRuns: 400 });
    });
  }

  const user = fc.uint8Array({ minLength: 1, maxLength: 40 }).filter((u) => !u.includes(0) && !u.includes(13) && !u.includes(10));
  const password = fc.uint8Array({ minLength: 1, maxLength: 40 }).filter((p) => !p.includes(0) && !p.includes(13) && !p.includes(10));
  const split = fc.array(fc.nat(), { maxLength: 4 });

  /** Cuts bytes at the given points into client-bytes events. */
  const cut = (bytes: Uint8Array, at: number[]): MailEvent[] => {
    const points = [...new Set(at.map((k) => k % (bytes.length + 1)))].sort((a, b) => a - b);
    const out: MailEvent[] = [];
    let prev = 0;
    for (const p of [...points, bytes.length]) { if (p > prev) out.push(c(bytes.subarray(prev, p))); prev = p; }
    return out;
  };
  const lit = (v: Uint8Array): Uint8Array => Buffer.concat([B(`{${v.length}+}\r\n`), v]);
  const plain = (u: Uint8Array, p: Uint8Array): string => Buffer.concat([B('\0'), u, B('\0'), p]).toString('base64');

  it('generated valid logins come out as the same user and password, in every protocol and any split', () => {
    fc.assert(fc.property(user, password, split, fc.nat(3), (u, p, at, form) => {
      const [name, m] = machines[form % 3] as [string, Machine<unknown>];
      const bytes = name === 'imap'
        ? (form === 0 ? Buffer.concat([B('a LOGIN '), lit(u), B(' '), lit(p), B('\r\n')]) : B(`a AUTHENTICATE PLAIN ${plain(u, p)}\r\n`))
        : name === 'pop3'
          ? (u.includes(0x20) || form === 1 ? B(`AUTH PLAIN ${plain(u, p)}\r\n`) : Buffer.concat([B('USER '), u, B('\r\nPASS '), p, B('\r\n')]))
          : B(`EHLO m\r\nAUTH PLAIN ${plain(u, p)}\r\n`);
      const out = trace(m, cut(bytes, at));
      const lookup = out.find((a) => a.type === 'lookup');
      assert.equal(lookup?.user, T(u), name);
      let state = m.start().state;
      for (const e of cut(bytes, at)) state = m.step(state, e).state;
      const creds = (state as { credentials: Credentials | undefined }).credentials;
      assert.equal(creds && T(creds.password), T(p), name);
    }), { numRuns: 300 });
  });

  it('the backend sees the same login: a replayed IMAP LOGIN parses back to the user and password', () => {
    fc.assert(fc.property(user, password, (u, p) => {
      const m = machines[0]?.[1] as Machine<unknown>;
      const sent = trace(m, [c(Buffer.concat([B('a LOGIN '), lit(u), B(' '), lit(p), B('\r\n')])), found('s'), { type: 'backend-bytes', bytes: B('* OK\r\n+ go\r\n+ go\r\n') }])
        .filter((a) => a.type === 'send-to-backend').map((a) => a.text).join('');
      // feed what yoke sent to a backend into yoke's own front parser: it must read the same login
      const again = trace(m, [c(B(sent.replace(/^Y1/, 'b')))]).find((a) => a.type === 'lookup');
      assert.equal(again?.user, T(u));
    }), { numRuns: 200 });
  });
});
