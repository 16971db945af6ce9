import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tcpBackend, type TcpBackend } from '../helpers/backends.ts';
import { connectAndGreet, drainUntilClose, sleep, whoAnswers } from '../helpers/clients.ts';
import { freePorts, startYoke, writeConfig, yoke, type Running } from '../helpers/daemon.ts';

const TOKEN = 'test-token-5f1c';

describe('yoke run, the admin API and yoke ctl, as an operator uses them', () => {
  let a: TcpBackend, b: TcpBackend, c: TcpBackend;
  let vip: number, admin: number;
  let file: string;
  let run: Running;
  const env = { YOKE_ADMIN_TOKEN: TOKEN };
  const ctl = (...args: string[]) => yoke(['ctl', '--admin', `127.0.0.1:${admin}`, ...args], env);
  const config = (weights: [number, number]) => `admin:
  listen: 127.0.0.1:${admin}
  token: env:YOKE_ADMIN_TOKEN
services:
  - name: web
    listen: 127.0.0.1:${vip}
    mode: tcp
    scheduler: wrr
    servers:
      - address: ${a.address}
        weight: ${weights[0]}
      - address: ${b.address}
        weight: ${weights[1]}
`;
  before(async () => {
    [a, b, c] = await Promise.all([tcpBackend('A'), tcpBackend('B'), tcpBackend('C')]);
    [vip, admin] = (await freePorts(2)) as [number, number];
    file = writeConfig(config([1, 1]));
    run = await startYoke(file, env);
  });
  after(async () => {
    run.child.kill('SIGKILL');
    await Promise.all([a, b, c].map((x) => x.close()));
  });

  it('the admin API refuses a request without the token or with a wrong one (401), and takes the right one', async () => {
    const url = `http://127.0.0.1:${admin}/api/v1/services`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="yoke"');
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'E_ADMIN_AUTH');
    assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { name: string }[])[0]?.name, 'web');
  });

  it('yoke ctl without a token gets a clear error and exit 1', async () => {
    const r = await yoke(['ctl', '--admin', `127.0.0.1:${admin}`, '-L', '-n'], { YOKE_ADMIN_TOKEN: '' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_ADMIN_AUTH/);
  });

  it('yoke ctl -L -n lists services and servers the way ipvsadm does', async () => {
    const held = await connectAndGreet(vip);
    const r = await ctl('-L', '-n');
    held.socket.destroy();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[1], 'Prot LocalAddress:Port Scheduler Flags');
    assert.equal(lines[2], '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn State');
    assert.equal(lines[3], `TCP  127.0.0.1:${vip} wrr  (web)`);
    assert.match(lines[4]!, new RegExp(`^  -> ${a.address.replace(/\./g, '\\.')}\\s+Proxy\\s+1\\s+1\\s+0$`));
    assert.match(lines[5]!, new RegExp(`^  -> ${b.address.replace(/\./g, '\\.')}\\s+Proxy\\s+1\\s+0\\s+0$`));
  });

  it('yoke ctl adds, edits, drains and deletes a real server live', async () => {
    assert.equal((await ctl('-a', '-t', `127.0.0.1:${vip}`, '-r', c.address, '-w', '2', '-x', '100', '-y', '50')).code, 0);
    let list = (await ctl('-L', '-n')).stdout;
    assert.match(list, new RegExp(`-> ${c.address}\\s+Proxy\\s+2 `));
    assert.equal((await ctl('-e', '-t', `127.0.0.1:${vip}`, '-r', c.address, '-w', '5')).code, 0);
    list = (await ctl('-L', '-n')).stdout;
    assert.match(list, new RegExp(`-> ${c.address}\\s+Proxy\\s+5 `));
    assert.equal((await ctl('--drain', '-t', `127.0.0.1:${vip}`, '-r', c.address)).code, 0);
    list = (await ctl('-L', '-n')).stdout;
    assert.match(list, new RegExp(`-> ${c.address}\\s+Proxy\\s+0\\s+\\d+\\s+\\d+\\s+drain`));
    for (let i = 0; i < 6; i++) assert.notEqual(await whoAnswers(vip), 'C');
    const dup = await ctl('-a', '-t', `127.0.0.1:${vip}`, '-r', c.address);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /E_SERVER_EXISTS/);
    assert.equal((await ctl('-d', '-t', `127.0.0.1:${vip}`, '-r', c.address)).code, 0);
    assert.doesNotMatch((await ctl('-L', '-n')).stdout, new RegExp(c.address));
    const gone = await ctl('-d', '-t', `127.0.0.1:${vip}`, '-r', c.address);
    assert.match(gone.stderr, /E_NO_SUCH_SERVER/);
  });

  it('yoke ctl -A makes an empty service as ipvsadm -A does, -a fills it, -D removes it', async () => {
    const [port] = (await freePorts(1)) as [number];
    const add = await ctl('-A', '-t', `127.0.0.1:${port}`, '-s', 'wlc', '-p', '120');
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, new RegExp(`TCP  127\\.0\\.0\\.1:${port} wlc persistent 120  \\(tcp-127-0-0-1-${port}\\)`));
    await assert.rejects(whoAnswers(port), 'no server yet: refused');
    assert.equal((await ctl('-a', '-t', `127.0.0.1:${port}`, '-r', c.address)).code, 0);
    assert.equal(await whoAnswers(port), 'C');
    assert.equal((await ctl('-D', '-t', `127.0.0.1:${port}`)).code, 0);
    await assert.rejects(whoAnswers(port), 'removed: nothing listens');
  });

  it('yoke ctl --stats, --rate, --persistent-conns and -L -c show counters, rates, templates and connections', async () => {
    const held = await connectAndGreet(vip);
    await sleep(50);
    const stats = (await ctl('-L', '-n', '--stats')).stdout;
    assert.match(stats.split('\n')[0]!, /Prot LocalAddress:Port\s+Conns\s+InPkts\s+OutPkts\s+InBytes\s+OutBytes/);
    const svcRow = stats.split('\n').find((l) => l.startsWith('TCP'))!;
    assert.ok(Number(svcRow.trim().split(/\s+/)[2]) >= 1, svcRow);
    assert.match((await ctl('-L', '-n', '--rate')).stdout, /CPS\s+InPPS\s+OutPPS\s+InBPS\s+OutBPS/);
    assert.match((await ctl('-L', '-n', '--persistent-conns')).stdout, /PersistConn/);
    const conns = (await ctl('-L', '-n', '-c')).stdout;
    assert.match(conns, new RegExp(`TCP \\d\\d:\\d\\d\\s+ESTABLISHED 127\\.0\\.0\\.1:\\d+\\s+127\\.0\\.0\\.1:${vip}\\s+127\\.0\\.0\\.1:\\d+`));
    held.socket.destroy();
  });

  it('a reload (SIGHUP) changes weights under load without dropping a connection', async () => {
    let failures = 0;
    let done = 0;
    const seen = new Map<string, number>();
    const stopAt = Date.now() + 3000;
    const load = async () => {
      while (Date.now() < stopAt && done < 3000) {
        try {
          const s = await connectAndGreet(vip);
          seen.set(s.name, (seen.get(s.name) ?? 0) + 1);
          s.socket.write('x');
          const closed = drainUntilClose(s.socket);
          s.socket.end();
          const r = await closed;
          if (!r.data.toString().endsWith(`bye ${s.name}\n`)) failures++;
        } catch { failures++; }
        done++;
      }
    };
    const workers = Array.from({ length: 8 }, load);
    await sleep(700);
    writeFileSync(file, config([1, 0]));
    run.child.kill('SIGHUP');
    await sleep(800);
    seen.clear();
    await Promise.all(workers);
    assert.equal(failures, 0, `${failures} of ${done} connections failed`);
    assert.ok(done > 50, `only ${done} connections`);
    assert.equal(seen.get('B') ?? 0, 0, `after the reload B has weight 0: ${JSON.stringify([...seen])}`);
    assert.ok(run.logs.some((l) => l.includes('"reloaded"')));
  });

  it('a bad config on reload is rejected with file:line:col errors and the running one stays', async () => {
    writeFileSync(file, config([1, 1]).replace('scheduler: wrr', 'scheduler: wrr\n    bogus_key: 1'));
    const r = await ctl('--reload');
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${file.replace(/\./g, '\\.')}:9:5: .*bogus_key`));
    assert.equal(await whoAnswers(vip), 'A', 'still serving with the old config (B at weight 0)');
    writeFileSync(file, config([1, 1]));
    assert.equal((await ctl('--reload')).code, 0);
  });

  it('a reload that changes admin.token applies at once: the old token gets 401, the new one works', async () => {
    const tokenFile = join(dirname(file), 'token');
    writeFileSync(tokenFile, 'rotated-token-77\n');
    writeFileSync(file, config([1, 1]).replace('token: env:YOKE_ADMIN_TOKEN', `token: file:${tokenFile}`));
    run.child.kill('SIGHUP');
    const url = `http://127.0.0.1:${admin}/api/v1/services`;
    let status = 0;
    for (let i = 0; i < 50 && status !== 401; i++) { await sleep(100); status = (await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status; }
    assert.equal(status, 401, 'the old token is refused after the reload');
    assert.equal((await fetch(url, { headers: { authorization: 'Bearer rotated-token-77' } })).status, 200);
    writeFileSync(file, config([1, 1]));
    run.child.kill('SIGHUP');
    for (let i = 0; i < 50 && status !== 200; i++) { await sleep(100); status = (await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status; }
    assert.equal(status, 200, 'back to the first token');
  });

  it('SIGTERM stops accepting, lets an open connection finish, and exits 0', async () => {
    const held = await connectAndGreet(vip);
    run.child.kill('SIGTERM');
    await sleep(300);
    await assert.rejects(whoAnswers(vip), 'no new connections once stopping');
    held.socket.write('last words\n');
    const closed = drainUntilClose(held.socket);
    held.socket.end();
    assert.match((await closed).data.toString(), /^last words\nbye [AB]\n$/);
    assert.equal(await run.exited, 0);
  });
});

describe('yoke check', () => {
  it('prints every problem as file:line:col: message and exits 1', async () => {
    const file = writeConfig('services:\n  - name: x\n    listen: 127.0.0.1:80\n    mode: tcp\n    colour: blue\n    servers:\n      - address: 10.0.0.1\n');
    const r = await yoke(['check', '-c', file]);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length >= 2, r.stdout);
    assert.ok(lines.every((l) => l.startsWith(`${file}:`)), r.stdout);
    assert.match(r.stdout, new RegExp(`${file.replace(/\./g, '\\.')}:5:5: .*colour`));
    assert.match(r.stdout, new RegExp(`${file.replace(/\./g, '\\.')}:7:18: .*10\\.0\\.0\\.1`));
  });

  it('a missing file is an error naming the file, not a crash', async () => {
    const r = await yoke(['check', '-c', '/nonexistent/yoke.yaml']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\/nonexistent\/yoke\.yaml/);
  });
});
