import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpBackend, tcpBackend, type HttpBackend, type TcpBackend } from '../helpers/backends.ts';
import { sleep, whoAnswers } from '../helpers/clients.ts';
import { freePorts, startYoke, writeConfig, yoke, type Running } from '../helpers/daemon.ts';
import { until } from '../helpers/health.ts';

const TOKEN = 'health-test-token';
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

interface ServerState { address: string; state: string; weight: number; health: { last_check: { ok: boolean; detail: string } | null; last_change: { reason: string; at: number } | null } }
interface ServiceState { name: string; quorum: { up: boolean; live_weight: number } | null; servers: ServerState[] }

/** GET through the HTTP service (a fresh connection each time): the backend's name, or an error. */
function httpName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('health checks in a running yoke, against real servers that die, heal, fail and flap', () => {
  let a: TcpBackend, b: TcpBackend, c: TcpBackend, sorry: TcpBackend;
  let q1: TcpBackend, q2: TcpBackend, q3: TcpBackend;
  let h1: HttpBackend, h2: HttpBackend, flappy: HttpBackend;
  let ports: number[];
  let run: Running;
  let hookLog: string;
  const env = { YOKE_ADMIN_TOKEN: TOKEN };
  const port = (i: number) => ports[i] as number;
  const api = async (service: string): Promise<ServiceState> => {
    const r = await fetch(`http://127.0.0.1:${port(0)}/api/v1/services/${service}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return (await r.json()) as ServiceState;
  };
  const stateOf = async (service: string, address: string) => (await api(service)).servers.find((s) => s.address === address) as ServerState;
  const waitState = async (service: string, address: string, state: string, ms = 5000) => {
    const end = Date.now() + ms;
    for (;;) {
      const s = await stateOf(service, address);
      if (s.state === state) return s;
      if (Date.now() > end) assert.fail(`${service} ${address}: still ${s.state}, not ${state} (last check: ${JSON.stringify(s.health.last_check)})`);
      await sleep(20);
    }
  };

  before(async () => {
    [a, b, c, sorry, q1, q2, q3] = (await Promise.all(['A', 'B', 'C', 'SORRY', 'Q1', 'Q2', 'Q3'].map((n) => tcpBackend(n)))) as [TcpBackend, TcpBackend, TcpBackend, TcpBackend, TcpBackend, TcpBackend, TcpBackend];
    [h1, h2, flappy] = (await Promise.all(['H1', 'H2', 'FLAPPY'].map((n) => httpBackend(n)))) as [HttpBackend, HttpBackend, HttpBackend];
    ports = await freePorts(6);
    hookLog = join(mkdtempSync(join(tmpdir(), 'yoke-hooks-')), 'hooks.log');
    writeFileSync(hookLog, '');
    const hook = (what: string) => `echo "${what} $YOKE_SERVICE" >> ${hookLog}`;
    const file = writeConfig(`admin:
  listen: 127.0.0.1:${port(0)}
  token: env:YOKE_ADMIN_TOKEN
services:
  - name: churn
    listen: 127.0.0.1:${port(1)}
    scheduler: rr
    connect_timeout: 500ms
    servers: [{ address: ${a.address} }, { address: ${b.address} }, { address: ${c.address} }]
    health: { type: tcp, interval: 200ms, timeout: 200ms, rise: 2, fall: 1, retry_delay: 50ms, passive_fall: 1 }
  - name: web
    listen: 127.0.0.1:${port(2)}
    scheduler: rr
    servers: [{ address: ${h1.address} }, { address: ${h2.address} }]
    health: { type: http, path: /healthz, digest: ${md5('ok\n')}, interval: 100ms, timeout: 150ms, rise: 1, fall: 1 }
  - name: hang
    listen: 127.0.0.1:${port(3)}
    servers: [{ address: ${a.address} }]
    health: { type: exec, command: "sleep 30", interval: 100ms, timeout: 200ms, rise: 1, fall: 1 }
  - name: flap
    listen: 127.0.0.1:${port(4)}
    servers: [{ address: ${flappy.address} }, { address: ${h1.address} }]
    health: { type: http, path: /healthz, interval: 100ms, timeout: 150ms, rise: 3, fall: 1, retry_delay: 100ms }
  - name: quorum
    listen: 127.0.0.1:${port(5)}
    scheduler: rr
    sorry_server: ${sorry.address}
    servers: [{ address: ${q1.address} }, { address: ${q2.address} }, { address: ${q3.address} }]
    health: { type: tcp, interval: 100ms, timeout: 100ms, rise: 1, fall: 1 }
    quorum: { weight: 2 }
    notify: { quorum_up: ${JSON.stringify(hook('quorum_up'))}, quorum_down: ${JSON.stringify(hook('quorum_down'))} }
`);
    run = await startYoke(file, env);
  });
  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    await Promise.all([a, b, c, sorry, q1, q2, q3, h1, h2, flappy].map((x) => x.close()));
  });

  it('a real server killed and restarted while clients keep connecting: almost no client sees it', async (t) => {
    const start = Date.now();
    let ok = 0;
    const failed: string[] = [];
    let killedAt = 0;
    let back: TcpBackend | undefined;
    let restartedAt = 0;
    const worker = async () => {
      while (Date.now() - start < 4000) {
        try { await whoAnswers(port(1)); ok++; } catch (err) { failed.push(String(err)); }
        await sleep(5);
      }
    };
    const chaos = async () => {
      await sleep(1000);
      killedAt = Date.now();
      await b.close();
      await sleep(1500);
      back = await tcpBackend('B', { port: b.port });
      restartedAt = Date.now();
    };
    await Promise.all([worker(), worker(), worker(), chaos()]);
    b = back as TcpBackend;
    const state = await waitState('churn', b.address, 'up');
    const total = ok + failed.length;
    t.diagnostic(`${total} connections through the churn, ${failed.length} failed; B back ${(state.health.last_change?.at ?? 0) - restartedAt} ms after its restart`);
    assert.ok(total > 200, `enough load (${total})`);
    assert.ok(failed.length <= total / 100, `at most 1% failed: ${failed.length} of ${total}: ${failed.slice(0, 3).join('; ')}`);
    assert.ok(killedAt > 0);
    assert.ok(b.accepted > 0, 'B carries connections again after its restart');
  });

  it('a server answering 500, a wrong body (digest) or too slowly leaves the pool, and returns when it heals', async () => {
    for (const [fault, heal] of [
      [() => { h2.health.status = 500; }, /HTTP 500/],
      [() => { h2.health.body = 'not ok\n'; }, /digest/],
      [() => { h2.health.delayMs = 400; }, /timeout|timed out|abort/i],
    ] as const) {
      fault();
      const down = await waitState('web', h2.address, 'down');
      assert.match(down.health.last_check?.detail ?? '', heal);
      for (let i = 0; i < 4; i++) assert.equal(await httpName(port(2)), 'H1');
      h2.health = { status: 200, body: 'ok\n', delayMs: 0 };
      await waitState('web', h2.address, 'up');
    }
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await httpName(port(2)));
    assert.deepEqual([...seen].sort(), ['H1', 'H2']);
  });

  it('an exec check that hangs is killed at its timeout: the server is down and yoke keeps answering', async () => {
    const s = await waitState('hang', a.address, 'down');
    assert.match(s.health.last_check?.detail ?? '', /timeout|timed out|killed/i);
    const t0 = Date.now();
    await api('hang');
    assert.ok(Date.now() - t0 < 500, 'the admin API answers at once');
    // Each check's process is killed at 200 ms: yoke never has more than a couple of them alive.
    const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(run.child.pid)], { encoding: 'utf8' }); // exit 1 = no children
    assert.ok(ps.status === 0 || ps.status === 1, ps.stderr);
    const children = ps.stdout.trim().split('\n').filter((l) => /sleep 30/.test(l));
    assert.ok(children.length <= 2, `hanging checks are not piling up: ${children.join(' | ')}`);
  });

  it('a flapping server (passing every other check) never gets rise 3 in a row, so it stays out', async () => {
    let flips = 0;
    const timer = setInterval(() => { flappy.health.status = flappy.health.status === 200 ? 503 : 200; flips++; }, 100);
    try {
      await waitState('flap', flappy.address, 'down');
      const since = (await stateOf('flap', flappy.address)).health.last_change?.at;
      await sleep(1500);
      const s = await stateOf('flap', flappy.address);
      assert.equal(s.state, 'down');
      assert.equal(s.health.last_change?.at, since, 'no change while it flaps');
      for (let i = 0; i < 4; i++) assert.equal(await httpName(port(4)), 'H1');
    } finally {
      clearInterval(timer);
      flappy.health.status = 200;
    }
    assert.ok(flips > 10);
    await waitState('flap', flappy.address, 'up');
  });

  it('quorum crossing both ways runs the hooks; the sorry server takes over and hands back', async () => {
    assert.equal((await api('quorum')).quorum?.up, true);
    await q1.close();
    await waitState('quorum', q1.address, 'down');
    assert.equal((await api('quorum')).quorum?.up, true, 'live weight 2 still meets quorum 2');
    await q2.close();
    await waitState('quorum', q2.address, 'down');
    await until(() => readFileSync(hookLog, 'utf8').includes('quorum_down'), 'the quorum_down hook');
    assert.equal((await api('quorum')).quorum?.up, false);
    for (let i = 0; i < 3; i++) assert.equal(await whoAnswers(port(5)), 'SORRY', 'Q3 is up, but below quorum the sorry server serves');
    q1 = await tcpBackend('Q1', { port: q1.port });
    await waitState('quorum', q1.address, 'up');
    await until(() => readFileSync(hookLog, 'utf8').includes('quorum_up'), 'the quorum_up hook');
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add(await whoAnswers(port(5)));
    assert.deepEqual([...names].sort(), ['Q1', 'Q3']);
    assert.deepEqual(readFileSync(hookLog, 'utf8').trim().split('\n'), ['quorum_down quorum', 'quorum_up quorum']);
    q2 = await tcpBackend('Q2', { port: q2.port });
  });

  it('yoke ctl -L --health shows each server\'s state, last check and the reason of its last change', async () => {
    const r = await yoke(['ctl', '--admin', `127.0.0.1:${port(0)}`, '-L', '--health', '--service', 'web'], env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[3] ?? '', /^TCP\s+127\.0\.0\.1:\d+ up \(live weight 2, quorum 1\)\s+\(web\)$/);
    assert.match(lines[4] ?? '', new RegExp(`-> ${h1.address}\\s+up\\s+ok [\\d.]+s ago: HTTP ok on /healthz`));
    assert.match(lines[5] ?? '', new RegExp(`-> ${h2.address}\\s+up\\s+ok [\\d.]+s ago: .*up [\\d.]+s ago: good check`));
  });

  it('/metrics carries each server\'s last check and each service\'s quorum, for Prometheus', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port(0)}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    assert.match(text, new RegExp(`yoke_server_check_ok\\{service="web",server="${h1.address}"\\} 1`));
    assert.match(text, new RegExp(`yoke_server_check_ok\\{service="hang",server="${a.address}"\\} 0`));
    assert.match(text, /yoke_service_quorum_up\{service="quorum"\} 1/);
    assert.match(text, new RegExp(`yoke_server_up\\{service="hang",server="${a.address}"\\} 0`));
  });
});
