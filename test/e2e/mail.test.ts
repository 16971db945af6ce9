// The mail farm end to end: a running yoke with imap, pop3 and smtp services on a real slapd, in front of small
// fake mail servers (test/helpers/mail-backends.ts) that record who logged in where; real clients (curl, openssl).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { fakeMail, type FakeMail, type Proto, type Seen } from '../helpers/mail-backends.ts';
import { LineClient, curl, sClient } from '../helpers/mail-clients.ts';
import { makePki, type TestPki } from '../helpers/pki.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE, startSlapd, type Slapd } from '../helpers/slapd.ts';

const HOSTLESS = Array.from({ length: 12 }, (_, i) => `user${i}`);
const PEOPLE_LIST = [
  { uid: 'alice', mailHost: 'mail1.example.org' },
  { uid: 'bob', mailHost: 'mail2.example.org' },
  { uid: 'dave', mailHost: 'mail9.example.org' }, // a host no server has: hashed
  ...HOSTLESS.map((uid) => ({ uid })),
];
const PROTOS: Proto[] = ['imap', 'pop3', 'smtp'];
const SERVERS = ['mail1.example.org', 'mail2.example.org'];
const TOKEN = 'mail-test-token';
/** The password of the first test's logins: it must appear in no log line, in clear or base64. */
const PASSWORD = 'hunter2-Zq9';

