import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCHEDULER_NAMES } from '../../core/schedulers/types.ts';
import { parseConfig } from '../../services/config/load.ts';
import { check, printed, where, yaml } from './helpers.ts';

/** A service block of three lines plus `extra` lines, for files of several services. */
function svc(name: string, listen: string, ...extra: string[]): string[] {
  return [`  - name: ${name}`, `    listen: ${listen}`, ...extra];
}
const ONE_SERVER = '    servers: [{ address: 10.0.0.1:80 }]';

describe('cross-field checks', () => {
  it('a service name used twice is E_CONFIG_DUPLICATE at the second, naming the first line', () => {
    const r = check(yaml('services:', ...svc('web', '127.0.0.1:80', ONE_SERVER), ...svc('web', '127.0.0.1:81', ONE_SERVER)));
    assert.deepEqual(printed(r), ['t.yaml:5:11: services[1].name: service name "web" is already used at line 2']);
    assert.equal(r.problems[0]?.code, 'E_CONFIG_DUPLICATE');
  });

  it('two services of one mode may not listen on one address, but a tcp and a udp service may', () => {
    const r = check(yaml(
      'services:',
      ...svc('a', '127.0.0.1:53', ONE_SERVER),
      ...svc('b', '127.0.0.1:53', ONE_SERVER, '    mode: udp'),
      ...svc('c', '127.0.0.1:53', ONE_SERVER, '    mode: tcp'),
    ));
    assert.deepEqual(printed(r), ['t.yaml:10:13: services[2].listen: tcp 127.0.0.1:53 is already the listen address of service "a" at line 3']);
  });

  it('two spellings of one IPv6 address are one address', () => {
    const r = check(yaml('services:', ...svc('a', '"[::1]:80"', ONE_SERVER), ...svc('b', '"[0:0::1]:80"', ONE_SERVER)));
    assert.deepEqual(where(r), ['6:13 E_CONFIG_DUPLICATE']);
  });

  it('admin.listen may not be a tcp service\'s listen address', () => {
    const r = check(yaml('admin: { listen: 127.0.0.1:9900, token: env:YOKE_ADMIN_TOKEN }', 'services:', ...svc('a', '127.0.0.1:9900', ONE_SERVER)));
    assert.deepEqual(printed(r), ['t.yaml:4:13: services[0].listen: tcp 127.0.0.1:9900 is already the listen address of admin.listen at line 1']);
  });

  it('a server address listed twice in one service is E_CONFIG_DUPLICATE; two services may share a server', () => {
    const r = check(yaml(
      'services:',
      ...svc('a', '127.0.0.1:80', '    servers:', '      - address: 10.0.0.1:80', '      - address: 10.0.0.2:80', '      - address: 10.0.0.1:80'),
      ...svc('b', '127.0.0.1:81', ONE_SERVER),
    ));
    assert.deepEqual(printed(r), ['t.yaml:7:18: services[0].servers[2].address: server 10.0.0.1:80 is already listed in service "a" at line 5']);
  });

  it('min_conns at or above max_conns is E_BAD_THRESHOLD at min_conns; either alone is fine', () => {
    const r = check(yaml(
      'services:',
      ...svc('a', '127.0.0.1:80', '    servers:',
        '      - { address: 10.0.0.1:80, max_conns: 100, min_conns: 100 }',
        '      - { address: 10.0.0.2:80, max_conns: 100, min_conns: 99 }',
        '      - { address: 10.0.0.3:80, min_conns: 5 }',
        '      - { address: 10.0.0.4:80, max_conns: 5 }'),
    ));
    assert.deepEqual(printed(r), ['t.yaml:5:60: services[0].servers[0].min_conns: min_conns 100 must be below max_conns 100']);
    assert.equal(r.problems[0]?.code, 'E_BAD_THRESHOLD');
  });

  it('services of one persistence group must agree on timeout, netmask and prefix6; 5m and 300s agree', () => {
    const r = check(yaml(
      'services:',
      ...svc('rtsp', '127.0.0.1:554', ONE_SERVER, '    persistence: { group: media }'),
      ...svc('rtp', '127.0.0.1:5004', ONE_SERVER, '    mode: udp', '    persistence: { group: media, timeout: 5m }'),
      ...svc('rtcp', '127.0.0.1:5005', ONE_SERVER, '    mode: udp', '    persistence:', '      group: media', '      timeout: 10m', '      netmask: 255.255.255.0'),
      ...svc('other', '127.0.0.1:5006', ONE_SERVER, '    persistence: { group: media, prefix6: 64 }'),
    ));
    assert.deepEqual(printed(r), [
      't.yaml:17:16: services[2].persistence.timeout: persistence group "media" needs one timeout in all its services: service "rtcp" has 10m, service "rtsp" (line 5) has 300s',
      't.yaml:18:16: services[2].persistence.netmask: persistence group "media" needs one netmask in all its services: service "rtcp" has 255.255.255.0, service "rtsp" (line 5) has 255.255.255.255',
      't.yaml:22:43: services[3].persistence.prefix6: persistence group "media" needs one prefix6 in all its services: service "other" has 64, service "rtsp" (line 5) has 128',
    ]);
  });

  it('a group member that leaves a differing value to its default is blamed at its persistence key', () => {
    const r = check(yaml(
      'services:',
      ...svc('a', '127.0.0.1:80', ONE_SERVER, '    persistence: { group: g, netmask: 255.255.255.0 }'),
      ...svc('b', '127.0.0.1:81', ONE_SERVER, '    persistence: { group: g }'),
    ));
    assert.deepEqual(where(r), ['9:5 E_CONFIG_INVALID']);
    assert.match(r.problems[0]?.message ?? '', /service "b" has 255\.255\.255\.255, service "a" \(line 5\) has 255\.255\.255\.0$/);
  });

  it('proxy_protocol is refused in a udp service, and off is accepted there', () => {
    const r = check(yaml(
      'services:',
      ...svc('a', '127.0.0.1:53', ONE_SERVER, '    mode: udp', '    proxy_protocol: v2'),
      ...svc('b', '127.0.0.1:54', ONE_SERVER, '    mode: udp', '    proxy_protocol: off'),
    ));
    assert.deepEqual(printed(r), ['t.yaml:6:21: services[0].proxy_protocol: proxy_protocol is for mode tcp only: remove it or write off']);
  });

  it('a netmask whose one-bits are not contiguous is refused at the value', () => {
    const r = check(yaml('services:', ...svc('a', '127.0.0.1:80', ONE_SERVER, '    persistence: { netmask: 255.0.255.0 }')));
    assert.deepEqual(printed(r), ['t.yaml:5:29: services[0].persistence.netmask: netmask "255.0.255.0" is not contiguous: its one-bits must come first, as in 255.255.255.0']);
  });

  it('a Maglev table size that is not prime is refused at the value', () => {
    const r = check(yaml('services:', ...svc('a', '127.0.0.1:80', ONE_SERVER, '    scheduler: mh', '    scheduler_options: { table_size: 65535 }')));
    assert.deepEqual(where(r), ['6:38 E_CONFIG_INVALID']);
    assert.match(r.problems[0]?.message ?? '', /65535 is not a prime/);
  });

  it('an unknown scheduler is E_UNKNOWN_SCHEDULER listing every scheduler there is', () => {
    const r = check(yaml('services:', ...svc('a', '127.0.0.1:80', ONE_SERVER, '    scheduler: wlcc')));
    assert.deepEqual(where(r), ['5:16 E_UNKNOWN_SCHEDULER']);
    assert.ok(r.problems[0]?.message.endsWith(`is not one of ${SCHEDULER_NAMES.join(', ')}`), r.problems[0]?.message);
  });

  it('an option the service\'s scheduler does not read is a warning at the key, and the config still loads', () => {
    const r = check(yaml('services:', ...svc('a', '127.0.0.1:80', ONE_SERVER, '    scheduler: rr', '    scheduler_options: { table_size: 251, fallback: true }')));
    assert.deepEqual(printed(r), [
      't.yaml:6:26: warning: scheduler_options.table_size has no effect with scheduler rr: only mh reads it',
      't.yaml:6:43: warning: scheduler_options.fallback has no effect with scheduler rr: only sh, dh, mh read it',
    ]);
    assert.ok(r.config);
  });

  it('a service needs a servers list, or a sorry server; an explicitly empty list (ipvsadm -A) is only a warning', () => {
    const r = check(yaml(
      'services:',
      ...svc('none', '127.0.0.1:80'),
      ...svc('empty', '127.0.0.1:81', '    servers: []'),
      ...svc('sorry', '127.0.0.1:82', '    servers: []', '    sorry_server: 127.0.0.1:9099'),
    ));
    assert.deepEqual(printed(r), [
      't.yaml:2:5: service "none" has no servers: list at least one under servers (or give a sorry_server)',
      't.yaml:6:5: warning: service "empty" has no servers yet: it refuses connections until one is added (yoke ctl -a)',
    ]);
  });

  it('a value the schema refused is not reported again by the checks', () => {
    const r = check(yaml('services:', ...svc('a', '127.0.0.1', ONE_SERVER), ...svc('a b', '127.0.0.1', ONE_SERVER)));
    assert.deepEqual(where(r), ['3:13 E_ADDRESS', '5:11 E_CONFIG_INVALID', '6:13 E_ADDRESS']);
  });
});

