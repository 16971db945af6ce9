// The mail router on its own (no sockets): the directory's host, the no-fallback rule, rendezvous hashing and the
// affinity table, with a scripted directory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../core/clock.ts';
import { VirtualService } from '../../core/service.ts';
import type { Directory, LookupAnswer } from '../../services/mail/directory.ts';
import { MailRouter, hostNames, identityOf, rendezvous } from '../../services/mail/router.ts';
import { server, spec } from '../helpers/backends.ts';

function farm(n: number, port = 143): VirtualService {
  const servers = Array.from({ length: n }, (_, i) => server(`127.0.0.${i + 11}:${port}`, 1, { name: `mail${i + 1}.example.org` }));
  return new VirtualService(spec('imap', servers, { mode: 'imap' }), new ManualClock(0), undefined);
}

/** A directory that answers from a table (unlisted users: unknown), or is down. */
function directory(table: Record<string, string | undefined>, down = false): Directory {
  return {
    spec: { name: 'people' },
    lookup: (user: string): Promise<LookupAnswer> => Promise.resolve(down ? { kind: 'unavailable', reason: 'connect refused' }
      : Object.hasOwn(table, user) ? { kind: 'found', host: table[user] } : { kind: 'unknown' }),
  } as unknown as Directory;
}

const USERS = Array.from({ length: 2000 }, (_, i) => `user${i}`);

describe('the mail router', () => {
  it('a host names a server by its name or its address host, ignoring case and a final dot', () => {
    const [a] = farm(1).servers;
    for (const h of ['mail1.example.org', 'MAIL1.Example.org.', '127.0.0.11']) assert.ok(hostNames(h, a!), h);
    for (const h of ['mail1', 'mail2.example.org', '127.0.0.1']) assert.ok(!hostNames(h, a!), h);
    assert.equal(identityOf(a!), 'mail1.example.org');
  });

  it('rendezvous hashing spreads users evenly, and a server going moves only its own users', () => {
    const v = farm(4);
    const before = new Map(USERS.map((u) => [u, rendezvous(u, v.servers)?.name]));
    for (const s of v.servers) {
      const share = [...before.values()].filter((x) => x === s.name).length / USERS.length;
      assert.ok(share > 0.2 && share < 0.3, `${s.name}: ${share}`);
    }
    v.setHealth(v.servers[1]!.id, 'down');
    for (const u of USERS) {
      const now = rendezvous(u, v.servers)?.name;
      if (before.get(u) !== 'mail2.example.org') assert.equal(now, before.get(u), `${u} moved`);
      else assert.notEqual(now, 'mail2.example.org');
    }
  });

  it('the same user hashes to the same machine in services on other ports (by server name)', () => {
    const imap = farm(3, 143);
    const pop3 = farm(3, 110);
    for (const u of USERS.slice(0, 200)) assert.equal(rendezvous(u, imap.servers)?.name, rendezvous(u, pop3.servers)?.name);
  });

  it('directory answers: home by name or address; home down is a temporary failure (no fallback); unknown, unavailable', async () => {
    const v = farm(2);
    const r = new MailRouter();
    const dir = directory({ alice: 'mail2.example.org', carol: '127.0.0.11', dave: 'elsewhere.example.org', erin: undefined });
    const to = async (user: string, d = dir) => { const a = await r.route(v, d, user); return a.kind === 'server' ? `${a.server.name} ${a.why}` : a.kind; };
    assert.equal(await to('alice'), 'mail2.example.org home');
    assert.equal(await to('carol'), 'mail1.example.org home');
    assert.match(await to('dave'), / hash$/);
    assert.match(await to('erin'), / hash$/);
    assert.equal(await to('mallory'), 'unknown-user');
    assert.equal(await to('alice', directory({}, true)), 'temp-failure');
    v.setHealth(v.servers[1]!.id, 'down');
    const down = await r.route(v, dir, 'alice');
    assert.equal(down.kind, 'temp-failure');
    assert.match(down.kind === 'temp-failure' ? down.reason : '', /home server mail2\.example\.org/);
    v.setHealth(v.servers[1]!.id, 'up');
    v.editServer(v.servers[1]!.id, { weight: 0, maxConns: 0, minConns: 0, name: 'mail2.example.org' });
    assert.equal(await to('alice'), 'mail2.example.org home', 'a drained home keeps its users');
  });

  it('affinity: a user with a session open on a server goes there, until the last session ends; a down server is passed over', async () => {
    const v = farm(2);
    const r = new MailRouter();
    const user = 'user42';
    const hashed = rendezvous(user, v.servers)!;
    const other = v.servers.find((s) => s !== hashed)!;
    r.enter(user, other);
    r.enter(user, other);
    assert.deepEqual(r.snapshot(), [{ user, server: identityOf(other), sessions: 2 }]);
    const a = await r.route(v, undefined, user);
    assert.equal(a.kind === 'server' && `${a.server.name} ${a.why}`, `${other.name} affinity`);
    r.leave(user, other);
    const one = await r.route(v, undefined, user);
    assert.equal(one.kind === 'server' && `${one.server.name} ${one.why}`, `${other.name} affinity`, 'one session left still holds the user');
    v.setHealth(other.id, 'down');
    const b = await r.route(v, undefined, user);
    assert.equal(b.kind === 'server' && b.server, hashed);
    v.setHealth(other.id, 'up');
    r.leave(user, other);
    assert.deepEqual(r.snapshot(), []);
    const c = await r.route(v, undefined, user);
    assert.equal(c.kind === 'server' && `${c.server.name} ${c.why}`, `${hashed.name} hash`);
  });

  it('user names are one mailbox whatever their case: the same hash and one affinity entry', async () => {
    const v = farm(5);
    for (const u of USERS.slice(0, 200)) assert.equal(rendezvous(u.toUpperCase(), v.servers), rendezvous(u, v.servers));
    const r = new MailRouter();
    const other = v.servers.find((s) => s !== rendezvous('carol', v.servers))!;
    r.enter('Carol', other);
    const a = await r.route(v, undefined, 'CAROL');
    assert.equal(a.kind === 'server' && a.server, other);
    assert.deepEqual(r.snapshot(), [{ user: 'carol', server: identityOf(other), sessions: 1 }]);
    r.leave('carol', other);
    assert.deepEqual(r.snapshot(), []);
  });

  it('no live server: a temporary failure', async () => {
    const v = farm(2);
    for (const s of v.servers) v.setHealth(s.id, 'down');
    assert.equal((await new MailRouter().route(v, undefined, 'x')).kind, 'temp-failure');
  });
});
