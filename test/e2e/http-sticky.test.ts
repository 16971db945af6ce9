import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';

const TOKEN = 'sticky-test-token';

/** An HTTP real server written for the test: answers its name and the Cookie it got; /login sets the application's session cookies. */
function backend(name: string): Promise<{ name: string; address: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/login') res.setHeader('set-cookie', [`JSESSIONID=${name}-session; Path=/`, `SID=${name}-v~1; Path=/`]);
    res.end(JSON.stringify({ name, cookie: req.headers.cookie ?? null }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as net.AddressInfo).port;
    resolve({ name, address: `127.0.0.1:${port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  }));
}

/** curl with a cookie jar, as a browser keeps cookies: the backend's answer and the Set-Cookie lines it saw. */
function curl(url: string, jar: string | undefined, extra: string[] = []): Promise<{ name: string; cookie: string | null; setCookies: string[] }> {
  return new Promise((resolve, reject) => {
    const args = ['-sS', '-i', '--max-time', '10', ...(jar ? ['-b', jar, '-c', jar] : []), ...extra, url];
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.on('close', (code) => {
      const [head, body] = out.split('\r\n\r\n');
      if (code !== 0 || body === undefined) { reject(new Error(`curl ${code}: ${out}`)); return; }
      const setCookies = (head ?? '').split('\r\n').filter((l) => /^set-cookie:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim());
      resolve({ ...(JSON.parse(body) as { name: string; cookie: string | null }), setCookies });
    });
  });
}

describe('mode http: cookie stickiness (insert, prefix, learn) and what happens when the sticky server goes away', () => {
  const names = ['A', 'B', 'C'];
  let servers: Awaited<ReturnType<typeof backend>>[];
  let ports: number[];
  let run: Running;
  let dir: string;
  const admin = (path: string) => fetch(`http://127.0.0.1:${ports[0]}/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });

  before(async () => {
    servers = await Promise.all(names.map((n) => backend(n)));
    ports = await freePorts(4);
    dir = mkdtempSync(join(tmpdir(), 'yoke-jars-'));
    const list = servers.map((s) => `{ address: ${s.address} }`).join(', ');
    const file = writeConfig(`admin:
  listen: 127.0.0.1:${ports[0]}
  token: env:YOKE_ADMIN_TOKEN
services:
  - name: insert
    listen: 127.0.0.1:${ports[1]}
    mode: http
    scheduler: rr
    sticky: { cookie: YOKE, mode: insert, max_age: 1h }
    servers: [${list}]
  - name: prefix
    listen: 127.0.0.1:${ports[2]}
    mode: http
    scheduler: rr
    sticky: { cookie: SID, mode: prefix }
    servers: [${list}]
  - name: learn
    listen: 127.0.0.1:${ports[3]}
    mode: http
    scheduler: rr
    sticky: { cookie: JSESSIONID, mode: learn, timeout: 10m }
    servers: [${list}]
`);
    run = await startYoke(file, { YOKE_ADMIN_TOKEN: TOKEN });
  });
  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all(servers.map((s) => s.close()));
  });

  const at = (i: number, path = '/') => `http://127.0.0.1:${ports[i]}${path}`;

  it('insert: yoke sets an opaque cookie naming the server, the client keeps landing there, and the application never sees it', async () => {
    const jar = join(dir, 'insert');
    const first = await curl(at(1), jar);
    assert.equal(first.setCookies.length, 1);
    assert.match(first.setCookies[0] ?? '', /^YOKE=[A-Za-z0-9_-]{16}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/);
    const address = servers.find((x) => x.name === first.name)?.address ?? '';
    assert.ok(!(first.setCookies[0] ?? '').includes(address.split(':')[1] as string), 'the token does not name the server\'s address in clear');
    for (let i = 0; i < 5; i++) {
      const r = await curl(at(1), jar, ['-b', 'theme=dark']);
      assert.equal(r.name, first.name);
      assert.deepEqual(r.setCookies, [], 'no new cookie while it holds');
      assert.equal(r.cookie, 'theme=dark', 'the application sees its own cookies, not yoke\'s');
    }
    const others = new Set<string>();
    for (let i = 0; i < 3; i++) others.add((await curl(at(1), undefined)).name);
    assert.equal(others.size, 3, 'clients without the cookie are spread (rr)');
  });

  it('a drained sticky server keeps its clients; a sticky server marked down gives its clients another server and a new cookie, never an error', async () => {
    const jar = join(dir, 'failover');
    const first = await curl(at(1), jar);
    const id = servers.find((s) => s.name === first.name)?.address as string;
    assert.equal((await admin(`/services/insert/servers/${id}/drain`)).status, 200);
    assert.equal((await curl(at(1), jar)).name, first.name, 'weight 0 keeps existing sticky clients');
    for (let i = 0; i < 3; i++) assert.notEqual((await curl(at(1), undefined)).name, first.name, 'new clients avoid the drained server');
    assert.equal((await admin(`/services/insert/servers/${id}/down`)).status, 200);
    const moved = await curl(at(1), jar);
    assert.notEqual(moved.name, first.name);
    assert.equal(moved.setCookies.length, 1, 'a new cookie for the new server');
    assert.equal((await curl(at(1), jar)).name, moved.name, 'and it sticks there');
    await admin(`/services/insert/servers/${id}/up`);
  });

  it('prefix: the application\'s cookie carries the server token in front, which yoke takes off again on the way in', async () => {
    const jar = join(dir, 'prefix');
    const login = await curl(at(2, '/login'), jar);
    const sid = login.setCookies.find((c) => c.startsWith('SID='));
    assert.match(sid ?? '', new RegExp(`^SID=[A-Za-z0-9_-]{16}~${login.name}-v~1; Path=/$`));
    for (let i = 0; i < 3; i++) {
      const r = await curl(at(2), jar);
      assert.equal(r.name, login.name);
      assert.match(r.cookie ?? '', new RegExp(`SID=${login.name}-v~1`), 'the application gets its value back exactly');
    }
  });

  it('learn: the session cookie a server set (JSESSIONID) brings its requests back to that server', async () => {
    const jar = join(dir, 'learn');
    const login = await curl(at(3, '/login'), jar);
    assert.ok(login.setCookies.some((c) => c.startsWith(`JSESSIONID=${login.name}-session`)), 'the application\'s cookie passes unchanged');
    for (let i = 0; i < 4; i++) assert.equal((await curl(at(3), jar)).name, login.name);
    const spread = new Set<string>();
    for (let i = 0; i < 3; i++) spread.add((await curl(at(3), undefined)).name);
    assert.equal(spread.size, 3);
  });

  it('the admin API shows each pool\'s and server\'s answers by status class and latency percentiles', async () => {
    const r = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/services/insert`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const view = (await r.json()) as { http: { requests: Record<string, number>; latency_ms: Record<string, number> }; servers: { http: { requests: Record<string, number> } | null }[] };
    assert.ok((view.http.requests['2xx'] ?? 0) >= 10, JSON.stringify(view.http));
    assert.equal(view.http.latency_ms['count'], Object.values(view.http.requests).reduce((a, b) => a + b, 0));
    assert.ok((view.http.latency_ms['p50'] ?? 0) > 0 && (view.http.latency_ms['p50'] ?? 0) <= (view.http.latency_ms['p99'] ?? 0));
    const perServer = view.servers.map((s) => s.http?.requests['2xx'] ?? 0).reduce((a, b) => a + b, 0);
    assert.equal(perServer, view.http.requests['2xx']);
  });
});
