import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { looksLikeKeepalived } from '../../../services/config/keepalived/import.ts';
import { expandRange } from '../../../services/config/keepalived/ranges.ts';
import { conf, importText, placed } from './helpers.ts';

/** One virtual server around the given lines, with one real server. */
function vs(...body: string[]): string {
  return conf('virtual_server 10.0.0.1 80 {', ...body.map((l) => `  ${l}`), '  real_server 10.0.0.2 8080 {', '  }', '}');
}

function yamlOf(text: string, files: Record<string, string> = {}): Record<string, unknown> {
  const r = importText(text, files);
  assert.ok(r.yaml, JSON.stringify(r.result.problems, null, 1));
  return parseYaml(r.yaml) as Record<string, unknown>;
}

const service = (text: string): Record<string, unknown> => (yamlOf(text).services as Record<string, unknown>[])[0]!;

describe('keepalived.conf → yoke YAML', () => {
  it('writes Keepalived\'s defaults where yoke\'s differ: delay_loop 60 s, connect_timeout 5 s, rise 1, retry 1, delay_before_retry 1 s, warmup up to delay_loop', () => {
    const svc = service(conf('virtual_server 10.0.0.1 80 {', '  real_server 10.0.0.2 80 {', '    TCP_CHECK {', '    }', '  }', '}'));
    assert.deepEqual(svc.health, { type: 'tcp', interval: '60s', timeout: '5s', rise: 1, fall: 2, retry_delay: '1s', warmup: '60s' });
    assert.deepEqual([svc.name, svc.listen, svc.mode, svc.scheduler], ['tcp-10.0.0.1-80', '10.0.0.1:80', 'tcp', 'wlc']);
  });

  it('cascades timing from virtual server to real server to checker, the nearest winning, fractions as ms', () => {
    const text = conf(
      'virtual_server 10.0.0.1 80 {', '  delay_loop 2.5', '  retry 4', '  real_server 10.0.0.2 80 {', '    connect_timeout 0.25',
      '    HTTP_GET { retry 2\n url { path /h } }', '  }', '  real_server 10.0.0.3 80 {', '    HTTP_GET { url { path /h } }', '  }', '}',
    );
    const [a, b] = (service(text).servers as { health: Record<string, unknown> }[]).map((s) => s.health);
    assert.deepEqual([a?.interval, a?.timeout, a?.fall, a?.retry_delay, a?.expect_status], ['2500ms', '250ms', 3, '3s', ['200-299']]);
    assert.deepEqual([b?.interval, b?.timeout, b?.fall], ['2500ms', '5s', 5]);
  });

  it('maps scheduler, persistence with granularity, protocol, sorry server, thresholds and notify hooks', () => {
    const svc = service(conf(
      'virtual_server 10.0.0.1 53 {', '  lb_algo sh', '  sh-port', '  persistence_timeout', '  persistence_granularity 24', '  protocol UDP',
      '  sorry_server 10.0.0.9', '  real_server 10.0.0.2 {', '    weight 3', '    uthreshold 100', '    lthreshold 10',
      '    notify_up "/bin/up x"', '    notify_down /bin/down', '  }', '}',
    ));
    assert.deepEqual(svc.scheduler_options, { fallback: false, hash_port: true });
    assert.deepEqual(svc.persistence, { timeout: '360s', netmask: '255.255.255.0' });
    assert.deepEqual([svc.mode, svc.sorry_server], ['udp', '10.0.0.9:53']);
    assert.deepEqual(svc.servers, [{ address: '10.0.0.2:53', weight: 3, max_conns: 100, min_conns: 10, notify: { up: '/bin/up x', down: '/bin/down' } }]);
  });

  it('gives an IPv6 service a prefix length as persistence granularity and a name without colons', () => {
    const svc = service(conf('virtual_server ae00::1 80 {', '  persistence_timeout 50', '  persistence_granularity 64', '  real_server ae00::10 80 {', '  }', '}'));
    assert.deepEqual([svc.name, svc.listen, svc.persistence], ['tcp-ae00__1-80', '[ae00::1]:80', { timeout: '50s', prefix6: 64 }]);
  });

  it('expands a virtual_server_group into one service per address, sharing one persistence group', () => {
    const services = yamlOf(conf(
      'virtual_server_group web {', '  192.168.200.1-3 80', '  10.0.0.5 8080', '}',
      'virtual_server group web {', '  persistence_timeout 30', '  real_server 10.0.1.1 80 {', '  }', '}',
    )).services as Record<string, unknown>[];
    assert.deepEqual(services.map((s) => s.listen), ['192.168.200.1:80', '192.168.200.2:80', '192.168.200.3:80', '10.0.0.5:8080']);
    assert.ok(services.every((s) => (s.persistence as { group: string }).group === 'vsg-web'));
  });

  it('hoists a check shared by every server to the service, and keeps differing ones per server', () => {
    const same = service(conf('virtual_server 10.0.0.1 80 {', '  real_server 10.0.0.2 80 {', '    TCP_CHECK { connect_port 81 }', '  }', '  real_server 10.0.0.3 80 {', '    TCP_CHECK { connect_port 81 }', '  }', '}'));
    assert.equal((same.health as { port: number }).port, 81);
    assert.ok((same.servers as object[]).every((s) => !('health' in s)));
    const differ = service(conf('virtual_server 10.0.0.1 80 {', '  real_server 10.0.0.2 80 {', '    TCP_CHECK { connect_port 81 }', '  }', '  real_server 10.0.0.3 80 {', '  }', '}'));
    assert.equal(differ.health, undefined);
    assert.deepEqual((differ.servers as { health?: { port: number } }[]).map((s) => s.health?.port), [81, undefined]);
  });

  it('reads lvs_timeouts and notes the global_defs keywords it does not use in the header', () => {
    const r = importText(conf('global_defs {', '  router_id x', '  lvs_timeouts tcp 7200 udp 60', '}', vs()));
    assert.deepEqual((parseYaml(r.yaml!) as { timeouts: unknown }).timeouts, { tcp: '7200s', udp: '60s' });
    assert.match(r.yaml!, /^# not used by yoke: router_id$/m);
    assert.deepEqual(r.result.problems, []);
  });

  it('UDP_CHECK payload and require_reply as hex, MISC_CHECK with misc_dynamic and misc_timeout', () => {
    const udp = service(conf('virtual_server 10.0.0.1 53 {', '  protocol UDP', '  real_server 10.0.0.2 53 {', '    UDP_CHECK {', '      payload Ab12f 3', '      require_reply 0a0B', '    }', '  }', '}'));
    assert.deepEqual([(udp.health as Record<string, unknown>).send, (udp.health as Record<string, unknown>).expect, (udp.health as Record<string, unknown>).require_reply], ['hex:ab120f03', 'hex:0a0b', true]);
    const misc = service(conf('virtual_server 10.0.0.1 80 {', '  real_server 10.0.0.2 80 {', '    MISC_CHECK {', '      misc_path /bin/check arg "two words"', '      misc_timeout 4', '      misc_dynamic', '    }', '  }', '}'));
    assert.deepEqual(misc.health, { type: 'exec', interval: '60s', timeout: '4s', rise: 1, fall: 1, retry_delay: '1s', warmup: '60s', command: "/bin/check arg 'two words'", dynamic: true });
  });

  it('warns that DR and TUN run as NAT, at their lines', () => {
    const r = importText(vs('lb_kind DR'));
    assert.deepEqual(placed(r.result), ['keepalived.conf:2:3 E_NOT_SUPPORTED warning']);
    assert.match(r.result.problems[0]!.message, /^lb_kind DR needs the kernel data plane/);
    assert.ok(r.result.config);
  });

  it('reports every unknown, misplaced or malformed keyword in one pass, each at its line and column', () => {
    const r = importText(conf(
      'virtual_server 10.0.0.1 80 {', '  lb_algo fastest', '  wieght 3', '  delay_loop soon', '  real_server 10.0.0.2 80 {',
      '    DNS_CHECK {', '    }', '  }', '  real_server 10.0.0.3 80 {', '    TCP_CHECK {', '    }', '    HTTP_GET {', '    }', '  }', '}', 'bogus_block {', '}',
    ));
    assert.deepEqual(placed(r.result), [
      'keepalived.conf:2:11 E_UNKNOWN_SCHEDULER', 'keepalived.conf:3:3 E_KEEPALIVED_KEYWORD', 'keepalived.conf:4:14 E_KEEPALIVED_KEYWORD',
      'keepalived.conf:6:5 E_NOT_SUPPORTED', 'keepalived.conf:12:5 E_NOT_SUPPORTED', 'keepalived.conf:16:1 E_KEEPALIVED_KEYWORD',
    ]);
    assert.deepEqual(r.result.problems.map((p) => p.message), [
      'lb_algo "fastest" is not an IPVS scheduler yoke has: use one of rr, wrr, lc, wlc, sed, nq, sh, dh, lblc, lblcr, mh, fo, ovf, twos',
      'unknown keyword "wieght" in virtual_server',
      'delay_loop "soon" is not a time in seconds (such as 3 or 0.5)',
      'DNS_CHECK is not supported: check the server with a MISC_CHECK that runs dig (an exec check)',
      'HTTP_GET is a second checker of this real_server (the first is TCP_CHECK at line 10): yoke runs one check per server; keep one',
      'unknown keyword "bogus_block" in the top level',
    ]);
    assert.equal(r.yaml, undefined);
  });

  it('places a problem found by yoke\'s own validation at the keepalived line the value came from', () => {
    const r = importText(conf('virtual_server 10.0.0.1 80 {', '  real_server 10.0.0.2 80 {', '    weight 70000', '  }', '}'));
    assert.deepEqual(placed(r.result), ['keepalived.conf:3:5 E_BAD_WEIGHT']);
  });

  it('names the keepalived line of the first in a duplicate\'s message', () => {
    const r = importText(conf('virtual_server 10.0.0.1 80 {', '}', '', 'virtual_server 10.0.0.1 80 {', '}'));
    const dup = r.result.problems.find((p) => p.code === 'E_CONFIG_DUPLICATE');
    assert.equal(dup?.line, 4);
    assert.match(dup!.message, /line 1\b/);
  });

  it('reports the vrrp blocks as not active yet and keeps them out of the YAML', () => {
    const r = importText(conf('vrrp_instance VI_1 {', '  state MASTER', '}', vs()));
    assert.deepEqual(placed(r.result), ['keepalived.conf:1:1 E_NOT_SUPPORTED warning']);
    assert.match(r.result.problems[0]!.message, /not active yet \(failover comes later\)/);
    assert.match(r.yaml!, /^# kept for failover, not active yet: vrrp_instance VI_1 \(line 1\)$/m);
  });

  it('refuses conditional lines and parameters with their own message', () => {
    const r = importText(conf('@main global_defs {', '}', '$X=1', vs()));
    assert.deepEqual(r.result.problems.map((p) => `${p.line} ${p.code}`), ['1 E_NOT_SUPPORTED', '3 E_NOT_SUPPORTED']);
  });

  it('reads virtual servers from included files, placing problems in them', () => {
    const r = importText('include conf.d/*.conf\n', { 'conf.d/a.conf': vs('lb_algo nope') });
    assert.deepEqual(placed(r.result), ['a.conf:2:11 E_UNKNOWN_SCHEDULER']);
  });
});

describe('keepalived.conf detection', () => {
  it('knows a keepalived.conf by its first keyword, past comments', () => {
    assert.ok(looksLikeKeepalived('! Configuration File\n\nglobal_defs {\n}'));
    assert.ok(looksLikeKeepalived('# x\nvirtual_server 1.2.3.4 80 {'));
    assert.ok(looksLikeKeepalived('include /etc/keepalived/*.conf'));
    assert.ok(looksLikeKeepalived('vrrp_instance VI_1 {'));
  });

  it('takes YAML for YAML, even a key named like a Keepalived block', () => {
    assert.ok(!looksLikeKeepalived('services:\n  - name: x'));
    assert.ok(!looksLikeKeepalived('# yoke\nglobal_defs: 1'));
    assert.ok(!looksLikeKeepalived('---\nservices: []'));
    assert.ok(!looksLikeKeepalived(''));
  });
});

describe('virtual_server_group address ranges', () => {
  it('expands last-part ranges, full ranges and prefixes, IPv4 and IPv6', () => {
    assert.deepEqual(expandRange('192.168.200.1-3'), ['192.168.200.1', '192.168.200.2', '192.168.200.3']);
    assert.deepEqual(expandRange('10.0.0.255-10.0.1.1'), ['10.0.0.255', '10.0.1.0', '10.0.1.1']);
    assert.deepEqual(expandRange('10.0.0.9/31'), ['10.0.0.8', '10.0.0.9']);
    assert.deepEqual(expandRange('ae00::2-4'), ['ae00::2', 'ae00::3', 'ae00::4']);
    assert.deepEqual(expandRange('ae00::fe/127'), ['ae00::fe', 'ae00::ff']);
  });

  it('refuses what is not a range, runs backwards, or is too large to be services', () => {
    assert.equal(typeof expandRange('10.0.0.5-3'), 'string');
    assert.equal(typeof expandRange('10.0.0.0/8'), 'string');
    assert.equal(typeof expandRange('www-1'), 'string');
    assert.equal(typeof expandRange('::ffff:1.2.3.4-zz'), 'string');
  });
});
