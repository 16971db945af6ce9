import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check, printed, where, yaml } from './helpers.ts';

describe('config problems point at the exact line and column', () => {
  it('malformed YAML is reported where the parser found it, and nothing else is checked', () => {
    const r = check(yaml(
      'services:',
      '  - name: web',
      '    listen: [127.0.0.1:80',
      '    bogus: 1',
    ));
    assert.equal(r.config, undefined);
    assert.deepEqual(where(r), ['4:5 E_CONFIG_SYNTAX']);
    assert.match(r.problems[0]?.message ?? '', /Flow sequence/);
  });

  it('every syntax error of the file is reported, not only the first', () => {
    const r = check(yaml(
      'services:',
      '  - name: a: b',
      '    listen: "unclosed',
    ));
    assert.ok(r.problems.length >= 2, printed(r).join('\n'));
    assert.ok(r.problems.every((p) => p.code === 'E_CONFIG_SYNTAX'));
    // The unclosed quote is found where the input ends.
    assert.deepEqual(r.problems.map((p) => p.line), [2, 4]);
  });

  it('a key given twice in one mapping is a syntax error at the second', () => {
    const r = check(yaml(
      'services:',
      '  - name: web',
      '    listen: 127.0.0.1:80',
      '    name: www',
    ));
    assert.deepEqual(where(r), ['4:5 E_CONFIG_SYNTAX']);
  });

  it('an unknown key is reported at the key, at every depth, all in one pass', () => {
    const r = check(yaml(
      'servics: []', //                                        top level
      'services:',
      '  - name: web',
      '    listen: 127.0.0.1:80',
      '    lisen: 127.0.0.1:81', //                             service
      '    persistence: { timout: 5s }', //                     persistence, flow style
      '    servers:',
      '      - address: 127.0.0.1:9001',
      '        wieght: 3', //                                   server
      '    health:',
      '      type: http',
      '      send: hex:00', //                                  health: send is not an http key
      'timeouts: { tcp: 1s, fin: 2s }', //                      timeouts
    ));
    assert.deepEqual(where(r), [
      '1:1 E_CONFIG_INVALID',
      '5:5 E_CONFIG_INVALID',
      '6:20 E_CONFIG_INVALID',
      '9:9 E_CONFIG_INVALID',
      '12:7 E_CONFIG_INVALID',
      '13:22 E_CONFIG_INVALID',
    ]);
    assert.deepEqual(printed(r).slice(0, 4), [
      't.yaml:1:1: unknown key "servics" in the config (did you mean "services"?)',
      't.yaml:5:5: unknown key "lisen" in services[0] (did you mean "listen"?)',
      't.yaml:6:20: unknown key "timout" in services[0].persistence (did you mean "timeout"?)',
      't.yaml:9:9: unknown key "wieght" in services[0].servers[0] (did you mean "weight"?)',
    ]);
  });

  it('a missing required key is reported at the mapping that lacks it', () => {
    const r = check(yaml(
      'services:',
      '  - listen: 127.0.0.1:80',
      '    servers:',
      '      - weight: 2',
      '  - name: b',
      '    listen: 127.0.0.1:81',
      '    servers: [{ weight: 1 }]',
      'admin: { listen: 127.0.0.1:9900 }',
    ));
    assert.deepEqual(where(r), ['2:5 E_CONFIG_INVALID', '4:9 E_CONFIG_INVALID', '7:15 E_CONFIG_INVALID', '8:8 E_CONFIG_INVALID']);
    assert.deepEqual(printed(r), [
      't.yaml:2:5: services[0]: the required key "name" is missing',
      't.yaml:4:9: services[0].servers[0]: the required key "address" is missing',
      't.yaml:7:15: services[1].servers[0]: the required key "address" is missing',
      't.yaml:8:8: admin: the required key "token" is missing',
    ]);
  });

  /** Address faults: the service lines after `name`, and what `yoke check` prints (every one E_ADDRESS, at the value). */
  const ADDRESS_CASES: [title: string, lines: string[], printed: string[]][] = [
    ['an IPv4 address in brackets is refused at the value',
      ['    listen: "[127.0.0.1]:80"', '    sorry_server: 127.0.0.1:1'],
      ['t.yaml:3:13: services[0].listen: IPv4 "127.0.0.1" must not be in brackets']],
    ['an IPv6 address without brackets is refused, showing how to write it',
      ['    listen: ::1:80', '    sorry_server: 10.0.0.1:80'],
      ['t.yaml:3:13: services[0].listen: IPv6 "::1" must be in brackets: write [::1]:80']],
    ['a port outside 1..65535 is refused at the value',
      ['    listen: 127.0.0.1:8080', '    servers: [{address: 127.0.0.1:65536}, {address: "[::1]:0"}]'],
      ['t.yaml:4:25: services[0].servers[0].address: port 65536 is out of range 1..65535',
        't.yaml:4:53: services[0].servers[1].address: port 0 is out of range 1..65535']],
    ['a host name is refused where an address belongs: a director must not depend on DNS',
      ['    listen: 127.0.0.1:8080', '    sorry_server: sorry.example.org:80'],
      ['t.yaml:4:19: services[0].sorry_server: "sorry.example.org" is not an IP address']],
  ];
  for (const [title, lines, expected] of ADDRESS_CASES) {
    it(title, () => {
      const r = check(yaml('services:', '  - name: web', ...lines));
      assert.deepEqual(printed(r), expected);
      assert.ok(r.problems.every((p) => p.code === 'E_ADDRESS'));
    });
  }

  it('a number where a duration belongs is E_DURATION at the value, suggesting a unit', () => {
    const r = check(yaml('timeouts:', '  tcp: 300', 'services: []'));
    assert.deepEqual(printed(r), ['t.yaml:2:8: timeouts.tcp: "300" is not a duration: write 300s or 300ms']);
    assert.equal(r.problems[0]?.code, 'E_DURATION');
  });

  it('a duration with an unknown unit, a fraction, zero or beyond what a timer holds is E_DURATION', () => {
    const r = check(yaml(
      'timeouts: { tcp: 5d, tcpfin: 1.5s, udp: 0ms }',
      'shutdown_grace: 600h',
      'services: []',
    ));
    assert.deepEqual(where(r), ['1:18 E_DURATION', '1:30 E_DURATION', '1:41 E_DURATION', '2:17 E_DURATION']);
    assert.match(printed(r)[2] ?? '', /"0ms" is zero/);
    assert.match(printed(r)[3] ?? '', /too long: the most is 596h/);
  });

  it('a weight outside 0..65535 is E_BAD_WEIGHT at the value', () => {
    const r = check(yaml(
      'services:',
      '  - name: web',
      '    listen: 127.0.0.1:80',
      '    servers:',
      '      - { address: 127.0.0.1:1, weight: 65536 }',
      '      - { address: 127.0.0.1:2, weight: -1 }',
      '      - { address: 127.0.0.1:3, weight: 1.5 }',
      '      - { address: 127.0.0.1:4, weight: 65535 }',
      '      - { address: 127.0.0.1:5, weight: 0 }',
    ));
    assert.deepEqual(where(r), ['5:41 E_BAD_WEIGHT', '6:41 E_BAD_WEIGHT', '7:41 E_BAD_WEIGHT']);
    assert.deepEqual(printed(r).slice(0, 2).map((l) => l.split(': ').slice(1).join(': ')), [
      'services[0].servers[0].weight: 65536 is out of range 0..65535',
      'services[0].servers[1].weight: -1 is out of range 0..65535',
    ]);
  });

  it('a wrong type says what was expected and what was found, at the value', () => {
    const r = check(yaml(
      'services:',
      '  - name: [web]',
      '    listen: 127.0.0.1:80',
      '    retries: two',
      '    servers: { address: 127.0.0.1:1 }',
    ));
    assert.deepEqual(printed(r), [
      't.yaml:2:11: services[0].name: expected a string, not a list',
      't.yaml:4:14: services[0].retries: expected a whole number, not the string "two"',
      't.yaml:5:14: services[0].servers: expected a list, not a mapping',
    ]);
  });

  it('an empty value is reported at its key', () => {
    const r = check(yaml('services:', '  - name: web', '    listen:', '    sorry_server: 127.0.0.1:1'));
    assert.deepEqual(printed(r), ['t.yaml:3:5: services[0].listen: expected a string, not nothing (the value is empty)']);
  });

  it('an empty file, or one that is not a mapping, asks for a mapping with services', () => {
    assert.deepEqual(printed(check('')), ['t.yaml:1:1: the config is empty: it needs at least a services list']);
    assert.deepEqual(printed(check('# only a comment\n')), ['t.yaml:1:1: the config is empty: it needs at least a services list']);
    assert.deepEqual(printed(check('- a\n- b\n')), ['t.yaml:1:1: the config: expected a mapping, not a list']);
  });

  it('an anchored value is reported at its text, an alias where it stands', () => {
    const r = check(yaml(
      'services:',
      '  - name: web',
      '    listen: &addr 127.0.0.1:80',
      '    sorry_server: 127.0.0.1:1',
      '  - name: bad',
      '    listen: &bad 127.0.0.1',
      '    sorry_server: *bad',
    ));
    assert.deepEqual(where(r), ['6:18 E_ADDRESS', '7:19 E_ADDRESS']);
  });

  it('schema errors come before the checks, each stage in file order', () => {
    const r = check(yaml(
      'services:',
      '  - name: web',
      '    listen: 127.0.0.1:80',
      '    sorry_server: 127.0.0.1:1',
      '  - name: web', //                  duplicate: a check
      '    listen: 127.0.0.1:81',
      '    sorry_server: 127.0.0.1:1',
      '    retries: 11', //                 out of range: the schema
    ));
    assert.deepEqual(where(r), ['8:14 E_CONFIG_INVALID', '5:11 E_CONFIG_DUPLICATE']);
  });

  it('a column counts characters, so a non-ASCII letter before a fault counts once', () => {
    const r = check(yaml(
      'services:',
      '  - name: web',
      '    listen: 127.0.0.1:80',
      '    sorry_server: 127.0.0.1:1',
      '    health: { type: exec, command: "café", port: 0 }',
    ));
    assert.deepEqual(where(r), ['5:50 E_CONFIG_INVALID']);
  });
});
