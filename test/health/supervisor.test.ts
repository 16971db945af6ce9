import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Director } from '../../core/director.ts';
import type { HealthEvent } from '../../core/health/notifier.ts';
import { HealthSupervisor } from '../../core/health/supervisor.ts';
import type { ServiceSpec } from '../../core/spec.ts';
import { server, spec, tcpBackend, type TcpBackend } from '../helpers/backends.ts';
import { connectAndGreet, whoAnswers } from '../helpers/clients.ts';
import { freePorts } from '../helpers/daemon.ts';
import { fastCheck, healthSpec, ScriptedChecker, until } from '../helpers/health.ts';

/** A director with a supervisor on a scripted checker, its events recorded. */
async function harness(s: ServiceSpec) {
  const director = new Director();
  const checker = new ScriptedChecker();
  const events: HealthEvent[] = [];
  const failures: string[] = [];
  const health = new HealthSupervisor(director, {
    log: { change: (e) => events.push(e), hookFailed: (_e, hook, problem) => failures.push(`${hook}: ${problem}`) },
    createChecker: () => checker,
  });
  director.onChange = () => health.sync();
  const svc = await director.addService(s);
  const port = director.planeOf(s.name)!.port;
  const stop = async () => { await health.stop(); await director.shutdown(0); };
  return { director, checker, events, failures, health, svc, port, stop };
}

const said = (events: HealthEvent[]) => events.map((e) => `${e.event} ${e.server ?? e.service}: ${e.reason}`);

