/*
 * keepalived.conf → yoke: detect the format, parse (with includes), convert, print the YAML, and check that YAML
 * with yoke's own validation, placing whatever that finds at the keepalived line the value came from.
 */
import fs from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify } from 'yaml';
import type { ConfigProblem, ConfigResult } from '../types.ts';
import { convertKeepalived, type Converted } from './convert.ts';
import { parseKeepalived, type SourceReader, type Where } from './parse.ts';

/** Keywords that open a keepalived.conf (top-level blocks and settings), as the first word of its first line. */
const FIRST_WORDS = /^(global_defs|virtual_server|virtual_server_group|include[rmwba]?|vrrp_\w+|static_\w+|track_file|garp_group|linkbeat_interfaces|bfd_instance|net_namespace(_ipvs)?|namespace_with_ipsets|instance|use_pid_dir|linkbeat_use_polling|child_wait_time|SSL|[@$]\S*)$/;

/** True when the text's first keyword (past comments) is a Keepalived top-level one, not a YAML key such as `services:`. */
export function looksLikeKeepalived(text: string): boolean {
  for (const raw of text.replace(/^\uFEFF/, '').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const word = /^[^\s{]+/.exec(line)?.[0] ?? '';
    return FIRST_WORDS.test(word);
  }
  return false;
}

/** Reads files and globs from disk (the include lines of a keepalived.conf). */
export const diskReader: SourceReader = {
  read: (path) => fs.readFileSync(path, 'utf8'),
  glob: (pattern) => fs.globSync(pattern).sort(),
};

/** yoke's own check of a YAML text, as load.ts parseConfig. */
export type Validate = (yaml: string, file: string) => ConfigResult;

export interface KeepalivedImport {
  /** The yoke YAML, when there is no error. */
  readonly yaml: string | undefined;
  /** What yoke runs, and every problem at its keepalived.conf place. */
  readonly result: ConfigResult;
}

/** Converts a keepalived.conf text (named `file`, includes read through `reader`) and checks the outcome with `validate`. Never throws. */
export function importKeepalived(text: string, file: string, reader: SourceReader, validate: Validate): KeepalivedImport {
  const parsed = parseKeepalived(text, file, reader);
  const converted = convertKeepalived(parsed.statements);
  const yaml = toYaml(converted, file);
  const checked = validate(yaml, file);
  const byLine = linePaths(yaml);
  const placed = checked.problems.map((p) => relocate(p, byLine, converted.origins, file));
  const problems = ordered([...parsed.problems, ...converted.problems, ...placed], file);
  const failed = problems.some((p) => p.severity === 'error');
  return { yaml: failed ? undefined : yaml, result: { config: failed ? undefined : checked.config, problems } };
}

/** The YAML yoke import prints: a header naming the source and what was not converted, then the config. */
export function toYaml(c: Converted, file: string): string {
  const header = [`# yoke config imported from ${file} (yoke import; docs/keepalived.md)`];
  if (c.unused.length > 0) header.push(`# not used by yoke: ${c.unused.join(', ')}`);
  if (c.kept.length > 0) {
    header.push(`# kept for failover, not active yet: ${c.kept.map((k) => `${k.keyword}${k.args[0] ? ` ${k.args[0].text}` : ''} (${where(k.at, file)})`).join(', ')}`);
  }
  return `${header.join('\n')}\n${stringify(c.config, { aliasDuplicateObjects: false, lineWidth: 0 })}`;
}

function where(at: Where, file: string): string {
  return at.file === file ? `line ${at.line}` : `${at.file}:${at.line}`;
}

/** Moves a problem found in the generated YAML to the keepalived place of the value at its line, rewriting "line N" in its message too. */
function relocate(p: ConfigProblem, byLine: ReadonlyMap<number, string[]>, origins: ReadonlyMap<string, Where>, file: string): ConfigProblem {
  const originOf = (line: number): Where | undefined => {
    const path = byLine.get(line);
    for (let n = path?.length ?? 0; path && n >= 0; n--) {
      const at = origins.get(path.slice(0, n).join('\0'));
      if (at) return at;
    }
    return undefined;
  };
  const at = originOf(p.line) ?? { file, line: 1, col: 1 };
  const message = p.message.replace(/\bline (\d+)/g, (text, n: string) => {
    const o = originOf(Number(n));
    return o ? where(o, at.file) : text;
  });
  return { ...p, file: at.file, line: at.line, col: at.col, message };
}

/** For each line of a YAML text, the path of the deepest key or list item that starts on it. */
function linePaths(yaml: string): Map<number, string[]> {
  const lines = new LineCounter();
  const doc = parseDocument(yaml, { lineCounter: lines });
  const out = new Map<number, string[]>();
  const mark = (offset: number | undefined, path: string[]): void => {
    if (offset === undefined) return;
    const { line } = lines.linePos(offset);
    if ((out.get(line)?.length ?? -1) < path.length) out.set(line, path);
  };
  const walk = (node: unknown, path: string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
        mark((pair.key as { range?: [number] } | null)?.range?.[0], [...path, key]);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        mark((item as { range?: [number] } | null)?.range?.[0], [...path, String(i)]);
        walk(item, [...path, String(i)]);
      });
    }
  };
  walk(doc.contents, []);
  return out;
}

/** Problems in file order (the main file's first, includes as met), then line and column, without repeats. */
function ordered(problems: ConfigProblem[], file: string): ConfigProblem[] {
  const files = [file, ...new Set(problems.map((p) => p.file))];
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = `${p.file}:${p.line}:${p.col}:${p.severity}:${p.message}`;
      return !seen.has(key) && Boolean(seen.add(key));
    })
    .sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line || a.col - b.col);
}
