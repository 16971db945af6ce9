// The user directory against a real OpenLDAP slapd (test/helpers/slapd.ts): found with and without a mail host,
// unknown users, hostile names that match only themselves, the caches on a manual clock, shared in-flight queries,
// timeouts, slapd stopped and restarted under a live pool, a refused bind, StartTLS and ldaps.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { YokeError } from '../../core/errors.ts';
import { Directory, type DirectorySpec, type LookupAnswer } from '../../services/mail/directory.ts';
import { makePki, type TestPki } from '../helpers/pki.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE, startSlapd, type Person, type Slapd } from '../helpers/slapd.ts';

const PEOPLE_LIST: readonly Person[] = [
  { uid: 'alice', mailHost: 'mail1.example.org' },
  { uid: 'bob', mailHost: '127.0.0.12' },
  { uid: 'carol' },
  // Hostile names, each with its own host, beside the users an unescaped filter would wrongly match.
  { uid: 'a*b', mailHost: 'star.example' },
  { uid: 'ab', mailHost: 'ab.example' },
  { uid: 'aXb', mailHost: 'axb.example' },
  { uid: 'x)(uid=*', mailHost: 'paren.example' },
  { uid: 'back\\slash', mailHost: 'backslash.example' },
  { uid: 'josé', mailHost: 'utf8.example' },
  { uid: 'Zoë Ünal', mailHost: 'utf8-2.example' },
  { uid: '日本', mailHost: 'cjk.example' },
];

const found = (host: string | undefined): LookupAnswer => ({ kind: 'found', host });
const unknown: LookupAnswer = { kind: 'unknown' };

function spec(url: string, over: Partial<DirectorySpec> = {}): DirectorySpec {
  return {
    name: 'people', url, startTls: false, bindDn: ADMIN_DN, password: ADMIN_PASSWORD, base: PEOPLE, filter: '(uid={user})',
    hostAttribute: 'mailHost', cacheMs: 60_000, negativeCacheMs: 5_000, timeoutMs: 2_000, poolSize: 2, tls: { verify: true }, ...over,
  };
}

function unavailable(a: LookupAnswer, pattern: RegExp): void {
  assert.equal(a.kind, 'unavailable', JSON.stringify(a));
  assert.match((a as { reason: string }).reason, pattern);
}

