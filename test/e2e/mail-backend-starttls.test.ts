// backend_tls mode starttls through a running yoke: fake IMAP, POP3 and SMTP servers that require TLS before any login
// (test/helpers/mail-backends.ts, STARTTLS over the accepted socket) and record every line they read in clear. Logins,
// an SMTP submission and two SMTP deliveries on one connection go through after the upgrade; a server that hides
// STARTTLS, refuses it or shows a certificate that fails verification gives the client the protocol's temporary
// failure, goes down by passive health, and never reads a login, MAIL or RCPT in clear.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { fakeMail, type FakeMail, type FakeStartTls, type Proto, type Seen } from '../helpers/mail-backends.ts';
import { LineClient, curl } from '../helpers/mail-clients.ts';
import { makePki, type TestPki } from '../helpers/pki.ts';

const TOKEN = 'starttls-test-token';
const PASSWORD = 'pw-Kx81';
/** Commands that carry a login or mail: none may reach a server in clear. */
const SECRET_WORDS = /^(\S+ )?(LOGIN|AUTHENTICATE|USER|PASS|AUTH|MAIL|RCPT|DATA)\b/i;

describe('backend_tls mode starttls: the hop to the mail servers is upgraded before any login, never in clear', () => {
  let pki: TestPki;
  const seen: Seen[] = [];
  const fakes: Record<string, FakeMail> = {};
  const port: Record<string, number> = {};
  let run: Running;

  const logins = (user: string) => seen.filter((s) => s.kind === 'login' && s.user === user).map((s) => `${s.proto}@${s.server}`);
  /** The lines `fake` reads in clear while `f` runs. */
  const clearDuring = async (fake: string, f: () => Promise<void>): Promise<string[]> => {
    const from = fakes[fake]!.clear.length;
    await f();
    return fakes[fake]!.clear.slice(from);
  };
  /** IMAP logins of `user` at `service`, one per tag, each answered NO [UNAVAILABLE]. */
  const imapUnavailable = async (service: string, user: string, tags: string[]): Promise<void> => {
    const c = await LineClient.connect(port[service] as number);
    await c.expect(/\* OK .*\r\n/);
    for (const tag of tags) {
      c.send(`${tag} LOGIN ${user} ${PASSWORD}\r\n`);
      await c.expect(new RegExp(`${tag} NO \\[UNAVAILABLE\\] .*\r\n`));
    }
    c.end();
  };
  const state = async (service: string): Promise<string | undefined> => {
    const res = await fetch(`http://127.0.0.1:${port['admin']}/api/v1/services/${service}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.ok(res.ok);
    return ((await res.json()) as { servers: { state: string }[] }).servers[0]?.state;
  };

  before(async () => {
    pki = makePki();
    const identity = { cert: pki.cert, key: pki.key };
    const make = async (name: string, proto: Proto, behaviour: FakeStartTls['behaviour']) => {
      fakes[name] = await fakeMail(`${name}.example.org`, proto, seen, 0, undefined, { identity, behaviour, required: true });
    };
    for (const proto of ['imap', 'pop3', 'smtp'] as const) await make(proto, proto, 'accept');
    await make('imapclear', 'imap', 'accept');
    await make('imaphide', 'imap', 'hide');
    await make('pop3refuse', 'pop3', 'refuse');
    await make('smtprefuse', 'smtp', 'refuse');
    await make('smtphide', 'smtp', 'hide');
    const names = ['imap', 'pop3', 'smtp', 'imapclear', 'imapbadcert', 'imaphide', 'pop3refuse', 'smtprefuse', 'smtphide', 'admin'];
    const ports = await freePorts(names.length);
    names.forEach((n, i) => { port[n] = ports[i] as number; });
    const upgraded = `    backend_tls: { mode: starttls, ca: "file:${pki.caPath}", server_name: check.example }`;
    const svc = (name: string, proto: Proto, fake: string, ...extra: string[]) => [
      `  - name: ${name}`, `    listen: 127.0.0.1:${port[name]}`, `    mode: ${proto}`, '    connect_timeout: 2s',
      '    health: { type: tcp, interval: 1h, passive_fall: 1 }', ...extra,
      '    servers:', `      - { name: ${fake}.example.org, address: 127.0.0.1:${fakes[fake]!.port} }`,
    ].join('\n');
    run = await startYoke(writeConfig([
      `admin: { listen: 127.0.0.1:${port['admin']}, token: env:ADMIN_TOKEN }`,
      'services:',
      svc('imap', 'imap', 'imap', upgraded),
      svc('pop3', 'pop3', 'pop3', upgraded),
      svc('smtp', 'smtp', 'smtp', upgraded),
      svc('imapclear', 'imap', 'imapclear'),
      svc('imapbadcert', 'imap', 'imap', '    backend_tls: { mode: starttls, server_name: check.example }'),
      svc('imaphide', 'imap', 'imaphide', upgraded),
      svc('pop3refuse', 'pop3', 'pop3refuse', upgraded),
      svc('smtprefuse', 'smtp', 'smtprefuse', upgraded),
      svc('smtphide', 'smtp', 'smtphide', upgraded),
      '',
    ].join('\n')), { ADMIN_TOKEN: TOKEN }, 'admin API up');
  });

  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all(Object.values(fakes).map((f) => f.close()));
    pki.remove();
  });

  it('IMAP and POP3 logins (curl) reach servers that require TLS: only CAPABILITY/STARTTLS and STLS crossed in clear', async () => {
    const imapClear = await clearDuring('imap', async () => {
      const r = await curl(['-u', `ann:${PASSWORD}`, `imap://127.0.0.1:${port['imap']}/`]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /LIST \(\) "\/" imap\.example\.org/);
    });
    assert.deepEqual(imapClear, ['S1 CAPABILITY', 'S2 STARTTLS']);
    const pop3Clear = await clearDuring('pop3', async () => {
      const r = await curl(['-u', `ann:${PASSWORD}`, `pop3://127.0.0.1:${port['pop3']}/`]);
      assert.equal(r.code, 0, r.err);
    });
    assert.deepEqual(pop3Clear, ['STLS']);
    assert.deepEqual(logins('ann'), ['imap@imap.example.org', 'pop3@pop3.example.org']);
  });

  it('the same server without backend_tls refuses the clear login (its answer passed back): it does require TLS', async () => {
    const c = await LineClient.connect(port['imapclear'] as number);
    await c.expect(/\* OK .*\r\n/);
    c.send(`a LOGIN cleo ${PASSWORD}\r\n`);
    await c.expect(/a NO \[PRIVACYREQUIRED\] .*\r\n/);
    c.end();
    assert.deepEqual(logins('cleo'), []);
  });

  it('SMTP submission (AUTH) and two deliveries on one client connection go over one upgraded connection', async () => {
    const lines = await clearDuring('smtp', async () => {
      const sub = await curl(['-u', `sam:${PASSWORD}`, `smtp://127.0.0.1:${port['smtp']}/`, '--mail-from', 'sam@example.org', '--mail-rcpt', 'x@example.net', '-T', '-'], 'Subject: sub\r\n\r\nsubmitted\r\n');
      assert.equal(sub.code, 0, sub.err);
      const c = await LineClient.connect(port['smtp'] as number);
      await c.expect(/220 .*\r\n/);
      c.send('EHLO mta.test\r\n');
      await c.expect(/250 .*\r\n/);
      for (const n of [1, 2]) {
        c.send(`MAIL FROM:<s@example.net>\r\nRCPT TO:<dora${n}@example.org>\r\nDATA\r\n`);
        await c.expect(/250 2\.1\.0 .*\r\n250 2\.1\.5 Ok on smtp\.example\.org\r\n354 .*\r\n/);
        c.send(`Subject: ${n}\r\n\r\nmessage ${n}\r\n.\r\n`);
        await c.expect(/250 2\.0\.0 queued on smtp\.example\.org\r\n/);
      }
      c.send('QUIT\r\n');
      await c.expect(/221 .*\r\n/);
      c.end();
    });
    assert.deepEqual(lines, ['EHLO yoke', 'STARTTLS', 'EHLO yoke', 'STARTTLS']);
    assert.deepEqual(logins('sam'), ['smtp@smtp.example.org']);
    const data = seen.filter((s) => s.kind === 'data' && s.user.startsWith('dora'));
    assert.deepEqual(data.map((s) => [s.user, s.body]), [['dora1@example.org', 'Subject: 1\r\n\r\nmessage 1\r\n'], ['dora2@example.org', 'Subject: 2\r\n\r\nmessage 2\r\n']]);
    assert.equal(data[0]?.session, data[1]?.session, 'both messages over one server connection');
  });

  it('a certificate that fails verification: NO [UNAVAILABLE], no login written, the server down', async () => {
    const lines = await clearDuring('imap', () => imapUnavailable('imapbadcert', 'eve', ['a']));
    assert.deepEqual(lines, ['S1 CAPABILITY', 'S2 STARTTLS']);
    assert.deepEqual(logins('eve'), []);
    assert.equal(await state('imapbadcert'), 'down');
  });

  it('IMAP STARTTLS not offered, POP3 STLS refused: the temporary failure, nothing but the upgrade in clear, the server down; a retry does not reach it', async () => {
    const imap = await clearDuring('imaphide', () => imapUnavailable('imaphide', 'fay', ['a', 'b']));
    assert.deepEqual(imap, ['S1 CAPABILITY'], 'one connection: after it the server is down');
    assert.equal(await state('imaphide'), 'down');
    const pop3 = await clearDuring('pop3refuse', async () => {
      const c = await LineClient.connect(port['pop3refuse'] as number);
      await c.expect(/\+OK .*\r\n/);
      c.send(`USER fay\r\nPASS ${PASSWORD}\r\n`);
      await c.expect(/\+OK\r\n-ERR \[SYS\/TEMP\] .*\r\n/);
      c.end();
    });
    assert.deepEqual(pop3, ['STLS']);
    assert.equal(await state('pop3refuse'), 'down');
    assert.deepEqual(logins('fay'), []);
  });

  it('SMTP STARTTLS refused (454) or not in EHLO: RCPT gets 451 4.3.0, AUTH 454 4.7.0; no MAIL, RCPT or AUTH in clear', async () => {
    const refused = await clearDuring('smtprefuse', async () => {
      const c = await LineClient.connect(port['smtprefuse'] as number);
      await c.expect(/220 .*\r\n/);
      c.send('EHLO mta.test\r\nMAIL FROM:<s@example.net>\r\nRCPT TO:<gil@example.org>\r\n');
      await c.expect(/250 2\.1\.0 .*\r\n451 4\.3\.0 .*\r\n/);
      c.end();
    });
    assert.deepEqual(refused, ['EHLO yoke', 'STARTTLS']);
    const hidden = await clearDuring('smtphide', async () => {
      const c = await LineClient.connect(port['smtphide'] as number);
      await c.expect(/220 .*\r\n/);
      c.send('EHLO mta.test\r\n');
      await c.expect(/250 .*\r\n/);
      c.send(`AUTH PLAIN ${Buffer.from(`\0gil\0${PASSWORD}`).toString('base64')}\r\n`);
      await c.expect(/454 4\.7\.0 .*\r\n/);
      c.end();
    });
    assert.deepEqual(hidden, ['EHLO yoke']);
    for (const fake of ['imaphide', 'pop3refuse', 'smtprefuse', 'smtphide', 'imap', 'pop3', 'smtp']) {
      assert.deepEqual(fakes[fake]!.clear.filter((l) => SECRET_WORDS.test(l)), [], `${fake} read a login or mail in clear`);
    }
    assert.deepEqual(seen.filter((s) => s.user.startsWith('gil')), []);
  });
});
