// SMTP delivery through a running yoke, several messages per connection: each transaction's recipients are routed
// afresh (real slapd, fake SMTP servers from test/helpers/mail-backends.ts that record which message reached whom),
// the bodies arrive intact (checksums), and curl's one-message delivery still works.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { fakeMail, type FakeMail, type Seen } from '../helpers/mail-backends.ts';
import { LineClient, curl } from '../helpers/mail-clients.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE, startSlapd, type Slapd } from '../helpers/slapd.ts';

const SERVERS = ['mail1.example.org', 'mail2.example.org'] as const;
const PEOPLE_LIST = [
  { uid: 'alice', mailHost: 'mail1.example.org' },
  { uid: 'carol', mailHost: 'mail1.example.org' },
  { uid: 'bob', mailHost: 'mail2.example.org' },
  { uid: 'dan', mailHost: 'mail2.example.org' },
  { uid: 'nodata', mailHost: 'mail1.example.org' },
];

const sha = (text: string): string => createHash('sha256').update(text, 'latin1').digest('hex');
/** RFC 5321 4.5.2 dot-stuffing of CRLF lines. */
const stuff = (text: string): string => text.replace(/^\./gm, '..');

describe('smtp delivery: several transactions per connection, each routed to its recipients\u2019 server', () => {
  let slapd: Slapd;
  const seen: Seen[] = [];
  const backends = new Map<string, FakeMail>();
  let port = 0;
  let run: Running;

  /** The messages a server took, with their recipients, in order. */
  const messages = (server: string) => seen.filter((s) => s.server === server && s.kind === 'data');
  const mark = () => seen.length;
  const since = (at: number) => seen.slice(at);

  /** An SMTP session from EHLO on, with a helper for one whole transaction. */
  async function session(): Promise<LineClient> {
    const c = await LineClient.connect(port);
    c.socket.setNoDelay(true);
    await c.expect(/^220 .*\r\n/);
    c.send('EHLO mta.test\r\n');
    await c.expect(/250 [^\r]*\r\n/);
    return c;
  }
  async function transaction(c: LineClient, rcpt: string, content: string): Promise<string> {
    c.send(`MAIL FROM:<sender@example.net>\r\n`);
    await c.expect(/^250 2\.1\.0 .*\r\n/);
    c.send(`RCPT TO:<${rcpt}>\r\n`);
    await c.expect(/^250 2\.1\.5 .*\r\n/);
    c.send('DATA\r\n');
    await c.expect(/^354 .*\r\n/);
    c.send(`${content}.\r\n`);
    return c.expect(/^250 2\.0\.0 queued on .*\r\n/);
  }

  before(async () => {
    slapd = await startSlapd({ people: PEOPLE_LIST });
    for (const s of SERVERS) backends.set(s, await fakeMail(s, 'smtp', seen));
    const [p, admin] = await freePorts(2) as [number, number];
    port = p;
    const file = writeConfig([
      `admin: { listen: 127.0.0.1:${admin}, token: env:ADMIN_TOKEN }`,
      'directories:',
      `  people: { ldap: { url: "${slapd.url}", bind_dn: "${ADMIN_DN}", password: "env:LDAP_PASSWORD", base: "${PEOPLE}" } }`,
      'services:',
      '  - name: smtp',
      `    listen: 127.0.0.1:${port}`,
      '    mode: smtp',
      '    connect_timeout: 1s',
      '    directory: people',
      '    servers:',
      ...SERVERS.map((s) => `      - { name: ${s}, address: 127.0.0.1:${backends.get(s)?.port} }`),
      '',
    ].join('\n'));
    run = await startYoke(file, { LDAP_PASSWORD: ADMIN_PASSWORD, ADMIN_TOKEN: 'token' });
  });

  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all([...backends.values()].map((b) => b.close()));
    await slapd.remove();
  });

  it('two messages for recipients on two servers each land on their own server, bodies intact', async () => {
    const at = mark();
    const c = await session();
    const one = 'Subject: one\r\n\r\nfor alice\r\n';
    const two = `Subject: two\r\n\r\nfor bob ${'x'.repeat(3000)}\r\n`;
    assert.match(await transaction(c, 'alice@example.org', one), /queued on mail1\.example\.org/);
    assert.match(await transaction(c, 'bob@example.org', two), /queued on mail2\.example\.org/);
    c.send('QUIT\r\n');
    await c.expect(/^221 .*\r\n/);
    await c.closed;
    const got = since(at).filter((s) => s.kind === 'data').map((s) => [s.server, s.user, sha(s.body ?? '')]);
    assert.deepEqual(got, [['mail1.example.org', 'alice@example.org', sha(one)], ['mail2.example.org', 'bob@example.org', sha(two)]]);
    // The first server was left with QUIT when the second transaction routed elsewhere.
    await sleep(100);
    assert.ok(since(at).some((s) => s.kind === 'quit' && s.server === 'mail1.example.org'));
  });

  it('a dot-stuffed body with `..` lines, and a terminator written byte by byte, arrive exactly', async () => {
    const at = mark();
    const c = await session();
    const text = '.\r\n..\r\n.leading dot\r\nmiddle . dot\r\n...\r\n';
    const wire = stuff(text);
    assert.match(await transaction(c, 'alice@example.org', wire), /queued on mail1/);
    c.send('MAIL FROM:<sender@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n');
    await c.expect(/^250 2\.1\.0 .*\r\n250 2\.1\.5 .*\r\n354 .*\r\n/);
    c.send('split body\r\nlast line');
    for (const ch of '\r\n.\r\n') { await sleep(20); c.send(ch); }
    await c.expect(/^250 2\.0\.0 queued on mail2\.example\.org\r\n/);
    c.end();
    const got = since(at).filter((s) => s.kind === 'data');
    assert.deepEqual(got.map((s) => [s.server, s.body]), [['mail1.example.org', wire], ['mail2.example.org', 'split body\r\nlast line\r\n']]);
  });

  it('MAIL/RCPT/DATA pipelined in the same write as the end of data are neither lost nor reordered', async () => {
    const at = mark();
    const c = await session();
    c.send('MAIL FROM:<s@example.net>\r\nRCPT TO:<dan@example.org>\r\nDATA\r\n');
    await c.expect(/^250 2\.1\.0 .*\r\n250 2\.1\.5 .*\r\n354 .*\r\n/);
    c.send('first\r\n.\r\nMAIL FROM:<s@example.net>\r\nRCPT TO:<carol@example.org>\r\nRCPT TO:<dan@example.org>\r\nDATA\r\n');
    const replies = await c.expect(/354 .*\r\n/);
    assert.match(replies, /^250 2\.0\.0 queued on mail2\.example\.org\r\n250 2\.1\.0 Ok\r\n250 2\.1\.5 Ok on mail1\.example\.org\r\n451 4\.3\.0 [^\r]*\r\n354 /);
    c.send('second\r\n.\r\nQUIT\r\n');
    await c.expect(/^250 2\.0\.0 queued on mail1\.example\.org\r\n221 .*\r\n/);
    await c.closed;
    assert.deepEqual(since(at).filter((s) => s.kind === 'data').map((s) => [s.server, s.user, s.body]), [
      ['mail2.example.org', 'dan@example.org', 'first\r\n'], ['mail1.example.org', 'carol@example.org', 'second\r\n'],
    ]);
  });

  it('RSET between transactions, and the same server twice in a row on one backend connection', async () => {
    const at = mark();
    const c = await session();
    await transaction(c, 'alice@example.org', 'a\r\n');
    c.send('RSET\r\n');
    await c.expect(/^250 2\.0\.0 Ok\r\n/);
    await transaction(c, 'carol@example.org', 'c\r\n');
    c.send('MAIL FROM:<s@example.net>\r\nRCPT TO:<bob@example.org>\r\nRSET\r\n');
    await c.expect(/^250 2\.1\.0 .*\r\n250 2\.1\.5 .*\r\n250 2\.0\.0 Ok\r\n/);
    await transaction(c, 'alice@example.org', 'a again\r\n');
    c.end();
    const data = since(at).filter((s) => s.kind === 'data');
    assert.deepEqual(data.map((s) => [s.server, s.user, s.body]), [
      ['mail1.example.org', 'alice@example.org', 'a\r\n'], ['mail1.example.org', 'carol@example.org', 'c\r\n'], ['mail1.example.org', 'alice@example.org', 'a again\r\n'],
    ]);
    assert.equal(data[0]?.session, data[1]?.session, 'the idle connection was reused');
    assert.notEqual(data[1]?.session, data[2]?.session, 'after the transaction on mail2 a new one was opened');
    assert.ok(!since(at).some((s) => s.kind === 'data' && s.server === 'mail2.example.org'), 'the reset transaction delivered nothing');
  });

  it('a message of 4 MiB is streamed, never held whole (the pending-input limit is 64 KiB), and arrives intact', async () => {
    const at = mark();
    const c = await session();
    const line = `${'0123456789abcdef'.repeat(4)}\r\n`;
    const body = line.repeat((4 << 20) / line.length);
    await transaction(c, 'bob@example.org', body);
    c.end();
    const got = since(at).filter((s) => s.kind === 'data');
    assert.equal(got.length, 1);
    assert.equal(sha(got[0]?.body ?? ''), sha(body));
  });

  it('the server lost mid-message: the client gets 451 4.3.0 after its end of data and can go on', async () => {
    const c = await session();
    c.send('MAIL FROM:<s@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n');
    await c.expect(/354 .*\r\n/);
    c.send('part one\r\n');
    await sleep(100);
    backends.get('mail2.example.org')?.kill();
    await sleep(100);
    c.send('part two\r\n.\r\nNOOP\r\n');
    await c.expect(/^451 4\.3\.0 [^\r]*\r\n250 2\.0\.0 Ok\r\n/);
    const at = mark();
    assert.match(await transaction(c, 'dan@example.org', 'retry\r\n'), /queued on mail2/);
    c.end();
    assert.deepEqual(since(at).filter((s) => s.kind === 'data').map((s) => s.body), ['retry\r\n']);
  });

  it('a server\u2019s 5xx to DATA goes back unchanged and the next transaction starts clean', async () => {
    const at = mark();
    const c = await session();
    c.send('MAIL FROM:<s@example.net>\r\nRCPT TO:<nodata@example.org>\r\nDATA\r\n');
    await c.expect(/^250 2\.1\.0 .*\r\n250 2\.1\.5 .*\r\n554 5\.7\.1 No message for nodata on mail1\.example\.org\r\n/);
    assert.match(await transaction(c, 'bob@example.org', 'after the refusal\r\n'), /queued on mail2/);
    c.end();
    assert.deepEqual(since(at).filter((s) => s.kind === 'data').map((s) => [s.server, s.body]), [['mail2.example.org', 'after the refusal\r\n']]);
  });

  it('curl smtp:// (one message per connection) still delivers to the recipient\u2019s server', async () => {
    const at = mark();
    const body = 'Subject: curl\r\n\r\n.dot line from curl\r\nend\r\n';
    const r = await curl([`smtp://127.0.0.1:${port}/`, '--mail-from', 'sender@example.net', '--mail-rcpt', 'dan@example.org', '-T', '-'], body);
    assert.equal(r.code, 0, r.err);
    const got = since(at).filter((s) => s.kind === 'data');
    assert.deepEqual(got.map((s) => [s.server, s.user]), [['mail2.example.org', 'dan@example.org']]);
    assert.equal(got[0]?.body, stuff(body));
  });
});