describe('Directory against slapd', () => {
  let slapd: Slapd;
  let pki: TestPki;
  const dirs: Directory[] = [];
  const open = (s: DirectorySpec, clock?: ManualClock): Directory => { const d = new Directory(s, clock); dirs.push(d); return d; };

  before(async () => {
    pki = makePki();
    slapd = await startSlapd({ people: PEOPLE_LIST, tls: { certPath: join(pki.dir, 'server.pem'), keyPath: join(pki.dir, 'server.key'), caPath: pki.caPath } });
  });
  after(async () => {
    for (const d of dirs) await d.close();
    await slapd?.remove();
    pki?.remove();
  });

  it('finds users with their mailHost, users without one, and no one else', async () => {
    const d = open(spec(slapd.url));
    assert.deepEqual(await d.lookup('alice'), found('mail1.example.org'));
    assert.deepEqual(await d.lookup('bob'), found('127.0.0.12'));
    assert.deepEqual(await d.lookup('carol'), found(undefined));
    assert.deepEqual(await d.lookup('nobody'), unknown);
    assert.deepEqual(await d.lookup(''), unknown);
    // uid matches without regard to case (caseIgnoreMatch in the schema).
    assert.deepEqual(await d.lookup('ALICE'), found('mail1.example.org'));
  });

  it('hostile names match only themselves', async () => {
    const d = open(spec(slapd.url));
    assert.deepEqual(await d.lookup('a*b'), found('star.example'));
    assert.deepEqual(await d.lookup('x)(uid=*'), found('paren.example'));
    assert.deepEqual(await d.lookup('back\\slash'), found('backslash.example'));
    assert.deepEqual(await d.lookup('josé'), found('utf8.example'));
    assert.deepEqual(await d.lookup('Zoë Ünal'), found('utf8-2.example'));
    assert.deepEqual(await d.lookup('日本'), found('cjk.example'));
    for (const name of ['*', 'a*', '*b', 'al*', 'alice)(uid=*', '*)(|(uid=*', 'x)(uid=', 'alice\0', '\\', 'back\\5cslash',
      'jos\\c3\\a9', 'josé*', '*)(objectClass=*', 'alice)(mailHost=*']) {
      assert.deepEqual(await d.lookup(name), unknown, JSON.stringify(name));
    }
  });

  it('caches a found user for cacheMs and an unknown one for the shorter negativeCacheMs', async () => {
    const clock = new ManualClock();
    const d = open(spec(slapd.url, { cacheMs: 60_000, negativeCacheMs: 5_000 }), clock);
    assert.deepEqual(await d.lookup('alice'), found('mail1.example.org'));
    assert.deepEqual(await d.lookup('nobody'), unknown);
    assert.deepEqual(await d.lookup('alice'), found('mail1.example.org'));
    assert.deepEqual(await d.lookup('nobody'), unknown);
    assert.equal(d.counters().queries, 2);
    assert.equal(d.counters().hits, 2);
    clock.advance(5_001);
    assert.deepEqual(await d.lookup('alice'), found('mail1.example.org'));
    assert.deepEqual(await d.lookup('nobody'), unknown);
    assert.equal(d.counters().queries, 3, 'only the unknown user was asked again');
    clock.advance(55_000);
    assert.deepEqual(await d.lookup('alice'), found('mail1.example.org'));
    assert.equal(d.counters().queries, 4, 'the found user expired after cacheMs');
    assert.deepEqual({ ...d.counters(), connects: 0 }, { lookups: 7, hits: 3, misses: 4, shared: 0, queries: 4, errors: 0, connects: 0 });
  });

  it('shares one query among concurrent lookups of one user', async () => {
    const d = open(spec(slapd.url));
    const answers = await Promise.all(Array.from({ length: 20 }, () => d.lookup('bob')));
    for (const a of answers) assert.deepEqual(a, found('127.0.0.12'));
    assert.equal(d.counters().queries, 1);
    assert.equal(d.counters().shared, 19);
  });

  it('keeps to its pool size under many concurrent users', async () => {
    const d = open(spec(slapd.url, { poolSize: 2 }));
    const users = PEOPLE_LIST.map((p) => p.uid);
    const answers = await Promise.all([...users, ...users.map((u) => `${u}-missing`)].map((u) => d.lookup(u)));
    answers.slice(0, users.length).forEach((a, i) => assert.deepEqual(a, found(PEOPLE_LIST[i]?.mailHost), users[i]));
    for (const a of answers.slice(users.length)) assert.deepEqual(a, unknown);
    assert.equal(d.counters().connects, 2);
    assert.deepEqual(d.size().open, 2);
  });

  it('a bad bind password is unavailable with a clear reason that does not hold the password', async () => {
    const d = open(spec(slapd.url, { password: 'wrong-secret-123' }));
    const a = await d.lookup('alice');
    unavailable(a, /bind as cn=admin,dc=example,dc=org at ldap:\/\/127\.0\.0\.1:\d+ refused: Invalid Credentials/i);
    assert.ok(!JSON.stringify(a).includes('wrong-secret-123'));
    assert.equal(d.counters().errors, 1);
    // An unavailable answer is not cached: the next lookup asks again.
    unavailable(await d.lookup('alice'), /refused/);
    assert.equal(d.counters().connects, 2);
  });

  it('a filter matching two entries for a user is unavailable, not a guess', async () => {
    const d = open(spec(slapd.url, { filter: '(|(uid={user})(uid=alice))' }));
    unavailable(await d.lookup('bob'), /more than one entry/);
    assert.deepEqual(await d.lookup('alice'), found('mail1.example.org'));
  });

  it('a base that does not exist is unavailable, with the server\'s word for it', async () => {
    const d = open(spec(slapd.url, { base: 'ou=nowhere,dc=example,dc=org' }));
    unavailable(await d.lookup('alice'), /search under ou=nowhere,dc=example,dc=org .*failed: .*No Such Object/i);
  });

  it('reads another attribute as the host when told', async () => {
    const d = open(spec(slapd.url, { hostAttribute: 'sn' }));
    assert.deepEqual(await d.lookup('alice'), found('test'));
  });

  it('StartTLS with the test CA finds users; an unknown CA is unavailable', async () => {
    const ok = open(spec(slapd.url, { startTls: true, tls: { ca: readFileSync(pki.caPath, 'utf8'), verify: true } }));
    assert.deepEqual(await ok.lookup('alice'), found('mail1.example.org'));
    const bad = open(spec(slapd.url, { startTls: true, tls: { verify: true } }));
    unavailable(await bad.lookup('alice'), /certificate/i);
  });

  it('ldaps:// with the test CA finds users; an unknown CA is unavailable unless verify is off', async () => {
    const ca = readFileSync(pki.caPath, 'utf8');
    const url = slapd.ldapsUrl as string;
    assert.deepEqual(await open(spec(url, { tls: { ca, verify: true } })).lookup('josé'), found('utf8.example'));
    unavailable(await open(spec(url, { tls: { verify: true } })).lookup('alice'), /certificate/i);
    assert.deepEqual(await open(spec(url, { tls: { verify: false } })).lookup('alice'), found('mail1.example.org'));
  });

  it('after close, lookups are unavailable', async () => {
    const d = new Directory(spec(slapd.url));
    assert.deepEqual(await d.lookup('alice'), found('mail1.example.org'));
    await d.close();
    unavailable(await d.lookup('bob'), /closed/);
    assert.equal(d.size().open, 0);
  });
});