describe('the mail farm: imap, pop3 and smtp routed per user from LDAP', () => {
  let slapd: Slapd;
  let pki: TestPki;
  const seen: Seen[] = [];
  const backends = new Map<string, FakeMail>(); // `${server}/${proto}`
  const port: Record<string, number> = {};
  let run: Running;
  let dir: string;
  let secureBackend: FakeMail;

  const logins = (proto: Proto, user: string) => seen.filter((s) => s.proto === proto && s.kind === 'login' && s.user === user).map((s) => s.server);
  const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`http://127.0.0.1:${port['admin']}/api/v1${path}`, {
      method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return res.json();
  };
  const affinity = async (user: string) => ((await api('GET', '/mail')) as { affinity: { user: string; server: string; sessions: number }[] }).affinity.filter((a) => a.user === user);
  const readCa = () => readFileSync(pki.caPath, 'utf8');
  const url = (proto: Proto, service: string = proto) => `${proto}://127.0.0.1:${port[service]}/`;

  before(async () => {
    pki = makePki();
    slapd = await startSlapd({ people: PEOPLE_LIST });
    for (const server of SERVERS) for (const proto of PROTOS) backends.set(`${server}/${proto}`, await fakeMail(server, proto, seen));
    const names = ['imap', 'pop3', 'smtp', 'imaps', 'imapreq', 'pop3req', 'smtpreq', 'nodir', 'admin', 'slowimap', 'slowsmtp', 'tlsback', 'tlsbad'];
    const ports = await freePorts(names.length);
    names.forEach((n, i) => { port[n] = ports[i] as number; });
    dir = mkdtempSync(join(tmpdir(), 'yoke-mail-'));
    writeFileSync(join(dir, 'cert.pem'), pki.cert);
    writeFileSync(join(dir, 'key.pem'), pki.key);
    const servers = (proto: Proto) => `    servers:\n${SERVERS.map((s) => `      - { name: ${s}, address: 127.0.0.1:${backends.get(`${s}/${proto}`)?.port} }`).join('\n')}`;
    const tlsKeys = `    tls: { cert: "file:${join(dir, 'cert.pem')}", key: "file:${join(dir, 'key.pem')}" }`;
    const svc = (name: string, proto: Proto, ...extra: string[]) => [
      `  - name: ${name}`, `    listen: 127.0.0.1:${port[name]}`, `    mode: ${proto}`, `    connect_timeout: 1s`, ...extra, servers(proto),
    ].join('\n');
    secureBackend = await fakeMail('mail1.example.org', 'imap', seen, 0, { cert: pki.cert, key: pki.key });
    const secureServers = `    servers:\n      - { name: mail1.example.org, address: 127.0.0.1:${secureBackend.port} }`;
    const file = writeConfig([
      `admin: { listen: 127.0.0.1:${port['admin']}, token: env:ADMIN_TOKEN }`,
      'directories:',
      '  people:',
      '    ldap:',
      `      url: ${slapd.url}`,
      `      bind_dn: ${ADMIN_DN}`,
      '      password: env:LDAP_PASSWORD',
      `      base: ${PEOPLE}`,
      '      cache: 1s',
      '      negative_cache: 1s',
      '      timeout: 1s',
      'services:',
      svc('imap', 'imap', '    directory: people'),
      svc('pop3', 'pop3', '    directory: people'),
      svc('smtp', 'smtp', '    directory: people'),
      svc('imaps', 'imap', '    directory: people', tlsKeys, '    tls_mode: implicit'),
      svc('imapreq', 'imap', '    directory: people', tlsKeys, '    tls_mode: required'),
      svc('pop3req', 'pop3', '    directory: people', tlsKeys, '    tls_mode: required'),
      svc('smtpreq', 'smtp', '    directory: people', tlsKeys, '    tls_mode: required', '    smtp: { delivery: false }'),
      svc('nodir', 'imap'),
      svc('slowimap', 'imap', '    directory: people', '    login_timeout: 1s'),
      svc('slowsmtp', 'smtp', '    directory: people', '    login_timeout: 1s'),
      [`  - name: tlsback`, `    listen: 127.0.0.1:${port['tlsback']}`, '    mode: imap',
        `    backend_tls: { ca: "file:${pki.caPath}", server_name: check.example }`, secureServers].join('\n'),
      [`  - name: tlsbad`, `    listen: 127.0.0.1:${port['tlsbad']}`, '    mode: imap', '    backend_tls: { server_name: check.example }', secureServers].join('\n'),
      '',
    ].join('\n'));
    run = await startYoke(file, { LDAP_PASSWORD: ADMIN_PASSWORD, ADMIN_TOKEN: TOKEN }, 'admin API up');
  });

  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all([...backends.values(), secureBackend].map((b) => b.close()));
    await slapd.remove();
    pki.remove();
  });

  it('users land on their mailHost in each protocol (curl imap://, pop3://, smtp:// with AUTH)', async () => {
    for (const [user, home] of [['alice', 'mail1.example.org'], ['bob', 'mail2.example.org']] as const) {
      const imap = await curl(['-u', `${user}:${PASSWORD}`, url('imap')]);
      assert.equal(imap.code, 0, imap.err);
      assert.match(imap.out, new RegExp(`LIST \\(\\) "/" ${home.replace(/\./g, '\\.')}`));
      const pop3 = await curl(['-u', `${user}:${PASSWORD}`, url('pop3')]);
      assert.equal(pop3.code, 0, pop3.err);
      const smtp = await curl(['-u', `${user}:${PASSWORD}`, url('smtp'), '--mail-from', `${user}@example.org`, '--mail-rcpt', 'someone@example.net', '-T', '-'], 'Subject: hi\r\n\r\nhello\r\n');
      assert.equal(smtp.code, 0, smtp.err);
      for (const proto of PROTOS) assert.deepEqual(logins(proto, user), [home], `${user} over ${proto}`);
    }
  });

  it('logs each route (service, user, server, why) and never a password', () => {
    const routes = run.logs.filter((l) => l.includes('mail route'));
    assert.ok(routes.some((l) => l.includes('"user":"alice"') && l.includes('"server":"mail1.example.org"') && l.includes('"why":"home"')), routes.join('\n'));
    for (const needle of [PASSWORD, Buffer.from(PASSWORD).toString('base64'), Buffer.from(`\0alice\0${PASSWORD}`).toString('base64')]) {
      assert.equal(run.logs.filter((l) => l.includes(needle)).length, 0, needle);
    }
  });

  it('users without a mailHost (or with a host no server has) spread over both servers and stay put, the same in every protocol', async () => {
    const first = new Map<string, string>();
    for (const user of [...HOSTLESS, 'dave']) {
      const r = await curl(['-u', `${user}:pw`, url('imap')]);
      assert.equal(r.code, 0, r.err);
      const m = /LIST \(\) "\/" (\S+)/.exec(r.out);
      assert.ok(m, r.out);
      first.set(user, m[1] as string);
    }
    const counts = SERVERS.map((s) => [...first.values()].filter((x) => x === s).length);
    assert.ok(counts.every((n) => n >= 2), `spread: ${counts.join(' / ')}`);
    for (const user of [...HOSTLESS, 'dave']) {
      const again = await curl(['-u', `${user}:pw`, url('imap')]);
      assert.match(again.out, new RegExp(`"/" ${(first.get(user) as string).replace(/\./g, '\\.')}`), `${user} moved`);
      const pop3 = await curl(['-u', `${user}:pw`, url('pop3')]);
      assert.equal(pop3.code, 0, pop3.err);
      assert.deepEqual(logins('pop3', user), [first.get(user)], `${user} over pop3`);
    }
  });

  it('one user\u2019s concurrent IMAP, POP3 and SMTP sessions are all open on one server at once', async () => {
    const user = 'user3';
    const imap = await LineClient.connect(port['imap'] as number);
    await imap.expect(/\* OK .*\r\n/);
    imap.send(`a LOGIN ${user} pw\r\n`);
    await imap.expect(/a OK .*\r\n/);
    const pop3 = await LineClient.connect(port['pop3'] as number);
    await pop3.expect(/\+OK .*\r\n/);
    pop3.send(`USER ${user}\r\nPASS pw\r\n`);
    await pop3.expect(/\+OK logged in on .*\r\n/);
    const smtp = await LineClient.connect(port['smtp'] as number);
    await smtp.expect(/220 .*\r\n/);
    smtp.send(`EHLO client.test\r\nAUTH PLAIN ${Buffer.from(`\0${user}\0pw`).toString('base64')}\r\n`);
    await smtp.expect(/235 .*\r\n/);
    const where = new Set(PROTOS.map((p) => logins(p, user).at(-1)));
    assert.equal(where.size, 1, [...where].join(', '));
    const home = [...where][0] as string;
    for (const proto of PROTOS) assert.equal(backends.get(`${home}/${proto}`)?.sockets.size, 1, proto);
    imap.send('b NOOP\r\n');
    assert.match(await imap.expect(/b OK .*\r\n/), new RegExp(home.replace(/\./g, '\\.')));
    const sessions = (await api('GET', '/connections')) as { service: string; server: string | null; state: string }[];
    for (const proto of PROTOS) {
      const server = `127.0.0.1:${backends.get(`${home}/${proto}`)?.port}`;
      assert.ok(sessions.some((c) => c.service === proto && c.server === server && c.state === 'established'), `${proto} session in the connection table`);
    }
    for (const c of [imap, pop3, smtp]) c.end();
  });

  it('affinity: while a user has a session open on a drained server, the user\u2019s new sessions in another protocol go there too; the table is in the admin API', async () => {
    const user = 'user7';
    const imap = await LineClient.connect(port['imap'] as number);
    await imap.expect(/\* OK .*\r\n/);
    imap.send(`a LOGIN ${user} pw\r\n`);
    const home = (/completed on (\S+)\r\n/.exec(await imap.expect(/a OK .*\r\n/)) as RegExpExecArray)[1] as string;
    const other = SERVERS.find((s) => s !== home) as string;
    assert.deepEqual(await affinity(user), [{ user, server: home, sessions: 1 }]);
    const drained = `127.0.0.1:${backends.get(`${home}/pop3`)?.port}`;
    await api('POST', `/services/pop3/servers/${drained}/drain`);
    try {
      const pop3 = await LineClient.connect(port['pop3'] as number);
      await pop3.expect(/\+OK .*\r\n/);
      pop3.send(`USER ${user}\r\nPASS pw\r\n`);
      assert.match(await pop3.expect(/\+OK logged in on .*\r\n/), new RegExp(`on ${home.replace(/\./g, '\\.')}`));
      assert.deepEqual(await affinity(user), [{ user, server: home, sessions: 2 }]);
      imap.end();
      pop3.end();
      for (let i = 0; i < 50 && (await affinity(user)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(await affinity(user), []);
      const later = await curl(['-u', `${user}:pw`, url('pop3')]);
      assert.equal(later.code, 0, later.err);
      assert.equal(logins('pop3', user).at(-1), other, 'with no session open, the drained server takes no new one');
    } finally {
      await api('PATCH', `/services/pop3/servers/${drained}`, { weight: 1 });
    }
  });

  it('a failed backend login is passed back unchanged and the client may log in again', async () => {
    const c = await LineClient.connect(port['imap'] as number);
    await c.expect(/\* OK .*\r\n/);
    c.send('a LOGIN bob wrong\r\n');
    assert.match(await c.expect(/a NO .*\r\n/), /a NO \[AUTHENTICATIONFAILED\] Wrong password on mail2\.example\.org\r\n$/);
    c.send('b LOGIN bob right\r\n');
    await c.expect(/b OK LOGIN completed on mail2\.example\.org\r\n/);
    c.end();
  });

  it('a client that half-closes after pipelining its login and commands gets every answer, then the session ends', async () => {
    const c = await LineClient.connect(port['imap'] as number);
    await c.expect(/\* OK .*\r\n/);
    c.send('a LOGIN alice pw\r\nb LIST "" *\r\nc LOGOUT\r\n');
    c.socket.end();
    await c.expect(/a OK LOGIN completed on mail1\.example\.org\r\n/);
    await c.expect(/\* LIST \(\) "\/" mail1\.example\.org\r\nb OK .*\r\n/);
    await c.expect(/c OK LOGOUT completed\r\n/);
    await c.closed;
  });

  it('a hostile user name is an unknown user, never a wildcard', async () => {
    const c = await LineClient.connect(port['imap'] as number);
    await c.expect(/\* OK .*\r\n/);
    c.send('a LOGIN "x)(uid=*" pw\r\n');
    await c.expect(/a NO \[AUTHENTICATIONFAILED\] .*\r\n/);
    c.send('b LOGIN "*" pw\r\n');
    await c.expect(/b NO \[AUTHENTICATIONFAILED\] .*\r\n/);
    c.end();
    const pop3 = await curl(['-u', 'x)(uid=*:pw', url('pop3')]);
    assert.notEqual(pop3.code, 0);
    assert.equal(seen.filter((s) => s.user.includes('*')).length, 0);
  });

  it('without a directory every user is hashed (IMAP service with no directory)', async () => {
    const r = await curl(['-u', 'nobody-in-ldap:pw', url('imap', 'nodir')]);
    assert.equal(r.code, 0, r.err);
    assert.equal(logins('imap', 'nobody-in-ldap').length, 1);
  });

  it('STARTTLS required: no plaintext login in any protocol; after STARTTLS the login goes through (curl --ssl-reqd)', async () => {
    const imap = await LineClient.connect(port['imapreq'] as number);
    assert.match(await imap.expect(/\* OK .*\r\n/), /LOGINDISABLED/);
    imap.send('a LOGIN alice pw\r\n');
    await imap.expect(/a NO \[PRIVACYREQUIRED\] .*\r\n/);
    imap.send('b STARTTLS\r\n');
    await imap.expect(/b OK .*\r\n/);
    await imap.startTls(pki.caPath, readCa());
    imap.send('c LOGIN alice pw\r\n');
    await imap.expect(/c OK .*mail1\.example\.org\r\n/);
    imap.end();
    const pop3 = await LineClient.connect(port['pop3req'] as number);
    await pop3.expect(/\+OK .*\r\n/);
    pop3.send('USER alice\r\n');
    await pop3.expect(/-ERR .*\r\n/);
    pop3.end();
    const smtp = await LineClient.connect(port['smtpreq'] as number);
    await smtp.expect(/220 .*\r\n/);
    smtp.send('EHLO c.test\r\n');
    const ehlo = await smtp.expect(/250 .*\r\n/);
    assert.doesNotMatch(ehlo, /AUTH/);
    smtp.send(`AUTH PLAIN ${Buffer.from('\0alice\0pw').toString('base64')}\r\n`);
    await smtp.expect(/530 5\.7\.0 .*\r\n/);
    smtp.end();
    const before = logins('imap', 'bob').length;
    for (const [proto, svc] of [['imap', 'imapreq'], ['pop3', 'pop3req']] as const) {
      const plain = await curl(['-u', 'bob:pw', url(proto, svc)]);
      assert.notEqual(plain.code, 0, `${proto} logged in in clear`);
      const secured = await curl(['--ssl-reqd', '--cacert', pki.caPath, '-u', 'bob:pw', url(proto, svc)]);
      assert.equal(secured.code, 0, `${proto}: ${secured.err}`);
    }
    const smtps = await curl(['--ssl-reqd', '--cacert', pki.caPath, '-u', 'bob:pw', url('smtp', 'smtpreq'), '--mail-from', 'bob@example.org', '--mail-rcpt', 'x@example.net', '-T', '-'], 'Subject: t\r\n\r\nx\r\n');
    assert.equal(smtps.code, 0, smtps.err);
    assert.equal(logins('imap', 'bob').length, before + 1);
  });

  it('implicit TLS (openssl s_client): the login is routed as in clear', async () => {
    const out = await sClient(port['imaps'] as number, pki.caPath, 'a LOGIN bob pw\nb LOGOUT\n');
    assert.match(out, /\* OK \[CAPABILITY [^\]]*\] yoke ready/);
    assert.doesNotMatch(out, /STARTTLS/);
    assert.match(out, /a OK LOGIN completed on mail2\.example\.org/);
  });

  it('backend_tls: the login goes to the mail server over TLS, verified with the configured CA; a certificate that fails verification is a temporary failure', async () => {
    const r = await curl(['-u', 'tlsuser:pw', url('imap', 'tlsback')]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(logins('imap', 'tlsuser'), ['mail1.example.org']);
    const c = await LineClient.connect(port['tlsbad'] as number);
    await c.expect(/\* OK .*\r\n/);
    c.send('a LOGIN tlsuser2 pw\r\n');
    await c.expect(/a NO \[UNAVAILABLE\] .*\r\n/);
    c.end();
    assert.deepEqual(logins('imap', 'tlsuser2'), []);
  });

  it('SMTP delivery: recipients on another server than the first get 451 4.3.0; the message goes whole to the first one\u2019s server', async () => {
    const c = await LineClient.connect(port['smtp'] as number);
    await c.expect(/220 .*\r\n/);
    c.send('EHLO mta.test\r\n');
    await c.expect(/250 .*\r\n/);
    c.send('MAIL FROM:<sender@example.net>\r\n');
    await c.expect(/250 2\.1\.0 .*\r\n/);
    c.send('RCPT TO:<alice@example.org>\r\n');
    await c.expect(/250 2\.1\.5 Ok on mail1\.example\.org\r\n/);
    c.send('RCPT TO:<bob@example.org>\r\n');
    await c.expect(/451 4\.3\.0 .*\r\n/);
    c.send('RCPT TO:<nosuchuser@example.org>\r\n');
    await c.expect(/550 5\.1\.1 .*\r\n/);
    c.send('DATA\r\n');
    await c.expect(/354 .*\r\n/);
    c.send('Subject: split\r\n\r\nbody\r\n.\r\n');
    await c.expect(/250 2\.0\.0 queued on mail1\.example\.org\r\n/);
    c.end();
    assert.deepEqual(seen.filter((s) => s.proto === 'smtp' && s.kind === 'rcpt' && s.user.endsWith('@example.org') && !s.user.startsWith('someone')).map((s) => [s.server, s.user]), [['mail1.example.org', 'alice@example.org']]);
  });

  it('an oversize line gets the protocol\u2019s error and the connection closes', async () => {
    const imap = await LineClient.connect(port['imap'] as number);
    await imap.expect(/\* OK .*\r\n/);
    imap.send(`a LOGIN ${'x'.repeat(9000)} pw\r\n`);
    await imap.expect(/\* BYE Line too long\r\n/);
    await imap.closed;
    const literal = await LineClient.connect(port['imap'] as number);
    await literal.expect(/\* OK .*\r\n/);
    literal.send('a LOGIN {100000}\r\n');
    await literal.expect(/a BAD Literal too large\r\n/);
    literal.end();
    const smtp = await LineClient.connect(port['smtp'] as number);
    await smtp.expect(/220 .*\r\n/);
    smtp.send(`EHLO ${'x'.repeat(20000)}\r\n`);
    await smtp.expect(/500 5\.5\.6 .*\r\n/);
    await smtp.closed;
  });

  it('a client that does not log in within login_timeout gets the protocol\u2019s words and is closed; a logged-in one stays', async () => {
    const started = Date.now();
    const idle = await LineClient.connect(port['slowimap'] as number);
    await idle.expect(/\* OK .*\r\n/);
    idle.send('a CAPABILITY\r\n');
    await idle.expect(/a OK .*\r\n/);
    await idle.expect(/\* BYE Login timeout\r\n/, 5000);
    await idle.closed;
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 4000, `closed after ${took} ms`);
    const smtp = await LineClient.connect(port['slowsmtp'] as number);
    await smtp.expect(/220 .*\r\n/);
    await smtp.expect(/421 4\.4\.2 .*\r\n/, 5000);
    await smtp.closed;
    const busy = await LineClient.connect(port['slowimap'] as number);
    await busy.expect(/\* OK .*\r\n/);
    busy.send('a LOGIN alice pw\r\n');
    await busy.expect(/a OK .*\r\n/);
    await new Promise((r) => setTimeout(r, 2500));
    busy.send('b NOOP\r\n');
    await busy.expect(/b OK .*\r\n/);
    busy.end();
  });

  it('a backend killed mid-session ends the client\u2019s session; the next login is answered again', async () => {
    const c = await LineClient.connect(port['imap'] as number);
    await c.expect(/\* OK .*\r\n/);
    c.send('a LOGIN alice pw\r\n');
    await c.expect(/a OK .*\r\n/);
    backends.get('mail1.example.org/imap')?.kill();
    await c.closed;
    const r = await curl(['-u', 'alice:pw', url('imap')]);
    assert.equal(r.code, 0, r.err);
  });

  it('a backend that is down: a temporary failure, never another server', async () => {
    const mail2 = backends.get('mail2.example.org/pop3') as FakeMail;
    await mail2.close();
    try {
      const c = await LineClient.connect(port['pop3'] as number);
      await c.expect(/\+OK .*\r\n/);
      c.send('USER bob\r\nPASS pw\r\n');
      await c.expect(/-ERR \[SYS\/TEMP\] .*\r\n/);
      c.end();
      assert.deepEqual(logins('pop3', 'bob').filter((s) => s !== 'mail2.example.org'), []);
    } finally {
      backends.set('mail2.example.org/pop3', await fakeMail('mail2.example.org', 'pop3', seen, mail2.port));
    }
  });

  it('LDAP stopped: a temporary failure in each protocol\u2019s words; restarted: logins work again', async () => {
    await slapd.stop();
    await new Promise((r) => setTimeout(r, 1200)); // past the 1 s cache
    try {
      const imap = await LineClient.connect(port['imap'] as number);
      await imap.expect(/\* OK .*\r\n/);
      imap.send('a LOGIN user5 pw\r\n');
      await imap.expect(/a NO \[UNAVAILABLE\] .*\r\n/, 8000);
      imap.end();
      const pop3 = await LineClient.connect(port['pop3'] as number);
      await pop3.expect(/\+OK .*\r\n/);
      pop3.send('USER user5\r\nPASS pw\r\n');
      await pop3.expect(/-ERR \[SYS\/TEMP\] .*\r\n/, 8000);
      pop3.end();
      const smtp = await LineClient.connect(port['smtp'] as number);
      await smtp.expect(/220 .*\r\n/);
      smtp.send(`EHLO c.test\r\nAUTH PLAIN ${Buffer.from('\0user5\0pw').toString('base64')}\r\n`);
      await smtp.expect(/454 4\.7\.0 .*\r\n/, 8000);
      smtp.send('MAIL FROM:<a@example.net>\r\nRCPT TO:<user5@example.org>\r\n');
      await smtp.expect(/451 4\.3\.0 .*\r\n/, 8000);
      smtp.end();
    } finally {
      await slapd.restart();
    }
    const r = await curl(['-u', 'user5:pw', url('imap')]);
    assert.equal(r.code, 0, r.err);
  });
});
