import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../services/config/load.ts';
import { diskReader, importKeepalived, looksLikeKeepalived } from '../../../services/config/keepalived/import.ts';
import { ENV } from '../helpers.ts';
import { COPIED_SAMPLES, SAMPLES_DIR, SHARED_SAMPLES } from './helpers.ts';

/**
 * What each of Keepalived's samples yields: every problem as `line:col CODE`, warnings marked. A sample either
 * imports (warnings at most) or is refused with errors that name the keyword yoke does not take, at its line.
 */
const EXPECTED: Record<string, string[]> = {
  'keepalived.conf.HTTP_GET.port': [],
  'keepalived.conf.IPv6': ['7:1 E_KEEPALIVED_KEYWORD warning'],
  'keepalived.conf.PING_CHECK': ['23:2 E_NOT_SUPPORTED warning'],
  'keepalived.conf.SMTP_CHECK': [
    '68:13 E_NOT_SUPPORTED', '72:13 E_NOT_SUPPORTED', '98:17 E_NOT_SUPPORTED warning', '101:13 E_NOT_SUPPORTED', '107:13 E_NOT_SUPPORTED',
  ],
  'keepalived.conf.SSL_GET': ['13:1 E_NOT_SUPPORTED warning'],
  'keepalived.conf.UDP_CHECK': [],
  'keepalived.conf.fwmark': ['7:1 E_NOT_SUPPORTED'],
  'keepalived.conf.inhibit': [],
  'keepalived.conf.misc_check': [],
  'keepalived.conf.misc_check_arg': [],
  'keepalived.conf.quorum': [],
  'keepalived.conf.sample': ['13:1 E_NOT_SUPPORTED warning'],
  'keepalived.conf.status_code': [],
  'keepalived.conf.virtual_server_group': ['18:2 E_NOT_SUPPORTED', '19:2 E_NOT_SUPPORTED'],
  'keepalived.conf.virtualhost': [],
  'keepalived.conf.vrrp.lvs_syncd': ['3:1 E_NOT_SUPPORTED warning', '8:1 E_NOT_SUPPORTED warning', '26:1 E_NOT_SUPPORTED warning', '38:1 E_NOT_SUPPORTED warning'],
  'extra/keepalived.conf.HTTP_GET.auth': [
    '14:1 E_NOT_SUPPORTED warning', '39:15 E_NOT_SUPPORTED', '40:15 E_NOT_SUPPORTED', '54:15 E_NOT_SUPPORTED', '55:15 E_NOT_SUPPORTED', '57:15 E_NOT_SUPPORTED warning',
  ],
  'extra/keepalived.conf.HTTP_GET.auth.simple': [
    '26:15 E_NOT_SUPPORTED', '27:15 E_NOT_SUPPORTED', '41:15 E_NOT_SUPPORTED', '42:15 E_NOT_SUPPORTED', '44:15 E_NOT_SUPPORTED warning',
  ],
  'extra/keepalived.conf.ci-linux': ['24:9 E_KEEPALIVED_KEYWORD', '29:9 E_KEEPALIVED_KEYWORD', '33:9 E_KEEPALIVED_KEYWORD', '37:9 E_KEEPALIVED_KEYWORD'],
  'extra/keepalived.conf.failover_pool': [
    '34:3 E_KEEPALIVED_KEYWORD', '35:3 E_KEEPALIVED_KEYWORD', '36:3 E_KEEPALIVED_KEYWORD', '58:3 E_KEEPALIVED_KEYWORD', '64:3 E_KEEPALIVED_KEYWORD',
  ],
};

/** The keyword each refused sample's errors must name. */
const REFUSED_FOR: Record<string, RegExp> = {
  'keepalived.conf.SMTP_CHECK': /^SMTP_CHECK with a second host block/,
  'keepalived.conf.fwmark': /^virtual_server fwmark 1: fwmark services need the kernel data plane/,
  'keepalived.conf.virtual_server_group': /^fwmark [12] in virtual_server_group VSG_1: fwmark services need the kernel data plane/,
  'extra/keepalived.conf.HTTP_GET.auth': /^(username|password) is not supported/,
  'extra/keepalived.conf.HTTP_GET.auth.simple': /^(username|password) is not supported/,
  'extra/keepalived.conf.ci-linux': /^unknown keyword "CI-LINUX" in real_server$/,
  'extra/keepalived.conf.failover_pool': /^unknown keyword "(failover_threshold|failover_up|failover_down|backup_real_server)" in virtual_server$/,
};

function samples(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /(^|\/)keepalived\.conf\./.test(f)).sort();
}

function load(name: string) {
  const file = join(SAMPLES_DIR, name);
  return importKeepalived(readFileSync(file, 'utf8'), file, diskReader, (yaml, f) => parseConfig(yaml, f, ENV));
}

const where = (r: ReturnType<typeof load>): string[] => r.result.problems.map((p) => `${p.line}:${p.col} ${p.code}${p.severity === 'warning' ? ' warning' : ''}`);

