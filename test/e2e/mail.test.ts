// The mail farm end to end: a running yoke with imap, pop3 and smtp services on a real slapd, in front of small
// fake mail servers (test/helpers/mail-backends.ts) that record who logged in where; real clients (curl, openssl).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

describe('the mail farm: imap, pop3 and smtp routed per user from LDAP', () => {
  let slapd: Slapd;
  let pki: TestPki;
  const seen: Seen[] = [];
  const backends = new Map<string, FakeMail>(); // `${server}/${proto}`
  const port: Record<string, number> = {};
  let run: Running;
  let dir: string;

  const logins = (proto: Proto, user: string) => seen.filter((s) => s.proto === proto && s.kind === 'login' && s.user === user).map((s) => s.server);
  const url = (proto: Proto, service = proto) => `${proto}://127.0.0.1:${port[service]}/`;

  before(async () => {
    pki = makePki();
    slapd = await startSlapd({ people: PEOPLE_LIST });
    for (const server of SERVERS) for (const proto of PROTOS) backends.set(`${server}/${proto}`, await fakeMail(server, proto, seen));
    const names = ['imap', 'pop3', 'smtp', 'imaps', 'imapreq', 'pop3req', 'smtpreq', 'nodir'];
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
    const file = writeConfig([
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
      '',
    ].join('\n'));
    run = await startYoke(file, { LDAP_PASSWORD: ADMIN_PASSWORD }, 'service up');
  });

  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all([...backends.values()].map((b) => b.close()));
    await slapd.remove();
    pki.remove();
  });

  it('users land on their mailHost in each protocol (curl imap://, pop3://, smtp:// with AUTH)', async () => {
    for (const [user, home] of [['alice', 'mail1.example.org'], ['bob', 'mail2.example.org']] as const) {
      const imap = await curl(['-u', `${user}:secret`, url('imap')]);
      assert.equal(imap.code, 0, imap.err);
      assert.match(imap.out, new RegExp(`LIST \\(\\) "/" ${home.replace(/\./g, '\\.')}`));
      const pop3 = await curl(['-u', `${user}:secret`, url('pop3')]);
      assert.equal(pop3.code, 0, pop3.err);
      const smtp = await curl(['-u', `${user}:secret`, url('smtp'), '--mail-from', `${user}@example.org`, '--mail-rcpt', 'someone@example.net', '-T', '-'], 'Subject: hi\r\n\r\nhello\r\n');
      assert.equal(smtp.code, 0, smtp.err);
      for (const proto of PROTOS) assert.deepEqual(logins(proto, user), [home], `${user} over ${proto}`);
    }
  });
});
