/*
 * keepalived.conf tokens as a tree of statements: a keyword, its arguments, and a block when a `{ … }` follows
 * (on the same line or the next, as Keepalived allows). include lines are replaced by the statements of the files
 * they name, read through an injected reader, so that this stays a pure function.
 */
import { dirname, resolve } from 'node:path';
import type { ConfigProblem } from '../types.ts';
import { INCLUDE_KEYWORDS, lex, type Pos } from './lexer.ts';

/** A place in one of the files read. */
export interface Where extends Pos {
  readonly file: string;
}

export interface Arg {
  readonly text: string;
  readonly quoted: boolean;
  readonly at: Where;
}

export interface Statement {
  readonly keyword: string;
  readonly at: Where;
  readonly args: readonly Arg[];
  /** The statements between the braces; undefined when the keyword has no block. */
  block: Statement[] | undefined;
}

/** How the parser reaches other files: `read` as fs.readFileSync(path, 'utf8'); `glob` lists the paths a pattern matches, sorted. */
export interface SourceReader {
  read(path: string): string;
  glob(pattern: string): string[];
}

export interface Parsed {
  readonly statements: Statement[];
  readonly problems: ConfigProblem[];
}

/** Includes deeper than this are refused: a chain that long is a loop in all but name. */
const MAX_INCLUDE_DEPTH = 16;

/** Parses a keepalived.conf text named `file`, with its includes; never throws. Every problem is reported. */
export function parseKeepalived(text: string, file: string, reader: SourceReader): Parsed {
  const problems: ConfigProblem[] = [];
  const statements = parseFile(text, file, reader, problems, [file]);
  return { statements, problems };
}

export function problemAt(at: Where, code: ConfigProblem['code'], message: string, severity: ConfigProblem['severity'] = 'error'): ConfigProblem {
  return { file: at.file, line: at.line, col: at.col, severity, code, message };
}

function parseFile(text: string, file: string, reader: SourceReader, problems: ConfigProblem[], chain: readonly string[]): Statement[] {
  const { tokens, faults } = lex(text);
  for (const f of faults) problems.push(problemAt({ file, ...f.at }, 'E_KEEPALIVED_SYNTAX', f.message));
  const root: Statement[] = [];
  const open: { statement: Statement; list: Statement[] }[] = [];
  let list = root;
  let words: Arg[] = [];

  const finish = (): Statement | undefined => {
    const [first, ...args] = words;
    words = [];
    if (!first) return undefined;
    if (INCLUDE_KEYWORDS.has(first.text) && !first.quoted) {
      list.push(...include(first, args, reader, problems, chain));
      return undefined;
    }
    const statement: Statement = { keyword: first.text, at: first.at, args, block: undefined };
    list.push(statement);
    return statement;
  };

  for (const t of tokens) {
    const at: Where = { file, ...t.at };
    if (t.kind === 'word') {
      words.push({ text: t.text, quoted: t.quoted, at });
    } else if (t.kind === 'eol') {
      finish();
    } else if (t.kind === 'open') {
      // `{` alone on a line opens the block of the statement just before it (Keepalived's older layout).
      const owner = words.length > 0 ? finish() : list.at(-1);
      if (!owner || owner.block !== undefined) {
        problems.push(problemAt(at, 'E_KEEPALIVED_SYNTAX', owner ? 'a `{` with no keyword before it: write the block\'s keyword on its line' : 'a `{` with no keyword before it'));
        open.push({ statement: { keyword: '{', at, args: [], block: [] }, list });
        list = open.at(-1)!.statement.block!;
        continue;
      }
      owner.block = [];
      open.push({ statement: owner, list });
      list = owner.block;
    } else {
      finish();
      const closed = open.pop();
      if (!closed) {
        problems.push(problemAt(at, 'E_KEEPALIVED_SYNTAX', 'unbalanced `}`: no block is open here'));
        continue;
      }
      list = closed.list;
    }
  }
  finish();
  for (const o of open) {
    problems.push(problemAt(o.statement.at, 'E_KEEPALIVED_SYNTAX', `the block of \`${o.statement.keyword}\` opened here is not closed: add its \`}\``));
  }
  return root;
}

/** The statements of the files an include line names; a pattern that matches nothing is a warning, as Keepalived's plain include is lenient. */
function include(keyword: Arg, args: readonly Arg[], reader: SourceReader, problems: ConfigProblem[], chain: readonly string[]): Statement[] {
  const [pattern] = args;
  if (!pattern || pattern.text === '') {
    problems.push(problemAt(keyword.at, 'E_KEEPALIVED_SYNTAX', `${keyword.text}: give the file (or glob pattern) to include`));
    return [];
  }
  const full = resolve(dirname(keyword.at.file), pattern.text);
  let files: string[];
  try {
    files = /[*?[{]/.test(pattern.text) ? reader.glob(full) : [full];
  } catch (err) {
    problems.push(problemAt(pattern.at, 'E_CONFIG_READ', `${keyword.text} ${pattern.text}: ${err instanceof Error ? err.message : String(err)}`));
    return [];
  }
  if (files.length === 0) {
    problems.push(problemAt(pattern.at, 'E_CONFIG_READ', `${keyword.text} ${pattern.text}: no file matches (nothing included)`, 'warning'));
    return [];
  }
  const out: Statement[] = [];
  for (const path of files) {
    if (chain.includes(path) || chain.length > MAX_INCLUDE_DEPTH) {
      problems.push(problemAt(pattern.at, 'E_KEEPALIVED_SYNTAX', `${keyword.text} ${pattern.text}: ${path} is already being read (an include loop)`));
      continue;
    }
    let text: string;
    try {
      text = reader.read(path);
    } catch (err) {
      problems.push(problemAt(pattern.at, 'E_CONFIG_READ', `${keyword.text} ${pattern.text}: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`));
      continue;
    }
    out.push(...parseFile(text, path, reader, problems, [...chain, path]));
  }
  return out;
}
