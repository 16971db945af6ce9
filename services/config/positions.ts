import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { ErrorCode } from '../../core/errors.ts';

/** A step into the config tree: a mapping key or a list index. */
export type Segment = string | number;

/** What a problem points at: the key of the last step, or the value there (for a mapping: its first key). */
export type Aim = 'key' | 'value';

/** A problem before it has a position: where in the tree, and what. */
export interface Fault {
  readonly path: readonly Segment[];
  readonly aim: Aim;
  readonly code: ErrorCode;
  readonly message: string;
  readonly severity?: 'error' | 'warning';
}

/** A 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

interface Ranged {
  range?: readonly [number, number, number] | null | undefined;
}

function start(node: unknown): number | undefined {
  return (node as Ranged | null)?.range?.[0];
}

/** `key:` with nothing after it: the value node is an empty scalar, placed just after the colon. */
function isEmpty(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null && node.source === '');
}

/** Turns paths in the parsed config into source positions, through the YAML document it came from. */
export class SourceMap {
  readonly #doc: Document;
  readonly #lines: LineCounter;

  constructor(doc: Document, lines: LineCounter) {
    this.#doc = doc;
    this.#lines = lines;
  }

  /** The position of a path's key or value; where the path leaves the document, the deepest node it reached. */
  at(path: readonly Segment[], aim: Aim): Position {
    return this.#lines.linePos(this.#offset(path, aim));
  }

  /** The 1-based line of a path's key or value. */
  line(path: readonly Segment[], aim: Aim): number {
    return this.at(path, aim).line;
  }

  #offset(path: readonly Segment[], aim: Aim): number {
    let node: unknown = this.#doc.contents;
    let offset = start(node) ?? 0;
    for (const [i, seg] of path.entries()) {
      if (isAlias(node)) node = node.resolve(this.#doc);
      let keyOffset: number | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!pair) break;
        keyOffset = start(pair.key);
        node = pair.value;
      } else if (isSeq(node)) {
        node = node.items[Number(seg)];
      } else {
        break;
      }
      const last = i === path.length - 1;
      if (keyOffset !== undefined && (isEmpty(node) || (last && aim === 'key'))) return keyOffset;
      offset = start(node) ?? offset;
      if (isEmpty(node)) break;
    }
    return offset;
  }
}
