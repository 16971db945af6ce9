import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { SCHEDULER_NAMES } from '../../core/schedulers/types.ts';
import type { ConfigResult } from '../../services/config/load.ts';
import { check, ENV } from './helpers.ts';
import { EXAMPLES_DIR } from '../helpers/shared.ts';

const EXAMPLE = readFileSync(EXAMPLES_DIR + 'l4-web.yaml', 'utf8');

/** What every result must satisfy, whatever the input. */
function assertWellFormed(text: string, r: ConfigResult): void {
  const errors = r.problems.filter((p) => p.severity === 'error');
  assert.equal(r.config === undefined, errors.length > 0, 'config is undefined exactly when there are errors');
  const lines = text.split('\n').length;
  for (const p of r.problems) {
    assert.ok(p.line >= 1 && p.line <= lines + 1 && p.col >= 1, `position ${p.line}:${p.col} lies in the text`);
    assert.ok(p.message.length > 0);
  }
}

/** The example with a few characters deleted, inserted or replaced: near-valid text, where a parser is most likely to slip. */
const mutatedExample = fc.array(
  fc.record({ at: fc.nat(EXAMPLE.length), cut: fc.nat(3), put: fc.string({ maxLength: 3, unit: fc.constantFrom(' ', ':', '-', '[', '{', '"', '\n', 'a', '0', '#', '&', '*', '!') }) }),
  { minLength: 1, maxLength: 4 },
).map((edits) => edits.reduce((t, e) => t.slice(0, e.at) + e.put + t.slice(e.at + e.cut), EXAMPLE));

const durationArb = fc.tuple(fc.integer({ min: 1, max: 500 }), fc.constantFrom('ms', 's', 'm', 'h')).map(([n, u]) => `${n}${u}`);
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const ms = (d: string): number => Number(/^\d+/.exec(d)?.[0]) * (UNIT_MS[d.replace(/^\d+/, '')] ?? Number.NaN);
const nameArb = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
const ipArb = fc.oneof(fc.ipV4(), fc.ipV6());
const endpoint = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
const PRIMES = [251, 509, 1021, 4093, 65521, 131071];

const serverArb = fc.record({
  name: fc.option(nameArb, { nil: undefined }),
  ip: ipArb,
  weight: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
  thresholds: fc.option(fc.integer({ min: 1, max: 100_000 }).chain((max) => fc.tuple(fc.constant(max), fc.integer({ min: 0, max: max - 1 }))), { nil: undefined }),
});

const healthArb = fc.oneof(
  fc.record({ type: fc.constant('tcp'), interval: durationArb }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constantFrom('http', 'https'), path: fc.constantFrom('/', '/healthz'), expect_status: fc.uniqueArray(fc.integer({ min: 100, max: 599 }), { minLength: 1, maxLength: 3 }), rise: fc.integer({ min: 1, max: 100 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('udp'), send: fc.constantFrom('hex:00', 'ping', 'hex:0a0B') }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('exec'), command: fc.constant('/bin/true'), dynamic: fc.boolean() }, { requiredKeys: ['type', 'command'] }),
);

const serviceArb = fc.record({
  name: nameArb,
  ip: ipArb,
  mode: fc.constantFrom('tcp', 'udp'),
  scheduler: fc.constantFrom(...SCHEDULER_NAMES),
  tableSize: fc.constantFrom(...PRIMES),
  persistence: fc.option(fc.record({ timeout: durationArb, netmask: fc.constantFrom('255.255.255.255', '255.255.255.0', '255.255.0.0', '0.0.0.0'), prefix6: fc.integer({ min: 0, max: 128 }) }, { requiredKeys: [] }), { nil: undefined }),
  proxy: fc.constantFrom('off', 'v1', 'v2'),
  connectTimeout: fc.option(durationArb, { nil: undefined }),
  retries: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
  servers: fc.array(serverArb, { minLength: 1, maxLength: 4 }),
  health: fc.option(healthArb, { nil: undefined }),
});

