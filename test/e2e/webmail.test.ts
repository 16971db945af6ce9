import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE, startSlapd, type Slapd } from '../helpers/slapd.ts';

/** A webmail real server written for the test: answers the name of the mail host it runs on. */
function webmail(name: string): Promise<{ address: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end(name));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  }));
}

/** GET through yoke naming the mail user by header (or by cookie); the webmail host that answered, or the status. */
function get(port: number, user: { header?: string; cookie?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (user.header !== undefined) headers['x-mail-user'] = user.header;
    if (user.cookie !== undefined) headers['cookie'] = `theme=dark; mailuser=${user.cookie}`;
    http.get({ host: '127.0.0.1', port, path: '/inbox', headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(res.statusCode === 200 ? body : String(res.statusCode)));
    }).on('error', reject);
  });
}

describe('webmail over mode http goes where the user\'s mail goes (the directory\'s mailHost, else the user\'s stable hash)', () => {
  let slapd: Slapd;
  let hosts: Awaited<ReturnType<typeof webmail>>[];
  let byHeader: number, byCookie: number;
  let run: Running;

  before(async () => {
    slapd = await startSlapd({ people: [{ uid: 'alice', mailHost: 'mail1.example.org' }, { uid: 'bob', mailHost: 'mail2.example.org' }, { uid: 'carol' }] });
    hosts = await Promise.all(['mail1.example.org', 'mail2.example.org', 'mail3.example.org'].map((n) => webmail(n)));
    [byHeader, byCookie] = (await freePorts(2)) as [number, number];
    const servers = hosts.map((h, i) => `{ name: mail${i + 1}.example.org, address: ${h.address} }`).join(', ');
    const file = writeConfig(`directories:
  people:
    ldap: { url: "${slapd.url}", bind_dn: "${ADMIN_DN}", password: env:LDAP_PASSWORD, base: "${PEOPLE}", filter: "(uid={user})", timeout: 1s }
services:
  - name: webmail
    listen: 127.0.0.1:${byHeader}
    mode: http
    scheduler: rr
    directory: people
    webmail_user: { header: X-Mail-User }
    servers: [${servers}]
  - name: webmail-cookie
    listen: 127.0.0.1:${byCookie}
    mode: http
    scheduler: rr
    directory: people
    webmail_user: { cookie: mailuser }
    servers: [${servers}]
`);
    run = await startYoke(file, { LDAP_PASSWORD: ADMIN_PASSWORD }, 'service up');
  });
  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all(hosts.map((h) => h.close()));
    await slapd.remove();
  });

  it('a user with a mailHost reaches the webmail on that host, every time, by header or by cookie', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(await get(byHeader, { header: 'alice' }), 'mail1.example.org');
      assert.equal(await get(byHeader, { header: 'bob' }), 'mail2.example.org');
      assert.equal(await get(byCookie, { cookie: 'alice' }), 'mail1.example.org');
    }
  });

  it('a user without a mailHost gets one stable host; a request naming no user is scheduled as usual (rr)', async () => {
    const first = await get(byHeader, { header: 'carol' });
    for (let i = 0; i < 3; i++) assert.equal(await get(byHeader, { header: 'carol' }), first);
    assert.equal(await get(byCookie, { cookie: 'carol' }), first, 'the same choice for the same user in another service');
    const anonymous = new Set<string>();
    for (let i = 0; i < 3; i++) anonymous.add(await get(byHeader, {}));
    assert.equal(anonymous.size, 3);
  });

  it('with the directory down, a known user\'s webmail gets 503 rather than a wrong host', async () => {
    await slapd.stop();
    try {
      // A cached answer still routes; an uncached user cannot be placed.
      assert.equal(await get(byHeader, { header: 'alice' }), 'mail1.example.org');
      assert.equal(await get(byHeader, { header: 'dave' }), '503');
    } finally {
      await slapd.restart();
    }
  });
});
