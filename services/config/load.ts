import fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { normalize, type RawConfig } from './normalize.ts';
import { SourceMap, type Fault } from './positions.ts';
import { CheckedTree, semanticFaults } from './semantic.ts';
import type { ConfigProblem, ConfigResult } from './types.ts';
import { schemaFaults } from './validate.ts';
import { diskReader, importKeepalived, looksLikeKeepalived, type KeepalivedImport } from './keepalived/import.ts';

export type { ConfigProblem, ConfigResult, YokeConfig, ServiceConfig, PersistenceConfig } from './types.ts';

/** Reads a file as text, as fs.readFileSync(path, 'utf8') does; injected so that tests need no files. */
export type ReadFile = (path: string, encoding: 'utf8') => string;

/**
 * Parses and checks a config text in one pass: YAML syntax, then the schema, then the cross-field checks, each
 * problem at its file:line:col. Secrets (`env:NAME`, `file:PATH` relative to the config's folder) are resolved
 * through `env` and `readFile`; nothing else is read. Never throws.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env, readFile: ReadFile = fs.readFileSync): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = [
    ...doc.errors.map((e) => syntaxProblem(file, lines, e, 'error')),
    ...doc.warnings.map((e) => syntaxProblem(file, lines, e, 'warning')),
  ];
  // Past a syntax error the tree's shape is a guess; checking it would bury the real fault under invented ones.
  if (doc.errors.length > 0) return result(syntax);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return result([...syntax, problem(file, { line: 1, col: 1 }, 'E_CONFIG_SYNTAX', 'error', err instanceof Error ? err.message : String(err))]);
  }
  const map = new SourceMap(doc, lines);
  const schema = schemaFaults(data);
  const readSecret = (path: string): string => readFile(resolve(dirname(file), path), 'utf8');
  const semantic = semanticFaults(new CheckedTree(data, schema), map, env, readSecret);
  const problems = [...syntax, ...placed(file, map, schema), ...placed(file, map, semantic.faults)];
  if (problems.some((p) => p.severity === 'error')) return result(problems);
  return { config: normalize(data as RawConfig, semantic.secrets), problems };
}

/**
 * Reads and parses a config file: yoke YAML, or a keepalived.conf (known by its first keyword, docs/keepalived.md)
 * converted and then checked as YAML would be. A file that cannot be read is an E_CONFIG_READ problem, not a throw.
 */
export function loadConfigFile(path: string): ConfigResult {
  const text = readConfigText(path);
  if (typeof text !== 'string') return text;
  return looksLikeKeepalived(text) ? importKeepalived(text, path, diskReader, (yaml, file) => parseConfig(yaml, file)).result : parseConfig(text, path);
}

/** `yoke import`: a keepalived.conf as yoke YAML (undefined when it has errors) plus every problem at its keepalived.conf place. */
export function importKeepalivedFile(path: string): KeepalivedImport {
  const text = readConfigText(path);
  if (typeof text !== 'string') return { yaml: undefined, result: text };
  return importKeepalived(text, path, diskReader, (yaml, file) => parseConfig(yaml, file));
}

function readConfigText(path: string): string | ConfigResult {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    return result([problem(path, { line: 1, col: 1 }, 'E_CONFIG_READ', 'error', `cannot read the config: ${err instanceof Error ? err.message : String(err)}`)]);
  }
}

/** `file:line:col: message`, with `warning: ` before the message of a warning, as compilers print them. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

function result(problems: ConfigProblem[]): ConfigResult {
  return { config: undefined, problems };
}

function problem(file: string, at: { line: number; col: number }, code: ConfigProblem['code'], severity: ConfigProblem['severity'], message: string): ConfigProblem {
  return { file, line: at.line, col: at.col, severity, code, message };
}

function syntaxProblem(file: string, lines: LineCounter, e: YAMLError, severity: ConfigProblem['severity']): ConfigProblem {
  return problem(file, lines.linePos(e.pos[0]), 'E_CONFIG_SYNTAX', severity, e.message);
}

/** Positions one stage's faults and orders them as they stand in the file, dropping repeats. */
function placed(file: string, map: SourceMap, faults: readonly Fault[]): ConfigProblem[] {
  const seen = new Set<string>();
  return faults
    .map((f) => problem(file, map.at(f.path, f.aim), f.code, f.severity ?? 'error', f.message))
    .sort((a, b) => a.line - b.line || a.col - b.col)
    .filter((p) => {
      const key = `${p.line}:${p.col}:${p.message}`;
      return !seen.has(key) && Boolean(seen.add(key));
    });
}