describe("Keepalived's sample configurations", () => {
  it('the copies in test/fixtures/keepalived are byte for byte the shared ones (when the shared folder is there)', () => {
    if (!existsSync(SHARED_SAMPLES)) return;
    const all = (d: string) => readdirSync(d, { recursive: true, encoding: 'utf8' }).sort();
    assert.deepEqual(all(COPIED_SAMPLES), all(SHARED_SAMPLES));
    for (const f of samples(SHARED_SAMPLES).concat(['INDEX.md', 'config-test-results.txt', 'COPYING.keepalived', 'make_index.py'])) {
      assert.ok(readFileSync(COPIED_SAMPLES + f).equals(readFileSync(SHARED_SAMPLES + f)), f);
    }
  });

  it('every sample has its expectation here', () => {
    assert.deepEqual(samples(SAMPLES_DIR), Object.keys(EXPECTED).sort());
  });

  it('every sample is recognised as a keepalived.conf by its content', () => {
    for (const name of Object.keys(EXPECTED)) assert.ok(looksLikeKeepalived(readFileSync(join(SAMPLES_DIR, name), 'utf8')), name);
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    const refused = REFUSED_FOR[name];
    it(`${name} ${refused ? 'is refused, each error naming the keyword at its line' : 'imports, and its YAML passes yoke\'s own check'}`, () => {
      const r = load(name);
      assert.deepEqual(where(r), expected);
      for (const p of r.result.problems) assert.equal(p.file, join(SAMPLES_DIR, name));
      if (refused) {
        assert.equal(r.yaml, undefined);
        assert.equal(r.result.config, undefined);
        for (const p of r.result.problems.filter((q) => q.severity === 'error')) assert.match(p.message, refused);
      } else {
        assert.ok(r.yaml !== undefined && r.result.config !== undefined);
        const again = parseConfig(r.yaml, 'imported.yaml', ENV);
        assert.deepEqual(again.problems, []);
        assert.ok(again.config!.services.length > 0);
        assert.ok(r.yaml.startsWith(`# yoke config imported from ${join(SAMPLES_DIR, name)}`));
      }
    });
  }

  it('keepalived.conf.quorum: quorum, hysteresis, alpha, omega and the hooks, with one check hoisted for all ten servers', () => {
    const svc = load('keepalived.conf.quorum').result.config!.services[0]!;
    assert.deepEqual([svc.name, svc.scheduler, svc.persistence?.timeoutMs], ['tcp-10.0.1.1-80', 'wrr', 900_000]);
    assert.deepEqual(svc.health.quorum, { weight: 7, hysteresis: 2 });
    assert.deepEqual([svc.health.notify.quorumUp, svc.health.notify.quorumDown, svc.health.notify.atShutdown], ['/usr/local/sbin/quorum-up.sh', '/usr/local/sbin/quorum-down.sh', true]);
    const check = svc.health.health;
    assert.deepEqual([check?.type, check?.port, check?.timeoutMs, check?.intervalMs, check?.rise, check?.fall, check?.alpha], ['tcp', 80, 3000, 6000, 1, 2, true]);
    assert.equal(svc.servers.length, 10);
  });

  it('keepalived.conf.status_code: each url keeps its own codes and ranges', () => {
    const check = load('keepalived.conf.status_code').result.config!.services[0]!.health.health;
    assert.ok(check?.type === 'https');
    assert.deepEqual(check.urls.map((u) => [u.path, u.status, u.digest]), [
      ['/', [{ low: 200, high: 299 }, { low: 400, high: 499 }, { low: 503, high: 503 }, { low: 505, high: 505 }], undefined],
      ['/mrtg/', [{ low: 200, high: 200 }], '9b3a0c85a887a256d6939da88aabd8cd'],
    ]);
    assert.deepEqual([check.fall, check.retryDelayMs], [4, 3000]);
  });

  it('keepalived.conf.sample: sorry server, digest and Keepalived\'s 200-299 default', () => {
    const svc = load('keepalived.conf.sample').result.config!.services[0]!;
    assert.deepEqual(svc.sorryServer, { host: '192.168.200.200', port: 1358, family: 4 });
    const check = svc.health.health;
    assert.ok(check?.type === 'http');
    assert.deepEqual(check.urls, [{ path: '/testurl3/test.jsp', status: [{ low: 200, high: 299 }], digest: '640205b7b0fc66c1ea91c463fac6334d' }]);
  });

  it('keepalived.conf.inhibit and virtualhost: inhibit_on_failure and the Host header', () => {
    assert.equal(load('keepalived.conf.inhibit').result.config!.services[0]!.health.health?.inhibitOnFailure, true);
    const check = load('keepalived.conf.virtualhost').result.config!.services[0]!.health.health;
    assert.equal(check?.type === 'https' && check.host, 'www.firewall.loc');
  });

  it('keepalived.conf.misc_check: MISC_CHECK retries 0 times and times out at its delay_loop', () => {
    const check = load('keepalived.conf.misc_check').result.config!.services[0]!.health.health;
    assert.deepEqual(check?.type === 'exec' && [check.command, check.fall, check.timeoutMs, check.dynamic], ['/usr/local/bin/script.sh', 1, 6000, false]);
  });

  it('keepalived.conf.HTTP_GET.port: connect_port becomes the check port', () => {
    const check = load('keepalived.conf.HTTP_GET.port').result.config!.services[0]!.health.health;
    assert.deepEqual([check?.type, check?.port], ['https', 444]);
  });

  it('keepalived.conf.PING_CHECK: an exec check of ping on a udp service', () => {
    const svc = load('keepalived.conf.PING_CHECK').result.config!.services[0]!;
    assert.equal(svc.mode, 'udp');
    assert.deepEqual(svc.health.health?.type === 'exec' && [svc.health.health.command, svc.health.health.fall, svc.health.health.timeoutMs], ['ping -c 1 -W 5 192.168.200.6', 5, 6000]);
  });
});
