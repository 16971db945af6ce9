// Operating the mail farm: directories across reloads (kept when unchanged, opened anew when changed, closed when
// removed), a directory that does not answer, and passive health (a mail server that refuses connects goes down;
// its hashed users move, its homed users get a temporary failure).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { fakeMail, type FakeMail, type Seen } from '../helpers/mail-backends.ts';
import { LineClient, curl } from '../helpers/mail-clients.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE, startSlapd, type Slapd } from '../helpers/slapd.ts';

const TOKEN = 'mail-ops-token';
const HOSTLESS = Array.from({ length: 10 }, (_, i) => `user${i}`);

describe('operating the mail farm', () => {
  let slapd: Slapd;
  const seen: Seen[] = [];
  let mail1: FakeMail, mail2: FakeMail;
  let imapPort: number, adminPort: number;
  let file: string;
  let run: Running;

  const config = (directory: string | undefined) => [
    `admin: { listen: 127.0.0.1:${adminPort}, token: env:ADMIN_TOKEN }`,
    ...(directory === undefined ? [] : [
      'directories:', '  people:', '    ldap:', `      url: ${slapd.url}`, `      bind_dn: ${ADMIN_DN}`, '      password: env:LDAP_PASSWORD',
      `      base: ${PEOPLE}`, `      cache: ${directory}`, '      timeout: 1s',
    ]),
    'services:',
    '  - name: imap',
    `    listen: 127.0.0.1:${imapPort}`,
    '    mode: imap',
    ...(directory === undefined ? [] : ['    directory: people']),
    '    connect_timeout: 1s',
    '    health: { type: tcp, interval: 1h, passive_fall: 1 }',
    '    servers:',
    `      - { name: mail1.example.org, address: 127.0.0.1:${mail1.port} }`,
    `      - { name: mail2.example.org, address: 127.0.0.1:${mail2.port} }`,
    '',
  ].join('\n');

  const api = async (method: string, path: string): Promise<unknown> => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.ok(res.ok, `${method} ${path}: ${res.status}`);
    return res.json();
  };
  const directories = async () => ((await api('GET', '/mail')) as { directories: Record<string, { lookups: number }> }).directories;
  const login = async (user: string) => {
    const r = await curl(['-u', `${user}:pw`, `imap://127.0.0.1:${imapPort}/`]);
    return r.code === 0 ? (/"\/" (\S+)/.exec(r.out)?.[1] ?? r.out) : `curl ${r.code}`;
  };

  before(async () => {
    slapd = await startSlapd({ people: [{ uid: 'alice', mailHost: 'mail1.example.org' }, { uid: 'bob', mailHost: 'mail2.example.org' }, ...HOSTLESS.map((uid) => ({ uid }))] });
    [mail1, mail2] = [await fakeMail('mail1.example.org', 'imap', seen), await fakeMail('mail2.example.org', 'imap', seen)];
    [imapPort, adminPort] = (await freePorts(2)) as [number, number];
    file = writeConfig(config('60s'));
    run = await startYoke(file, { LDAP_PASSWORD: ADMIN_PASSWORD, ADMIN_TOKEN: TOKEN }, 'admin API up');
  });

  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all([mail1.close(), mail2.close()]);
    await slapd.remove();
  });

  it('a reload keeps an unchanged directory (its cache and counters), opens a changed one anew, and closes a removed one', async () => {
    assert.equal(await login('alice'), 'mail1.example.org');
    assert.equal((await directories())['people']?.lookups, 1);
    await api('POST', '/reload');
    assert.equal(await login('alice'), 'mail1.example.org');
    assert.equal((await directories())['people']?.lookups, 2, 'kept: the second lookup counted on the same directory');
    writeFileSync(file, config('30s'));
    await api('POST', '/reload');
    assert.equal((await directories())['people']?.lookups, 0, 'changed: a new directory');
    assert.equal(await login('bob'), 'mail2.example.org');
    writeFileSync(file, config(undefined));
    await api('POST', '/reload');
    assert.deepEqual(await directories(), {});
    assert.match(await login('nobody-in-ldap'), /^mail[12]\.example\.org$/, 'without a directory every user is hashed');
    writeFileSync(file, config('60s'));
    await api('POST', '/reload');
  });

  it('a reload that fails to apply (a listen address taken) keeps the running directory open and in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const lookups = (await directories())['people']?.lookups ?? 0;
      writeFileSync(file, `${config('15s')}  - name: clash\n    listen: 127.0.0.1:${taken}\n    servers: [{ address: 127.0.0.1:9 }]\n`);
      const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 422);
      assert.equal(await login('user8'), await login('user8'));
      assert.match(await login('user8'), /^mail[12]\.example\.org$/);
      assert.ok(((await directories())['people']?.lookups ?? 0) > lookups, 'the same directory answered');
    } finally {
      writeFileSync(file, config('60s'));
      await new Promise((r) => blocker.close(r));
    }
  });

  it('a directory that does not answer (slapd stopped with SIGSTOP): a temporary failure after its timeout; answering again: logins work', async () => {
    const pid = slapd.pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      const c = await LineClient.connect(imapPort);
      await c.expect(/\* OK .*\r\n/);
      const started = Date.now();
      c.send('a LOGIN user9 pw\r\n');
      await c.expect(/a NO \[UNAVAILABLE\] .*\r\n/, 5000);
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 3000, `answered after ${took} ms`);
      c.end();
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.match(await login('user9'), /^mail[12]\.example\.org$/);
  });

  it('passive health: a mail server refusing connects goes down; its homed users get a temporary failure, its hashed users move', async () => {
    const before = new Map<string, string>();
    for (const u of HOSTLESS) before.set(u, await login(u));
    const onMail2 = HOSTLESS.filter((u) => before.get(u) === 'mail2.example.org');
    assert.ok(onMail2.length > 0);
    const port = mail2.port;
    await mail2.close();
    try {
      const c = await LineClient.connect(imapPort);
      await c.expect(/\* OK .*\r\n/);
      c.send('a LOGIN bob pw\r\n');
      await c.expect(/a NO \[UNAVAILABLE\] .*\r\n/);
      c.end();
      const view = (await api('GET', '/services/imap')) as { servers: { name: string; state: string }[] };
      assert.equal(view.servers.find((s) => s.name === 'mail2.example.org')?.state, 'down');
      for (const u of onMail2) assert.equal(await login(u), 'mail1.example.org', `${u} moves while mail2 is down`);
      for (const u of HOSTLESS.filter((x) => !onMail2.includes(x))) assert.equal(await login(u), before.get(u), `${u} stays`);
      const again = await LineClient.connect(imapPort);
      await again.expect(/\* OK .*\r\n/);
      again.send('a LOGIN bob pw\r\n');
      await again.expect(/a NO \[UNAVAILABLE\] .*\r\n/);
      again.end();
      assert.equal(seen.filter((s) => s.user === 'bob' && s.server !== 'mail2.example.org').length, 0, 'bob never on another server');
    } finally {
      mail2 = await fakeMail('mail2.example.org', 'imap', seen, port);
    }
  });
});
