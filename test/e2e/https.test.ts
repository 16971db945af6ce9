import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { makePki, type TestPki } from '../helpers/pki.ts';
import { until } from '../helpers/health.ts';

/** An HTTP real server written for the test: answers its name and the forwarding fields it got. */
function backend(name: string): Promise<{ address: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => res.end(JSON.stringify({ name, proto: req.headers['x-forwarded-proto'], cookie: req.headers.cookie ?? null })));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  }));
}

function curl(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '--max-time', '10', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('mode http over TLS: yoke terminates HTTPS, routes and sticks by cookie, and takes new certificates on reload', () => {
  let first: TestPki, second: TestPki;
  let servers: Awaited<ReturnType<typeof backend>>[];
  let port: number;
  let run: Running;
  let dir: string;

  before(async () => {
    [first, second] = [makePki(), makePki()];
    servers = await Promise.all(['A', 'B'].map((n) => backend(n)));
    [port] = (await freePorts(1)) as [number];
    dir = mkdtempSync(join(tmpdir(), 'yoke-https-'));
    writeFileSync(join(dir, 'cert.pem'), first.cert);
    writeFileSync(join(dir, 'key.pem'), first.key);
    const file = writeConfig(`services:
  - name: secure
    listen: 127.0.0.1:${port}
    mode: http
    tls: { cert: "file:${join(dir, 'cert.pem')}", key: "file:${join(dir, 'key.pem')}" }
    scheduler: rr
    sticky: { cookie: YOKE, secure: true, same_site: None }
    servers: [${servers.map((s) => `{ address: ${s.address} }`).join(', ')}]
`);
    run = await startYoke(file, {}, 'service up');
  });
  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all(servers.map((s) => s.close()));
    first.remove();
    second.remove();
  });

  const url = () => `https://127.0.0.1:${port}/`;

  it('curl verifies yoke\'s certificate, speaks http/1.1 by ALPN, and the real server is told the client used https', async () => {
    const r = await curl(['-v', '--cacert', first.caPath, url()]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /ALPN: server accepted http\/1\.1/);
    assert.equal((JSON.parse(r.out) as { proto: string }).proto, 'https');
  });

  it('cookie stickiness works over HTTPS: a Secure cookie, and the client stays on its server', async () => {
    const jar = join(dir, 'jar');
    const r = await curl(['-i', '--cacert', first.caPath, '-c', jar, '-b', jar, url()]);
    assert.match(r.out, /^set-cookie: YOKE=[A-Za-z0-9_-]{16}; Path=\/; HttpOnly; Secure; SameSite=None\r$/im);
    const name = (JSON.parse(r.out.split('\r\n\r\n')[1] as string) as { name: string }).name;
    for (let i = 0; i < 4; i++) {
      const again = await curl(['--cacert', first.caPath, '-c', jar, '-b', jar, url()]);
      assert.equal((JSON.parse(again.out) as { name: string }).name, name);
    }
  });

  it('new certificate files and a reload (SIGHUP): the next handshakes use the new certificate, without a restart', async () => {
    writeFileSync(join(dir, 'cert.pem'), second.cert);
    writeFileSync(join(dir, 'key.pem'), second.key);
    run.child.kill('SIGHUP');
    await until(() => run.logs.some((l) => l.includes('reloaded')), 'the reload');
    const fresh = await curl(['--cacert', second.caPath, url()]);
    assert.equal(fresh.code, 0, fresh.err);
    const stale = await curl(['--cacert', first.caPath, url()]);
    assert.notEqual(stale.code, 0, 'the old CA no longer verifies yoke');
    assert.equal(run.child.exitCode, null, 'the same process serves on');
  });
});
