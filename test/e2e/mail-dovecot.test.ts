// A real Dovecot behind yoke: alice's mailHost is the Dovecot machine; bob's is a fake server. curl logs in through
// yoke over IMAP and POP3 and gets Dovecot's own answers; a wrong password gets Dovecot's refusal unchanged. Then a
// Dovecot with `ssl = required` (no login in clear) behind backend_tls mode starttls: the logins go over STARTTLS.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { startDovecot, type Dovecot } from '../helpers/dovecot.ts';
import { fakeMail, type FakeMail, type Seen } from '../helpers/mail-backends.ts';
import { LineClient, curl } from '../helpers/mail-clients.ts';
import { makePki, type TestPki } from '../helpers/pki.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE, startSlapd, type Slapd } from '../helpers/slapd.ts';

const PASSWORD = 'dovecot-pw';

/** alice logs in through yoke with curl: over IMAP (her INBOX listed) and over POP3. */
async function aliceLogsIn(imapPort: number, pop3Port: number): Promise<void> {
  const imap = await curl(['-u', `alice:${PASSWORD}`, `imap://127.0.0.1:${imapPort}/`]);
  assert.equal(imap.code, 0, imap.err);
  assert.match(imap.out, /\* LIST \(.*\) "\." INBOX/);
  const pop3 = await curl(['-u', `alice:${PASSWORD}`, `pop3://127.0.0.1:${pop3Port}/`]);
  assert.equal(pop3.code, 0, pop3.err);
}

describe('the mail farm in front of a real Dovecot', () => {
  let slapd: Slapd;
  let dovecot: Dovecot;
  const seen: Seen[] = [];
  let fakes: FakeMail[];
  let imapPort: number, pop3Port: number;
  let run: Running;

  before(async () => {
    slapd = await startSlapd({ people: [{ uid: 'alice', mailHost: 'dovecot.example.org' }, { uid: 'bob', mailHost: 'fake.example.org' }] });
    dovecot = await startDovecot(PASSWORD);
    fakes = [await fakeMail('fake.example.org', 'imap', seen), await fakeMail('fake.example.org', 'pop3', seen)];
    [imapPort, pop3Port] = (await freePorts(2)) as [number, number];
    const svc = (proto: 'imap' | 'pop3', port: number, real: number, fake: number) => [
      `  - name: ${proto}`, `    listen: 127.0.0.1:${port}`, `    mode: ${proto}`, '    directory: people', '    servers:',
      `      - { name: dovecot.example.org, address: 127.0.0.1:${real} }`, `      - { name: fake.example.org, address: 127.0.0.1:${fake} }`,
    ];
    const file = writeConfig([
      'directories:', '  people:', '    ldap:', `      url: ${slapd.url}`, `      bind_dn: ${ADMIN_DN}`, '      password: env:LDAP_PASSWORD', `      base: ${PEOPLE}`,
      'services:',
      ...svc('imap', imapPort, dovecot.imapPort, fakes[0]!.port),
      ...svc('pop3', pop3Port, dovecot.pop3Port, fakes[1]!.port),
      '',
    ].join('\n'));
    run = await startYoke(file, { LDAP_PASSWORD: ADMIN_PASSWORD }, 'service up');
  });

  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all(fakes.map((f) => f.close()));
    await dovecot.stop();
    await slapd.remove();
  });

  it('IMAP and POP3 logins of alice reach Dovecot through yoke (curl), bob\u2019s reach his server', async () => {
    await aliceLogsIn(imapPort, pop3Port);
    const bob = await curl(['-u', `bob:${PASSWORD}`, `imap://127.0.0.1:${imapPort}/`]);
    assert.equal(bob.code, 0, bob.err);
    assert.match(bob.out, /fake\.example\.org/);
    const log = dovecot.log();
    assert.match(log, /imap-login: Info: Login: user=<alice>, method=PLAIN/);
    assert.match(log, /pop3-login: Info: Login: user=<alice>, method=PLAIN/);
    assert.doesNotMatch(log, /user=<bob>/);
    assert.deepEqual(seen.filter((s) => s.kind === 'login').map((s) => s.user), ['bob']);
  });

  it('Dovecot\u2019s refusal of a wrong password reaches the client unchanged, under the client\u2019s tag; then a right one works', async () => {
    const c = await LineClient.connect(imapPort);
    await c.expect(/\* OK .*\r\n/);
    c.send('t1 LOGIN alice wrong-password\r\n');
    assert.match(await c.expect(/t1 NO .*\r\n/), /t1 NO \[AUTHENTICATIONFAILED\] Authentication failed\.\r\n$/);
    // yoke logs in again over a new connection; Dovecot's anvil delays it (auth penalty, ~4 s after one failure).
    c.send(`t2 LOGIN alice ${PASSWORD}\r\n`);
    await c.expect(/t2 OK .*\r\n/, 10_000);
    c.send('t3 SELECT INBOX\r\n');
    await c.expect(/t3 OK \[READ-WRITE\] .*\r\n/);
    c.send('t4 LOGOUT\r\n');
    await c.expect(/t4 OK .*\r\n/);
    await c.closed;
  });
});

