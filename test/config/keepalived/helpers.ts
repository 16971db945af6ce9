// Shared by the keepalived.conf tests: where the samples are, and an import that reads includes from memory.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseConfig, type ConfigResult } from '../../../services/config/load.ts';
import { importKeepalived, type KeepalivedImport } from '../../../services/config/keepalived/import.ts';
import type { SourceReader } from '../../../services/config/keepalived/parse.ts';
import { ENV } from '../helpers.ts';

/** Keepalived's own samples: ../shared/fixtures/keepalived beside the repository when present, else the byte-for-byte copies. */
export const SHARED_SAMPLES = new URL('../../../../shared/fixtures/keepalived/', import.meta.url).pathname;
export const COPIED_SAMPLES = new URL('../../fixtures/keepalived/', import.meta.url).pathname;
export const SAMPLES_DIR = existsSync(SHARED_SAMPLES) ? SHARED_SAMPLES : COPIED_SAMPLES;

/** A reader over a few in-memory files (paths absolute under /k); glob understands `*` in the last part only. */
export function memoryReader(files: Record<string, string>): SourceReader {
  return {
    read: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    glob: (pattern) => {
      const re = new RegExp(`^${pattern.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
      return Object.keys(files).filter((f) => re.test(f) && dirname(f) === dirname(pattern)).sort();
    },
  };
}

/** Imports `text` as /k/keepalived.conf, with `files` (relative to /k) as what include lines may read. */
export function importText(text: string, files: Record<string, string> = {}): KeepalivedImport {
  const abs = Object.fromEntries(Object.entries(files).map(([k, v]) => [join('/k', k), v]));
  return importKeepalived(text, '/k/keepalived.conf', memoryReader(abs), (yaml, file) => parseConfig(yaml, file, ENV));
}

/** Each problem as `file:line:col CODE` (warnings marked), the file without its folder. */
export function placed(r: ConfigResult): string[] {
  return r.problems.map((p) => `${p.file.replace(/^.*\//, '')}:${p.line}:${p.col} ${p.code}${p.severity === 'warning' ? ' warning' : ''}`);
}

/** Keepalived lines joined into a text. */
export function conf(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
