// HTTP_GET and SSL_GET against fake node:http / node:https servers on 127.0.0.1 (written here, as the brief allows),
// the https ones with a CA and server certificate made by openssl at test time.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, afterEach, before, test } from 'node:test';
import { HttpChecker, MAX_BODY } from '../../../core/health/checkers/http.ts';
import type { HttpCheckSpec, HttpUrl } from '../../../core/health/spec.ts';
import { assertNoLeaks, closedTcpPort, common, listen, local, makePki, runCheck, type TestPki } from './helpers.ts';

const PAGE = 'all is well\n';
const PAGE_MD5 = createHash('md5').update(PAGE).digest('hex');

function url(path: string, extra: Partial<HttpUrl> = {}): HttpUrl {
  return { path, status: [{ low: 200, high: 200 }], digest: undefined, ...extra };
}

function checker(extra: Partial<HttpCheckSpec> = {}, timeoutMs = 1000): HttpChecker {
  return new HttpChecker({ ...common(timeoutMs), type: 'http', urls: [url('/')], host: undefined, verify: false, ca: undefined, ...extra });
}

interface Seen { path: string; host: string | undefined; sni: string | false | null | undefined }

/** A fake web server: /status/NNN answers NNN, /big sends MAX_BODY + 1 bytes, /slow never answers, others PAGE. */
async function backend(tls?: TestPki): Promise<{ port: number; seen: Seen[]; connections: () => number; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  let connections = 0;
  const handler: http.RequestListener = (req, res) => {
    seen.push({ path: req.url ?? '', host: req.headers.host, sni: (req.socket as TLSSocket).servername });
    const status = /^\/status\/(\d{3})$/.exec(req.url ?? '');
    if (status) res.writeHead(Number(status[1])).end(PAGE);
    else if (req.url === '/big') res.end(Buffer.alloc(MAX_BODY + 1, 'x'));
    else if (req.url === '/slow') { /* never answers */ }
    else res.end(PAGE);
  };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  server.on(tls ? 'secureConnection' : 'connection', () => connections++);
  const port = await listen(server as net.Server);
  return {
    port, seen, connections: () => connections,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

let pki: TestPki;
before(() => { pki = makePki(); });
after(() => pki.remove());
afterEach(assertNoLeaks);

test('200 on the one url passes', async () => {
  const b = await backend();
  try {
    const r = await runCheck(checker(), local(b.port), 1000);
    assert.deepEqual([r.ok, r.detail], [true, 'HTTP ok on /']);
  } finally { await b.close(); }
});

test('a refused connection fails with "connect refused"', async () => {
  const r = await runCheck(checker(), local(await closedTcpPort()), 1000);
  assert.equal(r.ok, false);
  assert.match(r.detail, /^connect refused/);
});

test('a status outside the expected ones fails, naming status and path', async () => {
  const b = await backend();
  try {
    const r = await runCheck(checker({ urls: [url('/status/500')] }), local(b.port), 1000);
    assert.deepEqual([r.ok, r.detail], [false, 'HTTP 500 on /status/500']);
  } finally { await b.close(); }
});

test('a status range 200-299 takes 204 and refuses 302', async () => {
  const b = await backend();
  const range = { status: [{ low: 200, high: 299 }] };
  try {
    assert.equal((await runCheck(checker({ urls: [url('/status/204', range)] }), local(b.port), 1000)).ok, true);
    const r = await runCheck(checker({ urls: [url('/status/302', range)] }), local(b.port), 1000);
    assert.deepEqual([r.ok, r.detail], [false, 'HTTP 302 on /status/302']);
  } finally { await b.close(); }
});

test('several status ranges: any one of them passes', async () => {
  const b = await backend();
  try {
    const status = [{ low: 200, high: 200 }, { low: 401, high: 401 }];
    assert.equal((await runCheck(checker({ urls: [url('/status/401', { status })] }), local(b.port), 1000)).ok, true);
  } finally { await b.close(); }
});

test('the MD5 of the body must match the digest', async () => {
  const b = await backend();
  try {
    assert.equal((await runCheck(checker({ urls: [url('/', { digest: PAGE_MD5 })] }), local(b.port), 1000)).ok, true);
    const r = await runCheck(checker({ urls: [url('/', { digest: '0'.repeat(32) })] }), local(b.port), 1000);
    assert.deepEqual([r.ok, r.detail], [false, 'digest mismatch on /']);
  } finally { await b.close(); }
});

test('a body over the cap fails the digest without being buffered', async () => {
  const b = await backend();
  try {
    const r = await runCheck(checker({ urls: [url('/big', { digest: PAGE_MD5 })] }), local(b.port), 2000);
    assert.deepEqual([r.ok, r.detail], [false, `body over ${MAX_BODY} bytes on /big`]);
  } finally { await b.close(); }
});

test('every url must pass, in order: the second one failing names it', async () => {
  const b = await backend();
  try {
    const urls = [url('/'), url('/status/503'), url('/third')];
    const r = await runCheck(checker({ urls }), local(b.port), 1000);
    assert.deepEqual([r.ok, r.detail], [false, 'HTTP 503 on /status/503']);
    assert.deepEqual(b.seen.map((s) => s.path), ['/', '/status/503'], 'stops at the first failure');
    const ok = await runCheck(checker({ urls: [url('/'), url('/other', { digest: PAGE_MD5 })] }), local(b.port), 1000);
    assert.deepEqual([ok.ok, ok.detail], [true, 'HTTP ok on 2 urls']);
  } finally { await b.close(); }
});

test('each url of each check opens its own connection (no keep-alive between checks)', async () => {
  const b = await backend();
  try {
    const c = checker({ urls: [url('/a'), url('/b')] });
    await runCheck(c, local(b.port), 1000);
    await runCheck(c, local(b.port), 1000);
    assert.equal(b.connections(), 4);
  } finally { await b.close(); }
});

test('a server slower than the timeout: the check resolves by the deadline', async () => {
  const b = await backend();
  try {
    const r = await runCheck(checker({ urls: [url('/slow')] }, 300), local(b.port), 300);
    assert.deepEqual([r.ok, r.detail], [false, 'timeout after 300ms on /slow']);
    assert.ok(r.elapsedMs < 500, `took ${r.elapsedMs}ms`);
  } finally { await b.close(); }
});

test('host sets the Host header; without it the Host is the target address', async () => {
  const b = await backend();
  try {
    await runCheck(checker({ host: 'www.example' }), local(b.port), 1000);
    await runCheck(checker(), local(b.port), 1000);
    assert.deepEqual(b.seen.map((s) => s.host), ['www.example', `127.0.0.1:${b.port}`]);
  } finally { await b.close(); }
});

test('https, verify false: a certificate from an unknown CA is accepted (as Keepalived SSL_GET)', async () => {
  const b = await backend(pki);
  try {
    const r = await runCheck(checker({ type: 'https', verify: false }), local(b.port), 2000);
    assert.deepEqual([r.ok, r.detail], [true, 'HTTP ok on /']);
  } finally { await b.close(); }
});

test('https, verify true against the system CAs: the unknown CA is refused', async () => {
  const b = await backend(pki);
  try {
    const r = await runCheck(checker({ type: 'https', verify: true }), local(b.port), 2000);
    assert.equal(r.ok, false);
    assert.match(r.detail, /^certificate rejected: /);
    assert.equal(b.seen.length, 0);
  } finally { await b.close(); }
});

test('https, verify true with ca: the test CA is trusted, by IP and by the Host name', async () => {
  const b = await backend(pki);
  try {
    const byIp = await runCheck(checker({ type: 'https', verify: true, ca: pki.caPath }), local(b.port), 2000);
    assert.deepEqual([byIp.ok, byIp.detail], [true, 'HTTP ok on /']);
    const byName = await runCheck(checker({ type: 'https', verify: true, ca: pki.caPath, host: 'check.example' }), local(b.port), 2000);
    assert.deepEqual([byName.ok, byName.detail], [true, 'HTTP ok on /']);
    const wrongName = await runCheck(checker({ type: 'https', verify: true, ca: pki.caPath, host: 'other.example' }), local(b.port), 2000);
    assert.equal(wrongName.ok, false);
    assert.match(wrongName.detail, /^certificate rejected: .*other\.example/);
  } finally { await b.close(); }
});

test('https: host is sent as SNI and as the Host header; an IP target alone sends no SNI', async () => {
  const b = await backend(pki);
  try {
    await runCheck(checker({ type: 'https', host: 'check.example' }), local(b.port), 2000);
    await runCheck(checker({ type: 'https', host: 'check.example:8443' }), local(b.port), 2000);
    await runCheck(checker({ type: 'https' }), local(b.port), 2000);
    assert.deepEqual(b.seen.map((s) => [s.host, s.sni]), [
      ['check.example', 'check.example'],
      ['check.example:8443', 'check.example'],
      [`127.0.0.1:${b.port}`, false],
    ]);
  } finally { await b.close(); }
});

test('https with a ca file that cannot be read fails and says so', async () => {
  const r = await runCheck(checker({ type: 'https', verify: true, ca: '/nonexistent/ca.pem' }), local(await closedTcpPort()), 1000);
  assert.deepEqual([r.ok, r.detail], [false, 'cannot read CA file /nonexistent/ca.pem: ENOENT']);
});