/** A valid config as YAML data. Listen ports and server ports follow the list index, so addresses never collide. */
const configArb = fc.record({
  admin: fc.boolean(),
  timeouts: fc.record({ tcp: durationArb, tcpfin: durationArb, udp: durationArb }, { requiredKeys: [] }),
  services: fc.uniqueArray(serviceArb, { selector: (s) => s.name, maxLength: 5 }),
}).map((c) => ({
  ...(c.admin ? { admin: { listen: '127.0.0.1:65535', token: 'env:YOKE_ADMIN_TOKEN' } } : {}),
  timeouts: c.timeouts,
  services: c.services.map((s, i) => ({
    name: s.name,
    listen: endpoint(s.ip, i + 1),
    mode: s.mode,
    scheduler: s.scheduler,
    ...(s.scheduler === 'mh' ? { scheduler_options: { table_size: s.tableSize } } : {}),
    ...(s.persistence ? { persistence: s.persistence } : {}),
    ...(s.mode === 'tcp' ? { proxy_protocol: s.proxy } : {}),
    ...(s.connectTimeout ? { connect_timeout: s.connectTimeout } : {}),
    ...(s.retries !== undefined ? { retries: s.retries } : {}),
    servers: s.servers.map((v, j) => ({
      ...(v.name ? { name: v.name } : {}),
      address: endpoint(v.ip, 1000 + j),
      ...(v.weight !== undefined ? { weight: v.weight } : {}),
      ...(v.thresholds ? { max_conns: v.thresholds[0], min_conns: v.thresholds[1] } : {}),
    })),
    ...(s.health ? { health: s.health } : {}),
  })),
}));

describe('config properties', () => {
  it('any text at all yields problems or a config, never a throw', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
      assertWellFormed(text, check(text));
    }), { numRuns: 300 });
  });

  it('any YAML data at all yields problems or a config, never a throw', () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 4 }), (data) => {
      let text: unknown;
      try {
        text = stringify(data);
      } catch {
        return; // not representable as YAML
      }
      if (typeof text !== 'string') return; // stringify(undefined) is undefined
      const r = check(text);
      assertWellFormed(text, r);
    }), { numRuns: 300 });
  });

  it('a valid config with a few characters changed yields problems or a config, never a throw', () => {
    fc.assert(fc.property(mutatedExample, (text) => {
      assertWellFormed(text, check(text));
    }), { numRuns: 500 });
  });

  it('a generated valid config loads with no problem, and keeps its values', () => {
    fc.assert(fc.property(configArb, (data) => {
      const text = stringify(data);
      const r = check(text, ENV);
      assert.deepEqual(r.problems, [], text);
      const c = r.config;
      assert.ok(c);
      assert.equal(c.admin?.token, data.admin ? ENV.YOKE_ADMIN_TOKEN : undefined);
      assert.equal(c.timeouts.tcpMs, data.timeouts.tcp ? ms(data.timeouts.tcp) : 900_000);
      assert.deepEqual(c.services.map((s) => s.name), data.services.map((s) => s.name));
      for (const [i, s] of c.services.entries()) {
        const d = data.services[i];
        assert.ok(d);
        assert.equal(`${s.mode} ${s.scheduler} ${s.listen.port}`, `${d.mode} ${d.scheduler} ${i + 1}`);
        assert.equal(s.connectTimeoutMs, d.connect_timeout ? ms(d.connect_timeout) : 5000);
        assert.equal(s.persistence?.timeoutMs, d.persistence ? ms(d.persistence.timeout ?? '300s') : undefined);
        assert.deepEqual(s.servers.map((v) => [v.address.port, v.weight]), d.servers.map((v, j) => [1000 + j, v.weight ?? 1]));
        assert.equal(s.health.health?.type, d.health?.type);
      }
    }), { numRuns: 200 });
  });
});