describe('secrets', () => {
  const admin = (token: string): string => yaml('admin:', '  listen: 127.0.0.1:9900', `  token: ${token}`, 'services: []');

  it('env:NAME takes the token from the environment', () => {
    assert.equal(check(admin('env:TOKEN'), { TOKEN: 'abc' }).config?.admin?.token, 'abc');
  });

  it('an unset or empty variable is E_SECRET at the value', () => {
    assert.deepEqual(printed(check(admin('env:TOKEN'), {})), ['t.yaml:3:10: admin.token: environment variable TOKEN is not set']);
    assert.deepEqual(printed(check(admin('env:TOKEN'), { TOKEN: '' })), ['t.yaml:3:10: admin.token: environment variable TOKEN is empty']);
    assert.equal(check(admin('env:TOKEN'), {}).problems[0]?.code, 'E_SECRET');
  });

  it('file:PATH reads the file relative to the config\'s folder and trims it', () => {
    const read: string[] = [];
    const r = parseConfig(admin('file:secrets/token'), '/etc/yoke/yoke.yaml', {}, (path) => {
      read.push(path);
      return '  tok\n';
    });
    assert.deepEqual(read, ['/etc/yoke/secrets/token']);
    assert.equal(r.config?.admin?.token, 'tok');
  });

  it('a missing or empty secret file is E_SECRET at the value', () => {
    const missing = parseConfig(admin('file:/nope'), 'y.yaml', {}, () => { throw new Error('ENOENT: no such file'); });
    assert.deepEqual(printed(missing), ['y.yaml:3:10: admin.token: cannot read secret file /nope: ENOENT: no such file']);
    const empty = parseConfig(admin('file:/empty'), 'y.yaml', {}, () => ' \n');
    assert.deepEqual(printed(empty), ['y.yaml:3:10: admin.token: secret file /empty is empty']);
  });

  it('a token written inline is E_SECRET: secrets as env:NAME or file:PATH', () => {
    const r = check(admin('hunter2'));
    assert.deepEqual(printed(r), ['t.yaml:3:10: admin.token: a secret must not be written inline: give secrets as env:NAME or file:PATH']);
    assert.equal(r.problems[0]?.code, 'E_SECRET');
    assert.deepEqual(where(check(admin('12345'))), ['3:10 E_SECRET']);
  });
});