describe('the health supervisor applies check verdicts to the live model', () => {
  let a: TcpBackend, b: TcpBackend, c: TcpBackend, sorry: TcpBackend;
  const stops: (() => Promise<void>)[] = [];
  before(async () => { [a, b, c, sorry] = await Promise.all([tcpBackend('A'), tcpBackend('B'), tcpBackend('C'), tcpBackend('SORRY')]); });
  after(async () => {
    await Promise.all(stops.map((s) => s()));
    await Promise.all([a, b, c, sorry].map((x) => x.close()));
  });
  const start = async (s: ServiceSpec) => { const h = await harness(s); stops.push(h.stop); return h; };

  it('fall failures in a row take a server out of scheduling; rise successes bring it back', async () => {
    const h = await start(spec('rf', [server(a.address), server(b.address)], { health: healthSpec(fastCheck()) }));
    h.checker.verdicts.set(b.port, 'connect refused');
    await until(() => h.svc.server(b.address).health === 'down', 'B down');
    assert.deepEqual(said(h.events), [`down ${b.address}: 2 failed checks: connect refused`]);
    for (let i = 0; i < 6; i++) assert.equal(await whoAnswers(h.port), 'A');
    assert.match(h.svc.server(b.address).report.check?.detail ?? '', /connect refused/);
    h.checker.verdicts.delete(b.port);
    await until(() => h.svc.server(b.address).health === 'up', 'B up');
    assert.deepEqual(said(h.events).at(-1), `up ${b.address}: 2 good checks`);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await whoAnswers(h.port));
    assert.deepEqual([...seen].sort(), ['A', 'B']);
  });

  it('one failure below fall changes nothing (and is retried sooner than the interval)', async () => {
    const h = await start(spec('blip', [server(a.address)], { health: healthSpec(fastCheck({ fall: 3, intervalMs: 200, retryDelayMs: 5 })) }));
    await until(() => h.checker.checks >= 1, 'a first check');
    h.checker.verdicts.set(a.port, false);
    const before = h.checker.checks;
    await until(() => h.checker.checks >= before + 1, 'a failed check');
    h.checker.verdicts.delete(a.port);
    // The retry comes after 5 ms, not 200 ms: two more checks within 100 ms, and still up.
    await until(() => h.checker.checks >= before + 2, 'the retry', 100);
    assert.equal(h.svc.server(a.address).health, 'up');
    assert.deepEqual(h.events, []);
  });

  it('inhibit_on_failure keeps a failed server for its persistent clients but gives it no new ones', async () => {
    const persistence = { timeoutMs: 60_000, netmask: '255.255.255.255', prefix6: 128, group: undefined };
    const h = await start(spec('inh', [server(a.address), server(b.address)], { persistence, health: healthSpec(fastCheck({ inhibitOnFailure: true })) }));
    const first = await whoAnswers(h.port); // 127.0.0.1 now sticks to one server
    const other = first === 'A' ? b : a;
    const mine = first === 'A' ? a : b;
    h.checker.verdicts.set(mine.port, false);
    await until(() => h.svc.server(mine.address).health === 'inhibited', 'inhibited');
    assert.equal(await whoAnswers(h.port), first, 'the persistent client stays');
    assert.equal(await whoAnswers(h.port, '127.0.0.2'), other.name, 'a new client goes elsewhere');
    assert.equal(await whoAnswers(h.port, '127.0.0.3'), other.name);
  });

  it('a server the operator marked down stays down whatever its checks say, and comes back only when marked up', async () => {
    const h = await start(spec('admin', [server(a.address), server(b.address)], { health: healthSpec(fastCheck()) }));
    h.director.markServer('admin', a.address, false);
    const n = h.checker.checks;
    await until(() => h.checker.checks >= n + 4, 'more checks');
    assert.equal(h.svc.server(a.address).alive, false);
    for (let i = 0; i < 4; i++) assert.equal(await whoAnswers(h.port), 'B');
    h.director.markServer('admin', a.address, true);
    assert.equal(h.svc.server(a.address).available, true);
  });

  it('alpha starts servers down, silently, until their checks pass', async () => {
    const h = await start(spec('alpha', [server(a.address)], { health: healthSpec(fastCheck({ alpha: true, rise: 3 })) }));
    assert.equal(h.svc.server(a.address).health, 'down');
    await assert.rejects(whoAnswers(h.port));
    await until(() => h.svc.server(a.address).health === 'up', 'A up');
    assert.deepEqual(said(h.events), [`up ${a.address}: 3 good checks`, 'quorum_up alpha: live weight 1 >= quorum 1']);
  });

  it('alpha does not take down a server already running when a reload adds the check', async () => {
    const [free] = await freePorts(1);
    const h = await start(spec('alpha-late', [server(a.address)], { listen: { host: '127.0.0.1', port: free as number, family: 4 } }));
    await h.director.editService({ ...h.svc.spec, health: healthSpec(fastCheck({ alpha: true })) });
    assert.equal(h.director.service('alpha-late'), h.svc);
    assert.equal(h.svc.server(a.address).health, 'up');
    await h.director.editService({ ...h.svc.spec, servers: [server(a.address), server(b.address)] });
    assert.equal(h.svc.server(b.address).health, 'down', 'a server new to the model starts down under alpha');
  });

  it('passive failures take a server down before its next check; only the active checker brings it back', async () => {
    const h = await start(spec('passive', [server(a.address), server(b.address)], { health: healthSpec(fastCheck({ passiveFall: 3, intervalMs: 60_000, rise: 1 })) }));
    const s = h.svc.server(a.address);
    h.svc.serverFailed(s);
    h.svc.serverFailed(s);
    h.svc.serverWorked(s); // a success in between starts the count again
    h.svc.serverFailed(s);
    h.svc.serverFailed(s);
    assert.equal(s.health, 'up');
    h.svc.serverFailed(s);
    assert.equal(s.health, 'down');
    assert.deepEqual(said(h.events), [`down ${a.address}: passive: 3 connect failures or resets in a row`]);
  });

  it('misc_dynamic: a check that passes with a weight sets the server\'s weight', async () => {
    const h = await start(spec('dyn', [server(a.address, 5)], { health: healthSpec(fastCheck()) }));
    h.checker.weights.set(a.port, 17);
    await until(() => h.svc.server(a.address).weight === 17, 'weight 17');
  });

  it('quorum with hysteresis: lost below weight - hysteresis, regained at weight + hysteresis; the sorry server serves meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yoke-quorum-'));
    const log = join(dir, 'hooks.log');
    writeFileSync(log, '');
    const hook = (what: string) => `echo "${what} $YOKE_EVENT $YOKE_SERVICE $YOKE_SERVER" >> ${log}`;
    const h = await start(spec('q', [server(a.address), server(b.address), server(c.address)], {
      sorryServer: { host: '127.0.0.1', port: sorry.port, family: 4 },
      health: healthSpec(fastCheck({ rise: 1, fall: 1 }), {
        quorum: { weight: 2, hysteresis: 1 },
        notify: { quorumUp: hook('gained'), quorumDown: hook('lost'), down: hook('server') },
      }),
    }));
    const fail = async (x: TcpBackend, to: 'up' | 'down') => {
      if (to === 'down') h.checker.verdicts.set(x.port, false); else h.checker.verdicts.delete(x.port);
      await until(() => h.svc.server(x.address).health === to, `${x.name} ${to}`);
    };
    await fail(a, 'down'); // live 2: 2 >= 2 - 1, quorum held
    assert.equal(h.svc.quorumUp, true);
    await fail(b, 'down'); // live 1: 1 >= 1, still held (hysteresis)
    assert.equal(h.svc.quorumUp, true);
    assert.equal(await whoAnswers(h.port), 'C');
    await fail(c, 'down'); // live 0: lost
    assert.equal(h.svc.quorumUp, false);
    assert.equal(await whoAnswers(h.port), 'SORRY');
    await fail(a, 'up'); // live 1 < 2 + 1
    await fail(b, 'up'); // live 2 < 3
    assert.equal(h.svc.quorumUp, false);
    assert.equal(await whoAnswers(h.port), 'SORRY', 'below quorum the sorry server serves, though A and B are up');
    await fail(c, 'up'); // live 3 >= 3: regained
    assert.equal(h.svc.quorumUp, true);
    assert.notEqual(await whoAnswers(h.port), 'SORRY');
    await until(() => readFileSync(log, 'utf8').split('\n').length >= 6, 'the hooks to run');
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n').map((l) => l.trim()), [
      `server down q ${a.address}`, `server down q ${b.address}`, `server down q ${c.address}`, 'lost quorum_down q', 'gained quorum_up q',
    ]);
    assert.deepEqual(h.failures, []);
  });

  it('notify: a server\'s own hook replaces the service\'s; a webhook gets every event as JSON; a failing hook is reported', async () => {
    const got: unknown[] = [];
    const hookServer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { got.push(JSON.parse(body)); res.end('ok'); });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
    stops.push(() => new Promise((r) => hookServer.close(() => r())));
    const url = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`;
    const h = await start(spec('hooks', [server(a.address), server(b.address)], {
      health: healthSpec(fastCheck({ rise: 1, fall: 1 }), {
        notify: { down: 'exit 3', webhook: url },
        servers: [[b.address, { health: undefined, notify: { up: undefined, down: 'true' } }]],
      }),
    }));
    h.checker.verdicts.set(a.port, 'HTTP 500 on /');
    h.checker.verdicts.set(b.port, false);
    await until(() => got.length >= 3 && h.failures.length >= 1, 'the webhook and the failed hook');
    assert.deepEqual(h.failures, ['exit 3: exit 3'], 'A runs the service hook (exit 3); B its own (true)');
    const events = got as HealthEvent[];
    assert.deepEqual(events.map((e) => `${e.event} ${e.server ?? '-'}`).sort(), [`down ${a.address}`, `down ${b.address}`, 'quorum_down -'].sort());
    assert.ok(events.every((e) => e.service === 'hooks' && typeof e.at === 'number'));
  });

  it('a reload that changes a check keeps the verdict; one that removes it brings the server up; a new server gets the service check', async () => {
    // A real port: a port-0 service is never edited in place (each bind gets a new port).
    const [free] = await freePorts(1);
    const h = await start(spec('rl', [server(a.address)], { listen: { host: '127.0.0.1', port: free as number, family: 4 }, health: healthSpec(fastCheck()) }));
    h.checker.verdicts.set(a.port, false);
    await until(() => h.svc.server(a.address).health === 'down', 'A down');
    await h.director.editService({ ...h.svc.spec, servers: [server(a.address), server(b.address)], health: healthSpec(fastCheck({ intervalMs: 40 })) });
    assert.equal(h.svc.server(a.address).health, 'down', 'a changed check keeps the verdict');
    h.checker.verdicts.set(b.port, false);
    await until(() => h.svc.server(b.address).health === 'down', 'the new server B is checked');
    await h.director.editService({ ...h.svc.spec, health: healthSpec(undefined) });
    assert.equal(h.director.service('rl'), h.svc, 'edited in place');
    assert.equal(h.svc.server(a.address).health, 'up');
    assert.equal(h.svc.server(b.address).health, 'up');
    const n = h.checker.checks;
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(h.checker.checks, n, 'no checks run any more');
  });

  it('at_shutdown (omega) reports up servers and the quorum as going down when the supervisor stops', async () => {
    const h = await start(spec('omega', [server(a.address)], { health: healthSpec(fastCheck(), { notify: { atShutdown: true } }) }));
    const { socket } = await connectAndGreet(h.port);
    socket.destroy();
    await h.health.stop();
    assert.deepEqual(said(h.events), [`down ${a.address}: shutdown`, 'quorum_down omega: shutdown']);
  });
});