describe('Directory when the directory fails', () => {
  it('a directory that accepts but never answers is unavailable after timeoutMs', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const d = new Directory(spec(`ldap://127.0.0.1:${port}`, { timeoutMs: 200 }));
    try {
      const t0 = performance.now();
      const [a, b] = await Promise.all([d.lookup('alice'), d.lookup('bob')]);
      const took = performance.now() - t0;
      unavailable(a, /no answer within 200 ms/);
      unavailable(b, /no answer within 200 ms/);
      assert.ok(took >= 190 && took < 1000, `took ${took} ms`);
      assert.equal(d.counters().errors, 2);
      // The timed-out connections were dropped, not kept for the next lookup.
      assert.equal(d.size().open, 0);
    } finally {
      await d.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('nothing listening is unavailable at once, naming the refusal', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const d = new Directory(spec(`ldap://127.0.0.1:${port}`));
    try {
      unavailable(await d.lookup('alice'), /ECONNREFUSED/);
    } finally { await d.close(); }
  });

  it('slapd stopped mid-test is unavailable (no throw); restarted, the pool reconnects and finds users again', async () => {
    const slapd = await startSlapd({ people: PEOPLE_LIST });
    const d = new Directory(spec(slapd.url, { cacheMs: 0, negativeCacheMs: 0, timeoutMs: 1_000 }));
    try {
      assert.deepEqual(await d.lookup('alice'), found('mail1.example.org'));
      assert.equal(d.size().idle, 1);
      await slapd.stop();
      const t0 = performance.now();
      unavailable(await d.lookup('alice'), /ECONNREFUSED|closed/);
      assert.ok(performance.now() - t0 < 1000);
      unavailable(await d.lookup('bob'), /ECONNREFUSED/);
      await slapd.restart();
      assert.deepEqual(await d.lookup('alice'), found('mail1.example.org'));
      assert.deepEqual(await d.lookup('bob'), found('127.0.0.12'));
      // Restarted under a pool holding a connection that slapd's restart closed: the pool replaces it unasked.
      await slapd.restart();
      assert.deepEqual(await d.lookup('carol'), found(undefined));
      assert.equal(d.counters().errors, 2);
    } finally {
      await d.close();
      await slapd.remove();
    }
  });
});

describe('Directory and a slapd without TLS', () => {
  it('StartTLS refused by the directory is unavailable, saying so', async () => {
    const slapd = await startSlapd({ people: PEOPLE_LIST });
    const d = new Directory(spec(slapd.url, { startTls: true }));
    try {
      unavailable(await d.lookup('alice'), /StartTLS at ldap:\/\/127\.0\.0\.1:\d+ refused: protocol \(LDAP result 2\)/);
    } finally {
      await d.close();
      await slapd.remove();
    }
  });
});

describe('Directory spec checks', () => {
  it('refuses filters that cannot work with E_DIRECTORY_FILTER', () => {
    for (const filter of ['(uid=alice)', '(uid={user}', '({user}=x)', 'uid={user}']) {
      assert.throws(() => new Directory(spec('ldap://127.0.0.1:1', { filter })), (e: unknown) => e instanceof YokeError && e.code === 'E_DIRECTORY_FILTER', filter);
    }
  });

  it('refuses a URL that is not ldap:// or ldaps://, StartTLS on ldaps://, and a bind DN without a password', () => {
    const bad = (over: Partial<DirectorySpec>, url = 'ldap://127.0.0.1:389'): void => {
      assert.throws(() => new Directory(spec(url, over)), (e: unknown) => e instanceof YokeError && e.code === 'E_CONFIG_INVALID');
    };
    bad({}, 'http://127.0.0.1');
    bad({}, 'not a url');
    bad({ startTls: true }, 'ldaps://127.0.0.1:636');
    bad({ password: undefined });
    bad({ poolSize: 0 });
  });
});