describe('features of later versions', () => {
  it('a layer-7 mode is E_NOT_SUPPORTED at the value, and only that', () => {
    for (const mode of ['rtsp', 'cache']) {
      const r = check(yaml('services:', ...svc('a', '127.0.0.1:80', ONE_SERVER, `    mode: ${mode}`)));
      assert.deepEqual(printed(r), [`t.yaml:5:11: mode: ${mode} is not supported yet; this version runs tcp, udp, tls (passthrough), http, imap, pop3 and smtp services`]);
      assert.equal(r.problems[0]?.code, 'E_NOT_SUPPORTED');
    }
  });

  it('an unknown mode is an ordinary schema error listing the modes', () => {
    const r = check(yaml('services:', ...svc('a', '127.0.0.1:80', ONE_SERVER, '    mode: sctp')));
    assert.deepEqual(printed(r), ['t.yaml:5:11: services[0].mode: the string "sctp" is not one of tcp, udp, tls, http, imap, pop3, smtp']);
  });

  it('each mode routes by what it sees (tls by sni, http by the request), and sticks by what it sees (a cookie needs mode http)', () => {
    const r = check(yaml(
      'services:',
      ...svc('a', '127.0.0.1:80', '    mode: tls'),
      '    routes: [{ match: { host: a.test }, pool: p }]',
      '    pools: { p: { servers: [{ address: 10.0.0.1:443 }] } }',
      '    sticky: { cookie: SRV }',
      ...svc('b', '127.0.0.1:81', '    mode: http'),
      '    routes: [{ match: { sni: a.test }, pool: p }, { match: { path_regex: "(" }, pool: p }, { pool: p }]',
      '    pools: { p: { servers: [{ address: 10.0.0.1:80 }] } }',
      '    scheduler: rr',
    ));
    assert.deepEqual(printed(r), [
      't.yaml:11:74: services[1].routes[1].match.path_regex: "(" is not a regular expression: Invalid regular expression: /(/: Unterminated group',
      't.yaml:5:14: warning: services[0].routes[0]: a connection that matches no route is closed: end with a route without match to catch the rest',
      't.yaml:5:25: services[0].routes[0].match.host: mode tls routes by sni only: host needs mode http',
      't.yaml:7:15: warning: services[0].sticky.cookie: cookie stickiness needs mode http; use persistence to keep a client on one server',
      't.yaml:11:25: services[1].routes[0].match.sni: sni is for mode tls: mode http routes by host',
      't.yaml:13:5: warning: services[1].scheduler: with pools, scheduler belongs in each pool: here it has no effect',
    ]);
  });

  it('top-level ha is refused at its key', () => {
    const r = check(yaml('ha: { node: lb1 }', 'services: []'));
    assert.deepEqual(where(r), ['1:1 E_NOT_SUPPORTED']);
  });

  it('a directory: its filter, StartTLS over ldaps, bind_dn without password, a long negative cache, and services naming it', () => {
    const r = check(yaml(
      'directories:',
      '  people:',
      '    ldap: { url: "ldaps://127.0.0.1:636", start_tls: true, bind_dn: "cn=admin,dc=example,dc=org", base: "dc=example,dc=org", filter: "(uid=x)", negative_cache: 5m }',
      '  staff:',
      '    ldap: { url: "ldap://127.0.0.1:389", base: "dc=example,dc=org", password: env:YOKE_ADMIN_TOKEN }',
      'services:',
      ...svc('a', '127.0.0.1:80', ONE_SERVER, '    directory: people'),
      ...svc('b', '127.0.0.1:81', ONE_SERVER, '    directory: nobody'),
    ));
    assert.deepEqual(printed(r), [
      't.yaml:3:54: directories.people.ldap.start_tls: StartTLS upgrades ldap://; an ldaps:// URL is TLS already: drop one',
      't.yaml:3:69: directories.people.ldap.bind_dn: bind_dn and password go together (neither = an anonymous bind)',
      't.yaml:3:134: directories.people.ldap.filter: the filter must contain {user}, where the user name goes',
      't.yaml:3:161: warning: directories.people.ldap.negative_cache: an unknown user is remembered longer than a known one: make negative_cache shorter than cache',
      't.yaml:5:79: directories.staff.ldap.password: bind_dn and password go together (neither = an anonymous bind)',
      't.yaml:10:5: services[0].directory: a directory looks up mail users: it is for mode imap, pop3 or smtp, or mode http with webmail_user',
      't.yaml:14:5: services[1].directory: a directory looks up mail users: it is for mode imap, pop3 or smtp, or mode http with webmail_user',
      't.yaml:14:16: services[1].directory: no directory "nobody": the directories are people, staff',
    ]);
  });

  it('health is validated in full and loads as a typed check with every default', () => {
    const r = check(yaml('services:', ...svc('a', '127.0.0.1:53', ONE_SERVER, '    mode: udp', '    health: { type: udp, send: hex:00ff, expect: "ok" }')));
    assert.deepEqual(printed(r), []);
    assert.deepEqual(r.config?.services[0]?.health.health, {
      type: 'udp', intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3, retryDelayMs: 1000, warmupMs: 0, port: undefined, address: undefined,
      alpha: false, inhibitOnFailure: false, passiveFall: 0, send: [0, 255], expect: [111, 107], requireReply: false,
    });
  });

  it('an http check takes one URL in short form or several as urls, with codes and Keepalived-style ranges', () => {
    const r = check(yaml('services:',
      ...svc('a', '127.0.0.1:80', ONE_SERVER, '    health: { type: http, path: /ok, expect_status: [200, "300-302"], digest: ABCDEF0123456789ABCDEF0123456789 }'),
      ...svc('b', '127.0.0.1:81', ONE_SERVER, '    health: { type: https, host: www.example.org, urls: [{ path: / }, { path: /mrtg/, expect_status: ["200-299"] }] }'),
    ));
    assert.deepEqual(printed(r), []);
    const [a, b] = (r.config?.services ?? []).map((s) => s.health.health);
    assert.deepEqual(a?.type === 'http' && a.urls, [{ path: '/ok', status: [{ low: 200, high: 200 }, { low: 300, high: 302 }], digest: 'abcdef0123456789abcdef0123456789' }]);
    assert.deepEqual(b?.type === 'https' && [b.urls, b.host, b.verify], [[
      { path: '/', status: [{ low: 200, high: 200 }], digest: undefined },
      { path: '/mrtg/', status: [{ low: 200, high: 299 }], digest: undefined },
    ], 'www.example.org', false]);
  });

  it('urls with the short form, a bad range, verify on plain http, and passive_fall on udp are each reported', () => {
    const r = check(yaml('services:',
      ...svc('a', '127.0.0.1:80', ONE_SERVER, '    health: { type: http, path: /, urls: [{ path: /x }], expect_status: ["299-200"], verify: true }'),
      ...svc('b', '127.0.0.1:81', ONE_SERVER, '    mode: udp', '    health: { type: udp, passive_fall: 3 }'),
    ));
    assert.deepEqual(printed(r), [
      't.yaml:5:74: services[0].health.expect_status[0]: "299-200" is not a status code or range: write a code such as 200 or a range such as "200-299"',
      't.yaml:5:27: services[0].health.path: give path inside each entry of urls, or drop urls and keep the short form',
      't.yaml:5:58: services[0].health.expect_status: give expect_status inside each entry of urls, or drop urls and keep the short form',
      't.yaml:5:86: warning: services[0].health.verify: verify applies to type https only; type http has no TLS',
      't.yaml:10:26: warning: services[1].health.passive_fall: passive checks watch TCP connects and resets; a udp service has none, so this has no effect',
    ]);
  });

  it('a status code may be written as a string; ca without verify, and passive_fall in a udp server\'s own check, are warned', () => {
    const r = check(yaml('services:',
      ...svc('a', '127.0.0.1:80', ONE_SERVER, '    health: { type: https, expect_status: ["204"], ca: /etc/ssl/ca.pem }'),
      ...svc('b', '127.0.0.1:81', '    mode: udp', '    servers: [{ address: 10.0.0.1:53, health: { type: udp, passive_fall: 2 } }]'),
    ));
    assert.deepEqual(printed(r), [
      't.yaml:5:52: warning: services[0].health.ca: ca is used only with verify: true; without it any certificate passes',
      't.yaml:9:60: warning: services[1].servers[0].health.passive_fall: passive checks watch TCP connects and resets; a udp service has none, so this has no effect',
    ]);
    const h = r.config?.services[0]?.health.health;
    assert.deepEqual(h?.type === 'https' && h.urls[0]?.status, [{ low: 204, high: 204 }]);
  });

  it('mode tls with routes and pools: each pool becomes a service named service/pool with its own servers and stickiness', () => {
    const r = check(yaml('services:',
      ...svc('site', '127.0.0.1:443', '    mode: tls', '    max_conns: 100', '    sticky: { tls_session: true }',
        '    routes: [{ match: { sni: API.Example.org. }, pool: api }, { match: { sni: "*.example.org" }, pool: www }, { pool: www }]',
        '    pools:',
        '      www: { scheduler: sh, servers: [{ address: 10.0.0.1:443 }, { address: 10.0.0.2:443 }] }',
        '      api: { servers: [{ address: 10.0.0.3:443 }], sticky: { tls_session: true, timeout: 1m }, health: { type: tcp } }'),
    ));
    assert.deepEqual(printed(r), []);
    const site = r.config?.services[0];
    assert.deepEqual(site?.routes?.map((x) => [x.sni, x.pool]), [['api.example.org', 'api'], ['*.example.org', 'www'], [undefined, 'www']]);
    assert.deepEqual(site?.servers, []);
    const [www, api] = site?.pools ?? [];
    assert.deepEqual([www?.name, www?.scheduler, www?.servers.length, www?.maxConns, www?.sticky], ['site/www', 'sh', 2, 100, { tlsSession: true, timeoutMs: 600_000, cookie: undefined }]);
    assert.deepEqual([api?.name, api?.scheduler, api?.sticky, api?.health?.health?.type], ['site/api', 'wlc', { tlsSession: true, timeoutMs: 60_000, cookie: undefined }, 'tcp']);
  });

  it('routes and pools go together in mode tls: unknown pools, unrouted pools, stray servers and a missing catch-all are reported', () => {
    const r = check(yaml('services:',
      ...svc('a', '127.0.0.1:80', '    routes: [{ pool: p }]', '    pools: { p: { servers: [{ address: 10.0.0.1:80 }] } }'),
      ...svc('b', '127.0.0.1:443', '    mode: tls', '    servers: [{ address: 10.0.0.9:443 }]',
        '    routes: [{ match: { sni: a.test }, pool: p }, { match: { sni: b.test }, pool: nope }]',
        '    pools: { p: { servers: [{ address: 10.0.0.1:443 }] }, q: { servers: [] } }'),
      ...svc('c', '127.0.0.1:444', '    mode: tls', '    pools: { p: { servers: [{ address: 10.0.0.1:443 }] } }'),
      ...svc('d', '127.0.0.1:445', '    sticky: { tls_session: true }', ONE_SERVER),
    ));
    assert.deepEqual(printed(r), [
      't.yaml:4:5: services[0].routes: routes need mode tls or http',
      't.yaml:5:5: services[0].pools: pools need mode tls or http',
      't.yaml:9:5: services[1].servers: with pools, servers belong in each pool',
      't.yaml:10:51: warning: services[1].routes[1]: a connection that matches no route is closed: end with a route without match to catch the rest',
      't.yaml:10:83: services[1].routes[1].pool: no pool "nope": the pools are p, q',
      't.yaml:11:59: warning: services[1].pools.q: no route names pool "q"',
      't.yaml:11:64: warning: pool "q" of service "b" has no servers yet: it refuses connections until one is added (yoke ctl -a)',
      't.yaml:15:5: services[2].pools: pools are chosen by routes: add routes',
      't.yaml:18:15: warning: services[3].sticky.tls_session: TLS-session stickiness needs mode tls; use persistence to keep a client on one server',
    ]);
  });

  it('tls terminates TLS for mode http and the mail modes only, and its certificate and key must belong together', () => {
    const r = check(yaml('services:',
      ...svc('a', '127.0.0.1:80', ONE_SERVER, '    tls: { cert: env:CERT, key: env:KEY }'),
      ...svc('b', '127.0.0.1:81', ONE_SERVER, '    mode: http', '    tls: { cert: env:CERT, key: env:KEY }'),
      ...svc('c', '127.0.0.1:82', ONE_SERVER, '    mode: http', '    tls: { cert: env:MISSING, key: env:KEY }'),
    ), { CERT: 'not a certificate', KEY: 'not a key' });
    assert.deepEqual(printed(r).map((l) => l.replace(/: error:.*$/, ': error…')), [
      't.yaml:5:5: services[0].tls: yoke terminates TLS for mode http, imap, pop3 and smtp only; mode tls passes it through to the servers',
      't.yaml:10:5: services[1].tls: the certificate and key do not make a TLS identity: error…',
      't.yaml:15:18: services[2].tls.cert: environment variable MISSING is not set',
    ]);
  });

  it('the mail keys: tls_mode other than off needs tls; tls_mode, login_timeout and backend_tls need a mail mode, smtp mode smtp; smtp needs auth or delivery', () => {
    const r = check(yaml('services:',
      ...svc('a', '127.0.0.1:80', ONE_SERVER, '    mode: imap', '    tls_mode: required'),
      ...svc('b', '127.0.0.1:81', ONE_SERVER, '    mode: http', '    tls_mode: off', '    login_timeout: 5s', '    backend_tls: { verify: false }'),
      ...svc('c', '127.0.0.1:82', ONE_SERVER, '    mode: pop3', '    smtp: { auth: true }'),
      ...svc('d', '127.0.0.1:83', ONE_SERVER, '    mode: smtp', '    smtp: { auth: false, delivery: false }'),
      ...svc('e', '127.0.0.1:84', ONE_SERVER, '    mode: smtp', '    tls_mode: off', '    login_timeout: 5s', '    backend_tls: { ca: env:CA, server_name: mx.test }', '    smtp: { delivery: false, hostname: mx.example.org }'),
    ), { CA: 'pem' });
    assert.deepEqual(printed(r), [
      't.yaml:6:15: services[0].tls_mode: tls_mode required needs a certificate: add tls: { cert, key } to the service, or write off',
      't.yaml:11:5: services[1].tls_mode: tls_mode is for mode imap, pop3 and smtp; mode http terminates TLS whenever tls is set',
      't.yaml:12:5: services[1].login_timeout: login_timeout is for mode imap, pop3 and smtp',
      't.yaml:13:5: services[1].backend_tls: backend_tls is for mode imap, pop3 and smtp',
      't.yaml:18:5: services[2].smtp: smtp settings are for mode smtp',
      't.yaml:23:5: services[3].smtp: with auth and delivery both false no client could send mail: turn one on',
    ]);
    const ok = check(yaml('services:', ...svc('e', '127.0.0.1:84', ONE_SERVER, '    mode: smtp', '    login_timeout: 5s', '    backend_tls: { ca: env:CA }', '    smtp: { delivery: false }')), { CA: 'pem' });
    assert.deepEqual(printed(ok), []);
    assert.deepEqual(ok.config?.services[0]?.mail, {
      tlsMode: 'off', loginTimeoutMs: 5000, backendTls: { mode: 'implicit', verify: true, ca: 'pem', serverName: undefined }, smtp: { auth: true, delivery: false, hostname: 'yoke' },
    });
  });

  it('a mail server on a well-known port that does not match backend_tls is a warning at its address', () => {
    const r = check(yaml('services:',
      ...svc('a', '127.0.0.1:143', '    mode: imap', '    servers: [{ address: 10.0.0.1:993 }, { address: 10.0.0.2:143 }]'),
      ...svc('b', '127.0.0.1:110', '    mode: pop3', '    backend_tls: { mode: starttls }', '    servers: [{ address: 10.0.0.1:995 }, { address: 10.0.0.2:110 }]'),
      ...svc('c', '127.0.0.1:587', '    mode: smtp', '    backend_tls: { verify: false }', '    servers: [{ address: 10.0.0.1:587 }, { address: 10.0.0.2:465 }]'),
    ));
    assert.deepEqual(printed(r), [
      't.yaml:5:26: warning: services[0].servers[0].address: port 993 speaks TLS from the first byte: set backend_tls (mode implicit)',
      't.yaml:10:26: warning: services[1].servers[0].address: port 995 speaks TLS from the first byte: set backend_tls (mode implicit)',
      't.yaml:15:26: warning: services[2].servers[0].address: port 587 starts in clear: backend_tls.mode starttls upgrades it (implicit TLS would fail the handshake)',
    ]);
    assert.ok(r.config, 'warnings only: the config loads');
  });

  it('a server may have its own check and hooks; quorum and notify are per service', () => {
    const r = check(yaml('services:',
      ...svc('a', '127.0.0.1:80', '    servers:', '      - address: 127.0.0.1:9001', '        health: { type: tcp, port: 9999 }', '        notify: { down: "logger down" }', '      - address: 127.0.0.1:9002',
        '    health: { type: http, inhibit_on_failure: true, passive_fall: 2 }',
        '    quorum: { weight: 2, hysteresis: 1 }',
        '    notify: { quorum_down: "logger lost", webhook: "http://127.0.0.1:9/hook", at_shutdown: true }'),
    ));
    assert.deepEqual(printed(r), []);
    const h = r.config?.services[0]?.health;
    assert.equal(h?.health?.type, 'http');
    assert.equal(h?.health?.inhibitOnFailure, true);
    assert.deepEqual(h?.quorum, { weight: 2, hysteresis: 1 });
    assert.deepEqual(h?.notify, { up: undefined, down: undefined, quorumUp: undefined, quorumDown: 'logger lost', webhook: 'http://127.0.0.1:9/hook', timeoutMs: 10_000, atShutdown: true });
    assert.deepEqual([...(h?.servers.keys() ?? [])], ['127.0.0.1:9001']);
    const own = h?.servers.get('127.0.0.1:9001');
    assert.deepEqual([own?.health?.type, own?.health?.port, own?.notify], ['tcp', 9999, { up: undefined, down: 'logger down' }]);
  });

  it('each health type admits its own keys only, and the type must be known', () => {
    const r = check(yaml(
      'services:',
      ...svc('a', '127.0.0.1:80', ONE_SERVER, '    health: { type: tcp, path: /x }'),
      ...svc('b', '127.0.0.1:81', ONE_SERVER, '    health: { type: exec }'),
      ...svc('b2', '127.0.0.1:85', ONE_SERVER, '    health: { type: exec, command: "" }'),
      ...svc('c', '127.0.0.1:82', ONE_SERVER, '    health: { type: icmp }'),
      ...svc('d', '127.0.0.1:83', ONE_SERVER, '    health: { type: udp, send: "hex:0" }'),
      ...svc('e', '127.0.0.1:84', ONE_SERVER, '    health: { type: http, digest: abc, expect_status: [] }'),
    ));
    assert.deepEqual(printed(r).filter((l) => !l.includes('warning')), [
      't.yaml:5:26: unknown key "path" in services[0].health',
      't.yaml:9:13: services[1].health: the required key "command" is missing',
      't.yaml:13:36: services[2].health.command: the value is empty',
      't.yaml:17:21: services[3].health.type: the string "icmp" is not a check type: use one of tcp, http, https, smtp, udp, exec',
      't.yaml:21:32: services[4].health.send: "hex:0" is not hex bytes: write pairs of hex digits after hex:, such as hex:00ff',
      't.yaml:25:35: services[5].health.digest: the string "abc" is not valid: write the MD5 of the body as 32 hex digits',
      't.yaml:25:55: services[5].health.expect_status: the list is empty: give at least one entry',
    ]);
  });
});
