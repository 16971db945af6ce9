import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../services/config/load.ts';
import { ENV, where } from './helpers.ts';
import { COPIED_EXAMPLES, EXAMPLES_DIR, SHARED_EXAMPLES } from '../helpers/shared.ts';

const DIR = EXAMPLES_DIR;

/** What each example must yield: the position and code of every problem, in order. */
const EXPECTED: Record<string, string[]> = {
  'l4-web.yaml': [],
  'ha.yaml': ['3:1 E_NOT_SUPPORTED'],
  'cache.yaml': ['9:9 E_NOT_SUPPORTED', '13:13 E_NOT_SUPPORTED', '15:13 E_NOT_SUPPORTED', '17:13 E_NOT_SUPPORTED'],
  'l7-web.yaml': [],
  'mail.yaml': [],
  'media.yaml': [
    '5:11 E_NOT_SUPPORTED', '6:16 E_NOT_SUPPORTED', '7:5 E_NOT_SUPPORTED', '12:9 E_NOT_SUPPORTED', '14:9 E_NOT_SUPPORTED',
  ],
};

function load(name: string) {
  return parseConfig(readFileSync(join(DIR, name), 'utf8'), name, ENV);
}

describe('the shared examples', () => {
  it('the copies in test/fixtures/examples are byte for byte the shared ones (when the shared folder is there)', () => {
    if (!existsSync(SHARED_EXAMPLES)) return;
    const shared = readdirSync(SHARED_EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(readdirSync(COPIED_EXAMPLES).filter((f) => f.endsWith('.yaml')).sort(), shared);
    for (const f of shared) assert.equal(readFileSync(COPIED_EXAMPLES + f, 'utf8'), readFileSync(SHARED_EXAMPLES + f, 'utf8'), f);
  });

  it('every example file has its expectation here', () => {
    assert.deepEqual(readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort(), Object.keys(EXPECTED).sort());
  });

  it('l4-web.yaml loads without a problem, its HTTP and UDP checks as written', () => {
    const r = load('l4-web.yaml');
    assert.deepEqual(where(r), EXPECTED['l4-web.yaml']);
    const web = r.config?.services[0];
    assert.equal(web?.persistence?.timeoutMs, 300_000);
    assert.equal(web?.proxyProtocol, 'v2');
    assert.deepEqual(web?.servers.map((s) => [s.weight, s.maxConns, s.minConns]), [[1, 0, 0], [2, 1000, 800]]);
    const check = web?.health.health;
    assert.deepEqual(check?.type === 'http' && check.urls, [{ path: '/healthz', status: [{ low: 200, high: 200 }], digest: undefined }]);
    assert.deepEqual([check?.intervalMs, check?.timeoutMs, check?.rise, check?.fall], [1000, 500, 2, 2]);
    const dns = r.config?.services[1]?.health.health;
    assert.deepEqual(dns?.type === 'udp' && dns.send, [0]);
    assert.equal(r.config?.admin?.token, ENV.YOKE_ADMIN_TOKEN);
  });

  it('l7-web.yaml loads: the http service with path and host routes and cookie stickiness, the tls service with SNI routes and TLS-session stickiness', () => {
    const r = load('l7-web.yaml');
    assert.deepEqual(where(r), []);
    const [site, tls] = r.config?.services ?? [];
    assert.deepEqual(site?.routes?.map((x) => [x.pathPrefix ?? x.host ?? '*', x.pool]), [['/static/', 'static'], ['api.example.org', 'app'], ['*', 'app']]);
    const app = site?.pools?.find((p) => p.name === 'site/app');
    assert.deepEqual([app?.scheduler, app?.sticky?.cookie?.name, app?.sticky?.cookie?.mode, app?.sticky?.cookie?.maxAgeMs, app?.health?.health?.type], ['wlc', 'YOKE_SERVER', 'insert', 3_600_000, 'http']);
    assert.deepEqual([tls?.mode, tls?.sticky?.tlsSession, tls?.sticky?.timeoutMs, tls?.pools?.map((p) => p.name)], ['tls', true, 600_000, ['site-tls/www', 'site-tls/api']]);
  });

  it('mail.yaml loads: imap, pop3 and smtp services on the people directory, TLS off, SMTP for submission and delivery', () => {
    const r = load('mail.yaml');
    assert.deepEqual(where(r), []);
    assert.deepEqual(r.config?.services.map((s) => [s.mode, s.directory, s.mail?.tlsMode]), [['imap', 'people', 'off'], ['pop3', 'people', 'off'], ['smtp', 'people', 'off']]);
    assert.deepEqual(r.config?.services[2]?.mail?.smtp, { auth: true, delivery: true, hostname: 'yoke' });
    assert.equal(r.config?.services[0]?.mail?.loginTimeoutMs, 30_000);
    assert.equal(r.config?.directories.get('people')?.hostAttribute, 'mailHost');
  });

  for (const name of Object.keys(EXPECTED).filter((n) => n !== 'l4-web.yaml' && n !== 'l7-web.yaml' && n !== 'mail.yaml')) {
    it(`${name} is refused only for features of later versions, each at its line`, () => {
      const r = load(name);
      assert.equal(r.config, undefined);
      assert.deepEqual(where(r), EXPECTED[name]);
      for (const p of r.problems) {
        if (p.severity === 'error') assert.match(p.message, /not supported yet/);
      }
    });
  }

  it('the messages name the feature and what this version runs', () => {
    const r = load('cache.yaml');
    assert.deepEqual(r.problems.map((p) => p.message), [
      'icp is not supported yet (it comes with the cache farm)',
      'icp is not supported yet (it comes with the cache farm)',
      'icp is not supported yet (it comes with the cache farm)',
      'icp is not supported yet (it comes with the cache farm)',
    ]);
  });
});
