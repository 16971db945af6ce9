import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { deadPort, tcpBackend } from '../../helpers/backends.ts';
import { sleep, whoAnswers } from '../../helpers/clients.ts';
import { freePorts, startYoke, yoke } from '../../helpers/daemon.ts';
import { SAMPLES_DIR } from './helpers.ts';

/** Writes files into a fresh folder; returns the path of the first. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'yoke-keepalived-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return join(dir, Object.keys(files)[0]!);
}

describe('yoke import, check and run with a keepalived.conf', () => {
  it('yoke import prints the YAML with a header naming the source, and warnings on stderr', async () => {
    const file = join(SAMPLES_DIR, 'keepalived.conf.sample');
    const r = await yoke(['import', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(`# yoke config imported from ${file}`));
    assert.equal((parseYaml(r.stdout) as { services: { listen: string }[] }).services[0]?.listen, '10.10.10.2:1358');
    assert.match(r.stderr, /keepalived\.conf\.sample:13:1: warning: vrrp_instance VI_1: not active yet \(failover comes later\)/);
  });

  it('yoke import of a refused file prints nothing on stdout, every error on stderr, and exits 1', async () => {
    const r = await yoke(['import', join(SAMPLES_DIR, 'keepalived.conf.virtual_server_group')]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.deepEqual(r.stderr.trim().split('\n').map((l) => l.replace(/^.*\//, '')), [
      'keepalived.conf.virtual_server_group:18:2: fwmark 1 in virtual_server_group VSG_1: fwmark services need the kernel data plane (not in this version); list IP PORT members',
      'keepalived.conf.virtual_server_group:19:2: fwmark 2 in virtual_server_group VSG_1: fwmark services need the kernel data plane (not in this version); list IP PORT members',
    ]);
  });

  it('yoke import without a file is a usage error', async () => {
    const r = await yoke(['import']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /E_USAGE/);
  });

  it('yoke check -c takes a keepalived.conf as it is, includes and all', async () => {
    const file = folder({ 'keepalived.conf': '! main\ninclude conf.d/*.conf\n' });
    const dir = join(file, '..', 'conf.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'web.conf'), 'virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  real_server 10.0.0.2 80 {\n    weight 2\n  }\n}\n');
    const ok = await yoke(['check', '-c', file]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(ok.stdout, `${file}: ok (1 service)\n`);
    writeFileSync(join(dir, 'web.conf'), 'virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  real_server 10.0.0.2 80 {\n    weight 70000\n  }\n');
    const bad = await yoke(['check', '-c', file]);
    assert.equal(bad.code, 1);
    assert.deepEqual(bad.stdout.trim().split('\n').map((l) => l.replace(/^.*\//, '').replace(/: .*$/, '')), ['web.conf:1:1', 'web.conf:4:5']);
  });

  it('yoke run -c keepalived.conf balances over the live real servers and takes out the dead one', async () => {
    const [a, b] = await Promise.all([tcpBackend('A'), tcpBackend('B')]);
    const [vip] = (await freePorts(1)) as [number];
    const dead = await deadPort();
    const file = folder({
      'keepalived.conf': [
        'virtual_server 127.0.0.1 ' + vip + ' {',
        '    lb_algo rr',
        '    lb_kind NAT',
        '    protocol TCP',
        '    delay_loop 0.2',
        '    warmup 0',
        ...[a.port, b.port, dead].map((p) => `    real_server 127.0.0.1 ${p} {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 0.5\n            retry 0\n        }\n    }`),
        '}',
        '',
      ].join('\n'),
    });
    const run = await startYoke(file, {}, 'service up');
    try {
      for (let i = 0; i < 50 && !run.logs.some((l) => l.includes(`127.0.0.1:${dead} is down`)); i++) await sleep(100);
      assert.ok(run.logs.some((l) => l.includes(`127.0.0.1:${dead} is down`)), run.logs.join('\n'));
      const names: string[] = [];
      for (let i = 0; i < 10; i++) names.push(await whoAnswers(vip));
      assert.deepEqual([names.filter((n) => n === 'A').length, names.filter((n) => n === 'B').length], [5, 5]);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      await Promise.all([a.close(), b.close()]);
    }
  });
});
