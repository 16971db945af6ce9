// A real Dovecot behind yoke: alice's mailHost is the Dovecot machine; bob's is a fake server. curl logs in through
// yoke over IMAP and POP3 and gets Dovecot's own answers; a wrong password gets Dovecot's refusal unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { startDovecot, type Dovecot } from '../helpers/dovecot.ts';
import { fakeMail, type FakeMail, type Seen } from '../helpers/mail-backends.ts';
import { LineClient, curl } from '../helpers/mail-clients.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE, startSlapd, type Slapd } from '../helpers/slapd.ts';

const PASSWORD = 'dovecot-pw';

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
    const imap = await curl(['-u', `alice:${PASSWORD}`, `imap://127.0.0.1:${imapPort}/`]);
    assert.equal(imap.code, 0, imap.err);
    assert.match(imap.out, /\* LIST \(.*\) "\." INBOX/);
    const pop3 = await curl(['-u', `alice:${PASSWORD}`, `pop3://127.0.0.1:${pop3Port}/`]);
    assert.equal(pop3.code, 0, pop3.err);
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
