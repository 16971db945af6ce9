import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ServiceSpec, TimeoutSpec } from '../../core/spec.ts';
import { DEFAULTS } from '../../services/config/defaults.ts';
import { formatProblem, loadConfigFile } from '../../services/config/load.ts';
import { check, MINIMAL, yaml } from './helpers.ts';

function isDeepFrozen(v: unknown): boolean {
  return typeof v !== 'object' || v === null || (Object.isFrozen(v) && Object.values(v).every(isDeepFrozen));
}

describe('loading a config', () => {
  it('a minimal service gets every default from the one defaults table', () => {
    const r = check(MINIMAL);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.config, {
      admin: undefined,
      timeouts: { tcpMs: 900_000, tcpFinMs: 120_000, udpMs: 300_000 },
      shutdownGraceMs: 30_000,
      directories: new Map(),
      services: [{
        name: 'web',
        listen: { host: '127.0.0.1', port: 8080, family: 4 },
        mode: DEFAULTS.service.mode,
        scheduler: 'wlc',
        schedulerOptions: { fallback: true, hashPort: false, tableSize: 65521, expireMs: 86_400_000 },
        persistence: undefined,
        proxyProtocol: 'off',
        sorryServer: undefined,
        maxConns: 0,
        connectTimeoutMs: 5000,
        retries: 2,
        tls: undefined,
        servers: [{ name: undefined, address: { host: '127.0.0.1', port: 9001, family: 4 }, weight: 1, maxConns: 0, minConns: 0 }],
        sticky: undefined,
        health: {
          health: undefined,
          quorum: { weight: 1, hysteresis: 0 },
          notify: { up: undefined, down: undefined, quorumUp: undefined, quorumDown: undefined, webhook: undefined, timeoutMs: 10_000, atShutdown: false },
          servers: new Map(),
        },
      }],
    });
  });

  it('written values override the defaults, durations become milliseconds and IPv6 endpoints parse', () => {
    const r = check(yaml(
      'timeouts: { tcp: 15m, tcpfin: 1m, udp: 300ms }',
      'shutdown_grace: 0s',
      'services:',
      '  - name: dns',
      '    listen: "[::1]:53"',
      '    mode: udp',
      '    scheduler: mh',
      '    scheduler_options: { table_size: 251, hash_port: true, fallback: false }',
      '    persistence: {}',
      '    sorry_server: "[::1]:5353"',
      '    max_conns: 10',
      '    connect_timeout: 250ms',
      '    retries: 0',
      '    servers:',
      '      - { name: ns1, address: "[2001:db8::1]:53", weight: 0, max_conns: 10, min_conns: 5 }',
    ));
    assert.deepEqual(r.problems, []);
    const c = r.config;
    assert.deepEqual(c?.timeouts, { tcpMs: 900_000, tcpFinMs: 60_000, udpMs: 300 });
    assert.equal(c?.shutdownGraceMs, 0);
    const s = c?.services[0];
    assert.deepEqual(s?.listen, { host: '::1', port: 53, family: 6 });
    assert.deepEqual(s?.schedulerOptions, { fallback: false, hashPort: true, tableSize: 251, expireMs: 86_400_000 });
    assert.deepEqual(s?.persistence, { timeoutMs: 300_000, netmask: '255.255.255.255', prefix6: 128, group: undefined });
    assert.deepEqual([s?.maxConns, s?.connectTimeoutMs, s?.retries], [10, 250, 0]);
    assert.deepEqual(s?.servers[0], { name: 'ns1', address: { host: '2001:db8::1', port: 53, family: 6 }, weight: 0, maxConns: 10, minConns: 5 });
  });

  it('the config is frozen at every depth', () => {
    const r = check(yaml(MINIMAL, '    health: { type: http, expect_status: [200, 204] }'));
    assert.ok(r.config && isDeepFrozen(r.config));
    assert.throws(() => { (r.config?.services[0]?.servers as unknown[]).push(1); }, TypeError);
  });

  it('config is undefined exactly when a problem is an error; warnings keep it', () => {
    assert.ok(check(yaml(MINIMAL, '    health: { type: tcp }')).config);
    assert.equal(check(yaml(MINIMAL, '    weight: 1')).config, undefined);
  });

  it('a service config is what the core runs: ServiceConfig satisfies ServiceSpec and the timeouts TimeoutSpec', () => {
    const c = check(MINIMAL).config;
    assert.ok(c);
    const specs: readonly ServiceSpec[] = c.services;
    const timeouts: TimeoutSpec = c.timeouts;
    assert.equal(specs.length, 1);
    assert.equal(timeouts.tcpMs, 900_000);
  });

  it('a problem prints as file:line:col: message, a warning with "warning: " before the message', () => {
    const base = { file: 'y.yaml', line: 3, col: 7, code: 'E_CONFIG_INVALID' } as const;
    assert.equal(formatProblem({ ...base, severity: 'error', message: 'bad' }), 'y.yaml:3:7: bad');
    assert.equal(formatProblem({ ...base, severity: 'warning', message: 'odd' }), 'y.yaml:3:7: warning: odd');
  });

  it('loadConfigFile reads the file and reports with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'yoke-config-'));
    const file = join(dir, 'yoke.yaml');
    writeFileSync(file, yaml(MINIMAL, '    retries: 99'));
    const r = loadConfigFile(file);
    assert.deepEqual(r.problems.map(formatProblem), [`${file}:6:14: services[0].retries: 99 is out of range 0..10`]);
  });

  it('a file that cannot be read is an E_CONFIG_READ problem at 1:1, not a throw', () => {
    const r = loadConfigFile('/nonexistent/yoke.yaml');
    assert.equal(r.config, undefined);
    assert.deepEqual(r.problems.map((p) => [p.file, p.line, p.col, p.code, p.severity]), [['/nonexistent/yoke.yaml', 1, 1, 'E_CONFIG_READ', 'error']]);
    assert.match(r.problems[0]?.message ?? '', /ENOENT/);
  });

  it('an alias bomb is refused as a problem, not a hang or a throw', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
    const r = check(yaml(...lines));
    assert.equal(r.config, undefined);
    assert.equal(r.problems[0]?.code, 'E_CONFIG_SYNTAX');
  });

  it('more than one YAML document is a syntax error', () => {
    const r = check(`${MINIMAL}---\n${MINIMAL}`);
    assert.deepEqual(r.problems.map((p) => [p.line, p.code]), [[6, 'E_CONFIG_SYNTAX']]);
  });
});