/** Writes `lines` to host:port in clear, one after each answer, and returns all that came back once `until` matched. */
function clearDialogue(host: string, port: number, lines: string[], until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let got = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no ${until} in ${JSON.stringify(got)}`)); }, 5000);
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (until.test(got)) { clearTimeout(timer); s.destroy(); resolve(got); return; }
      if (got.endsWith('\r\n')) { const next = lines.shift(); if (next !== undefined) s.write(next); }
    });
  });
}

describe('a Dovecot that requires TLS (ssl = required) behind backend_tls mode starttls', () => {
  let pki: TestPki;
  let dovecot: Dovecot;
  let imapPort: number, pop3Port: number;
  let run: Running;

  before(async () => {
    pki = makePki();
    dovecot = await startDovecot(PASSWORD, { cert: pki.cert, key: pki.key });
    [imapPort, pop3Port] = (await freePorts(2)) as [number, number];
    const svc = (proto: 'imap' | 'pop3', port: number, real: number) => [
      `  - name: ${proto}`, `    listen: 127.0.0.1:${port}`, `    mode: ${proto}`,
      `    backend_tls: { mode: starttls, ca: "file:${pki.caPath}", server_name: check.example }`,
      '    servers:', `      - { name: dovecot.example.org, address: ${dovecot.host}:${real} }`,
    ];
    run = await startYoke(writeConfig(['services:', ...svc('imap', imapPort, dovecot.imapPort), ...svc('pop3', pop3Port, dovecot.pop3Port), ''].join('\n')), {}, 'service up');
  });

  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await dovecot.stop();
    pki.remove();
  });

  it('Dovecot itself refuses a login in clear on its IMAP and POP3 ports', async () => {
    const imap = await clearDialogue(dovecot.host, dovecot.imapPort, [`a LOGIN alice ${PASSWORD}\r\n`], /a (OK|NO|BAD) .*\r\n/);
    assert.match(imap, /^\* OK \[CAPABILITY [^\]]*STARTTLS[^\]]*LOGINDISABLED/);
    assert.match(imap, /a NO \[PRIVACYREQUIRED\] /);
    const pop3 = await clearDialogue(dovecot.host, dovecot.pop3Port, ['USER alice\r\n'], /\r\n(\+OK|-ERR)[^\r\n]*\r\n/);
    assert.match(pop3, /-ERR \[AUTH\] Plaintext authentication disallowed/);
    assert.doesNotMatch(dovecot.log(), /Login: user=<alice>/);
  });

  it('IMAP and POP3 logins through yoke (curl) reach it over STARTTLS', async () => {
    await aliceLogsIn(imapPort, pop3Port);
    const log = dovecot.log();
    assert.match(log, /imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.2, .*TLS/);
    assert.match(log, /pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.2, .*TLS/);
  });
});
