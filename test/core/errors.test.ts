// Keeps docs/errors.md in step with the one table of error codes (core/errors.ts), as STYLE.md asks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, YokeError, type ErrorCode } from '../../core/errors.ts';

const DOC = 'docs/errors.md';
const text = readFileSync(new URL(`../../${DOC}`, import.meta.url), 'utf8');
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

interface Section { readonly heading: string; readonly line: number; readonly firstParagraph: string }

/** The page's level-2 sections (outside code fences), each with its first paragraph joined into one line. */
function sections(md: string): Section[] {
  const lines = md.split('\n');
  const out: Section[] = [];
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced || !line.startsWith('## ')) continue;
    let j = i + 1;
    while (j < lines.length && (lines[j] as string).trim() === '') j++;
    const para: string[] = [];
    while (j < lines.length && (lines[j] as string).trim() !== '' && !(lines[j] as string).startsWith('#')) para.push((lines[j++] as string).trim());
    out.push({ heading: line.slice(3).trim(), line: i + 1, firstParagraph: para.join(' ') });
  }
  return out;
}

const found = sections(text);
const byHeading = new Map(found.map((s) => [s.heading, s]));

describe(`${DOC} and the error table`, () => {
  it('every code in the table has a section `## CODE`', () => {
    const missing = codes.filter((c) => !byHeading.has(c));
    assert.deepEqual(missing, [], `add a "## CODE" section to ${DOC} for each`);
  });

  it('each code\'s section begins with the table\'s text as its first paragraph', () => {
    for (const code of codes) {
      const s = byHeading.get(code);
      if (s === undefined) continue; // reported by the test above
      assert.equal(s.firstParagraph, ERROR_CODES[code], `${DOC}:${s.line} (## ${code})`);
    }
  });

  it('no section names a code that is not in the table', () => {
    const unknown = found.filter((s) => !(s.heading in ERROR_CODES)).map((s) => `${DOC}:${s.line}: ## ${s.heading}`);
    assert.deepEqual(unknown, []);
  });

  it('no code has two sections', () => {
    const seen = new Set<string>();
    const twice = found.filter((s) => seen.size === seen.add(s.heading).size).map((s) => `${DOC}:${s.line}: ## ${s.heading}`);
    assert.deepEqual(twice, []);
  });

  it('each section goes on to say when yoke raises the error and gives an example', () => {
    for (const code of codes) {
      const start = text.indexOf(`\n## ${code}\n`);
      if (start < 0) continue;
      const end = text.indexOf('\n## ', start + 1);
      const body = text.slice(start, end < 0 ? undefined : end);
      assert.match(body, /Raised /, `${code}: say when it is raised`);
      assert.match(body, /Example: `[^`]/, `${code}: give an example message`);
    }
  });
});

describe('the error table', () => {
  it('names every code E_ followed by capitals, and gives each a remedy', () => {
    for (const code of codes) {
      assert.match(code, /^E_[A-Z0-9_]+$/);
      assert.ok(ERROR_CODES[code].length > 20, `${code}: say what to do`);
    }
  });

  it('a YokeError keeps its code and detail, and its message adds the table\'s remedy', () => {
    const err = new YokeError('E_LISTEN', 'service web: cannot listen on tcp 127.0.0.1:80: EADDRINUSE');
    assert.equal(err.code, 'E_LISTEN');
    assert.equal(err.detail, 'service web: cannot listen on tcp 127.0.0.1:80: EADDRINUSE');
    assert.equal(err.message, `service web: cannot listen on tcp 127.0.0.1:80: EADDRINUSE (${ERROR_CODES.E_LISTEN})`);
    assert.equal(err.name, 'YokeError');
    assert.ok(err instanceof Error);
  });
});
