// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function, by file, and by kind of code.
// Also runnable alone: node bench/harness/cpuprofile.ts FILE.cpuprofile [TOP=25]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

function shortUrl(url: string, root: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith(root)) return path.slice(root.length + 1).replace(/^node_modules\//, 'npm:');
  return path;
}

/** What kind of code a frame is: yoke's own, a dependency, Node's internals, or V8's pseudo-frames. */
function kindOf(f: CallFrame, root: string): string {
  if (f.url === '') return f.functionName.startsWith('(') ? f.functionName : 'native (V8 builtins, C++)';
  if (f.url.startsWith('node:')) return 'node: internals (net, stream, timers…)';
  const path = shortUrl(f.url, root);
  if (path.startsWith('npm:')) return `dependency ${path.split('/')[0]}`;
  return path.startsWith('/') ? 'other' : 'yoke';
}

function top(map: Map<string, number>, total: number, n: number, title: string): string {
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `| ${title} | self ms | self % |`, '|---|---:|---:|',
    ...rows.map(([k, us]) => `| ${k.replace(/\|/g, '\\|')} | ${(us / 1000).toFixed(0)} | ${((us / total) * 100).toFixed(1)} |`),
  ].join('\n');
}

/** Markdown: self time by kind of code, by file and by function (top `n`). */
export function summarise(file: string, root: string, n = 25): string {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((x) => [x.id, x.callFrame]));
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byKind = new Map<string, number>();
  let total = 0;
  let idle = 0;
  // timeDeltas[i + 1] is the time that passed while sample i was the running frame.
  for (let i = 0; i < prof.samples.length; i++) {
    const f = byId.get(prof.samples[i]!);
    const us = prof.timeDeltas[i + 1] ?? 0;
    if (f === undefined) continue;
    if (f.functionName === '(idle)') { idle += us; continue; }
    total += us;
    const loc = shortUrl(f.url, root);
    const fn = `${f.functionName || '(anonymous)'}${loc ? ` ${loc}:${f.lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    byFile.set(loc || f.functionName, (byFile.get(loc || f.functionName) ?? 0) + us);
    const k = kindOf(f, root);
    byKind.set(k, (byKind.get(k) ?? 0) + us);
  }
  return [
    `Busy (non-idle) samples: ${(total / 1000).toFixed(0)} ms; idle: ${(idle / 1000).toFixed(0)} ms. Percentages are of busy time.`,
    '', top(byKind, total, 12, 'kind of code'),
    '', top(byFile, total, 15, 'file'),
    '', top(byFn, total, n, 'function (self time)'),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, n] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: cpuprofile.ts FILE.cpuprofile [TOP]');
  process.stdout.write(summarise(file, fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, ''), Number(n ?? 25)) + '\n');
}
