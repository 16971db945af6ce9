import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ConfigResult } from '../../../services/config/load.ts';
import { importText, SAMPLES_DIR } from './helpers.ts';

const SAMPLE = readFileSync(join(SAMPLES_DIR, 'keepalived.conf.SSL_GET'), 'utf8');

/** Whatever the input: problems or a config, never both an error and a config, every position inside the text. */
function assertWellFormed(text: string, r: { yaml: string | undefined; result: ConfigResult }): void {
  const errors = r.result.problems.filter((p) => p.severity === 'error');
  assert.equal(r.result.config === undefined, errors.length > 0);
  assert.equal(r.yaml === undefined, errors.length > 0);
  const lines = text.split('\n').length;
  for (const p of r.result.problems) {
    assert.ok(p.line >= 1 && p.line <= lines + 1 && p.col >= 1, `${p.line}:${p.col} lies in the text`);
    assert.ok(p.message.length > 0);
  }
}

/** The sample with a few characters deleted, inserted or replaced: near-valid text, where a parser is likeliest to slip. */
const mutated = fc.array(
  fc.record({ at: fc.nat(SAMPLE.length), cut: fc.nat(4), put: fc.string({ maxLength: 4, unit: fc.constantFrom(' ', '{', '}', '"', "'", '\\', '\n', '#', '!', 'a', '0', '-', '.', ':', '/', '*') }) }),
  { minLength: 1, maxLength: 5 },
).map((edits) => edits.reduce((t, e) => t.slice(0, e.at) + e.put + t.slice(e.at + e.cut), SAMPLE));

const WORDS = ['virtual_server', 'real_server', 'virtual_server_group', 'group', 'fwmark', '10.0.0.1', '10.0.0.1-3', 'ae00::1', '80', '0', '-1',
  '70000', '1.5', 'TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'SMTP_CHECK', 'UDP_CHECK', 'MISC_CHECK', 'PING_CHECK', 'url', 'path', '/', 'status_code',
  '200-299', 'digest', 'host', 'connect_port', 'connect_ip', 'retry', 'delay_loop', 'lb_algo', 'rr', 'sh', 'lb_kind', 'DR', 'protocol', 'UDP',
  'persistence_timeout', 'persistence_granularity', 'sorry_server', 'quorum', 'hysteresis', 'alpha', 'omega', 'weight', 'payload', 'ff',
  'require_reply', 'misc_path', 'misc_dynamic', 'include', 'global_defs', 'lvs_timeouts', 'tcp', 'vrrp_instance', '{', '}', '"', '\n', '@x', '$Y=1'];

/** Keepalived-shaped nonsense: keywords, values and braces in any order. */
const wordSoup = fc.array(fc.constantFrom(...WORDS), { maxLength: 60 }).map((ws) => ws.join(' '));

describe('keepalived import on arbitrary input', () => {
  it('never throws on any string', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => assertWellFormed(text, importText(text))), { numRuns: 300 });
  });

  it('never throws on keyword soup', () => {
    fc.assert(fc.property(wordSoup, (text) => assertWellFormed(text, importText(text, { 'x.conf': 'virtual_server 10.0.0.9 80 {\n}\n' }))), { numRuns: 400 });
  });

  it('never throws on a mutated sample', () => {
    fc.assert(fc.property(mutated, (text) => assertWellFormed(text, importText(text))), { numRuns: 300 });
  });
});
