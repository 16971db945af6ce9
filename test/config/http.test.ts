// services[].http: mode http's limits as the config admits them, their defaults, and what `yoke check` says of bad ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_HEAD_LIMITS } from '../../l7/http/request-head.ts';
import { parseSize } from '../../services/config/values.ts';
import type { ServiceConfig } from '../../services/config/types.ts';
import { writeConfig, yoke } from '../helpers/daemon.ts';
import { check, printed, yaml } from './helpers.ts';

/** One service of `mode`, its http block given as one line. */
const service = (http: string | undefined, mode = 'http') => yaml(
  'services:',
  '  - name: web',
  '    listen: 127.0.0.1:8080',
  `    mode: ${mode}`,
  '    servers: [{ address: 10.0.0.1:80 }]',
  ...(http === undefined ? [] : [`    http: ${http}`]),
);

const settings = (text: string) => (check(text).config?.services[0] as ServiceConfig | undefined)?.http;

describe('services[].http', () => {
  it('a mode http service without it gets the defaults: 10 s head, 60 s body and idle, 16 KiB / 100 fields, no body limit, 30 s / 60 s / 4 s to servers, unbounded connections', () => {
    assert.deepEqual(settings(service(undefined)), {
      head: DEFAULT_HEAD_LIMITS, headerTimeoutMs: 10_000, bodyTimeoutMs: 60_000, idleTimeoutMs: 60_000, maxBodySize: 0,
      serverHeadersTimeoutMs: 30_000, serverBodyTimeoutMs: 60_000, serverIdleTimeoutMs: 4_000, serverConnections: 0,
    });
    assert.equal(settings(service(undefined, 'tcp')), undefined, 'other modes carry none');
  });

  it('every key is read: durations, sizes with a unit or in bytes, counts', () => {
    const h = settings(service('{ header_timeout: 2s, body_timeout: 200ms, idle_timeout: 5m, max_header_size: 8k, max_headers: 50, max_body_size: 10m, '
      + 'server_headers_timeout: 1m, server_body_timeout: 90s, server_idle_timeout: 1s, server_connections: 8 }'));
    assert.deepEqual(h, {
      head: { ...DEFAULT_HEAD_LIMITS, maxHeadBytes: 8192, maxHeaderCount: 50 }, headerTimeoutMs: 2000, bodyTimeoutMs: 200, idleTimeoutMs: 300_000,
      maxBodySize: 10 * 1024 * 1024, serverHeadersTimeoutMs: 60_000, serverBodyTimeoutMs: 90_000, serverIdleTimeoutMs: 1000, serverConnections: 8,
    });
    assert.equal(settings(service('{ max_body_size: 1048576 }'))?.maxBodySize, 1048576);
  });

  it('a pool of a service with routes shares the service\'s limits', () => {
    const r = check(yaml(
      'services:',
      '  - name: site',
      '    listen: 127.0.0.1:8080',
      '    mode: http',
      '    http: { max_body_size: 1m }',
      '    routes: [{ pool: app }]',
      '    pools:',
      '      app: { servers: [{ address: 10.0.0.1:80 }] }',
    ));
    const svc = r.config?.services[0] as ServiceConfig;
    assert.equal((svc.pools?.[0] as ServiceConfig).http, svc.http);
  });

  it('sizes: bytes, k, m, g (1024-based); anything else is refused with what to write', () => {
    assert.deepEqual(['0', '512', '16k', '1m', '2g'].map(parseSize), [0, 512, 16384, 1048576, 2 * 1024 ** 3]);
    for (const bad of ['1.5m', '1 m', '16K', '1kb', '-1', '']) assert.throws(() => parseSize(bad), { code: 'E_CONFIG_INVALID' }, bad);
  });

  it('bad values are errors at their value, each saying what is allowed', () => {
    const r = check(service('{ header_timeout: 10, max_body_size: 1.5m, max_header_size: 100, max_headers: 0, server_connections: -1, server_idle_timeout: 0s }'));
    assert.deepEqual(printed(r), [
      't.yaml:6:29: services[0].http.header_timeout: "10" is not a duration: write 10s or 10ms',
      't.yaml:6:48: services[0].http.max_body_size: "1.5m" is not a size: write a whole number of bytes, or one with a unit k, m or g (1024-based), such as 16k or 1m',
      't.yaml:6:71: services[0].http.max_header_size: 100 is out of range 1024..1048576',
      't.yaml:6:89: services[0].http.max_headers: 0 is out of range 1..10000',
      't.yaml:6:112: services[0].http.server_connections: -1 is out of range 0..65535',
      't.yaml:6:137: services[0].http.server_idle_timeout: "0s" is zero: give a duration above 0',
    ]);
    assert.deepEqual(printed(check(service('{ max_header_size: 2m }'))), ['t.yaml:6:30: services[0].http.max_header_size: 2m is out of range 1k..1m']);
    assert.deepEqual(printed(check(service('{ body_timout: 1s }'))), ['t.yaml:6:13: unknown key "body_timout" in services[0].http (did you mean "body_timeout"?)']);
  });

  it('an http block on a service of another mode is an error at the key', () => {
    for (const mode of ['tcp', 'tls', 'imap']) {
      const r = check(service('{ body_timeout: 1s }', mode));
      assert.deepEqual(printed(r).filter((l) => l.includes('http')), [`t.yaml:6:5: services[0].http: http settings are for mode http; this service is mode ${mode}`], mode);
      assert.equal(r.config, undefined);
    }
  });

  it('yoke check prints each bad value as file:line:col and exits 1', async () => {
    const file = writeConfig(service('{ max_body_size: lots, body_timeout: 0ms }'));
    const r = await yoke(['check', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`${file.replace(/\./g, '\\.')}:6:28: services\\[0\\]\\.http\\.max_body_size: "lots" is not a size`));
    assert.match(r.stdout, new RegExp(`${file.replace(/\./g, '\\.')}:6:48: services\\[0\\]\\.http\\.body_timeout: "0ms" is zero`));
  });
});
