import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { SchemaObject } from 'ajv';
import { DEFAULT_PLACES, DEFAULTS } from '../../services/config/defaults.ts';
import { CONFIG_SCHEMA } from '../../services/config/schema.ts';
import { check, printed } from './helpers.ts';

const DOC = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');

/**
 * Every key path of the schema (`services[].servers[].weight`), split into supported keys and keys of later versions.
 * A schema object reused at a second place (a server's `health` is the service's) is walked once, at its shallowest
 * path (breadth first); the other places are listed in `shared` with that path, so their sections refer to it
 * rather than repeating every key.
 */
function keyPaths(root: SchemaObject) {
  const out = { supported: new Set<string>(), later: new Set<string>(), shared: new Map<string, string>() };
  const walked = new Map<SchemaObject, string>([[root, '']]);
  const queue: [SchemaObject, string][] = [[root, '']];
  for (const [schema, prefix] of queue) {
    const branches: SchemaObject[] = [schema, ...((schema['oneOf'] ?? []) as SchemaObject[])];
    for (const branch of branches) {
      for (const [key, sub] of Object.entries((branch['properties'] ?? {}) as Record<string, SchemaObject>)) {
        const path = `${prefix}${key}`;
        if (typeof sub['x-later'] === 'string') { out.later.add(path); continue; }
        out.supported.add(path);
        const next: [SchemaObject | undefined, string][] = [
          [sub['properties'] || sub['oneOf'] ? sub : undefined, `${path}.`],
          [sub['items']?.properties ? sub['items'] : undefined, `${path}[].`],
        ];
        for (const [inner, innerPrefix] of next) {
          if (inner === undefined) continue;
          const first = walked.get(inner);
          if (first !== undefined) { out.shared.set(path, first.replace(/(\.|\[\]\.)$/, '')); continue; }
          walked.set(inner, innerPrefix);
          queue.push([inner, innerPrefix]);
        }
      }
    }
  }
  return out;
}

/** The text of the section a `### \`path\`` heading opens, up to the next heading. */
function section(path: string): string | undefined {
  const start = DOC.indexOf(`### \`${path}\`\n`);
  if (start < 0) return undefined;
  const end = DOC.slice(start + 4).search(/\n#{2,3} /);
  return end < 0 ? DOC.slice(start) : DOC.slice(start, start + 4 + end);
}

/** The fenced yaml blocks of the worked example, each with the indented `yoke.yaml:…` lines that follow it. */
function workedExamples(): { yaml: string; output: string[] }[] {
  const part = DOC.slice(DOC.indexOf('## 9. A worked example'));
  return [...part.matchAll(/```yaml\n([\s\S]*?)```\n([\s\S]*?)(?=```yaml|$)/g)].map((m) => ({
    yaml: m[1] ?? '',
    output: (m[2] ?? '').split('\n').filter((l) => l.startsWith('    yoke.yaml:')).map((l) => l.slice(4)),
  }));
}

describe('docs/config.md is in step with the schema and the defaults', () => {
  const { supported, later, shared } = keyPaths(CONFIG_SCHEMA);

  it('every key the schema admits has its own section', () => {
    assert.ok(supported.size > 40);
    assert.deepEqual([...supported].filter((p) => section(p) === undefined), []);
  });

  it('a key whose schema is another key\'s (a server\'s health) refers to that key instead of repeating its keys', () => {
    assert.ok(shared.has('services[].servers[].health'));
    for (const [path, first] of shared) assert.ok(section(path)?.includes(`\`${first}\``), `${path} should refer to ${first}`);
  });

  it('every section gives type, default, where it is allowed and what a reload does', () => {
    for (const p of supported) {
      for (const row of ['Type', 'Default', 'Allowed in', 'Reload']) assert.match(section(p) ?? '', new RegExp(`\\| ${row} \\|`), `${p}: ${row}`);
    }
  });

  it('every key of a later version is listed under "Not supported yet"', () => {
    const table = DOC.slice(DOC.indexOf('## 8. Not supported yet'), DOC.indexOf('## 9.'));
    assert.deepEqual([...later].filter((p) => !table.includes(`\`${p}\``)), []);
  });

  it('every default in the defaults table is the one the docs show', () => {
    for (const [group, values] of Object.entries(DEFAULTS)) {
      for (const [key, value] of Object.entries(values)) {
        const path = `${DEFAULT_PLACES[group as keyof typeof DEFAULTS]}${key}`;
        const shown = Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
        assert.match(section(path) ?? '', new RegExp(`\\| Default \\| \`${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\` \\|`), path);
      }
    }
  });

  it('the worked example loads, and its mistakes print exactly as shown', () => {
    const examples = workedExamples();
    assert.equal(examples.length, 2);
    for (const { yaml, output } of examples) {
      const r = check(yaml);
      assert.deepEqual(printed(r).map((l) => l.replace(/^t\.yaml/, 'yoke.yaml')), output);
    }
    assert.ok(check(examples[0]?.yaml ?? '').config);
  });
});
