// Diagnosis: system calls per request made by each TCP proxy under wrk load (keep-alive and new connection per
// request), counted with `perf stat` on syscall tracepoints (cheap, unlike strace, so batching is not disturbed).
// Counts are taken over a window inside the wrk run; requests in the window = wrk's rate × window with
// keep-alive, and exactly the accept4 count with a new connection per request.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ctx } from '../ctx.ts';
import { runPinned } from '../proc.ts';
import { fmt, type Section } from '../report.ts';
import { wrk } from './http.ts';
import type { Candidate } from './common.ts';
import type { TcpSet } from './tcp-set.ts';

const CALLS = [
  'read', 'readv', 'recvfrom', 'recvmsg', 'write', 'writev', 'sendto', 'sendmsg', 'splice',
  'epoll_wait', 'epoll_pwait', 'epoll_ctl', 'accept4', 'socket', 'connect', 'shutdown', 'close',
  'setsockopt', 'getsockopt', 'getpeername', 'getsockname', 'fcntl', 'ioctl', 'futex', 'mmap', 'munmap', 'mprotect', 'madvise', 'brk',
] as const;

/** Syscalls per request of one candidate during `seconds` of wrk load. */
async function perRequest(ctx: Ctx, c: Candidate, seconds: number, close: boolean): Promise<Map<string, number>> {
  const load = wrk(ctx, c.port, seconds + 2, close);
  await sleep(1000);
  const events = CALLS.map((s) => `syscalls:sys_enter_${s}`).join(',');
  const perf = await runPinned('perf', 'perf', ['stat', '-x', ',', '-e', events, '-p', String(c.proc!.pid), '--', 'sleep', String(seconds)],
    { core: ctx.loadCore, timeoutMs: (seconds + 20) * 1000 });
  const w = await load;
  const counts = new Map<string, number>();
  for (const line of perf.stderr.split('\n')) {
    const [count, , event] = line.split(',');
    const name = event?.replace('syscalls:sys_enter_', '');
    if (name !== undefined && event !== name && /^\d+$/.test(count ?? '')) counts.set(name, Number(count));
  }
  if (counts.size === 0) throw new Error(`perf stat counted nothing: ${perf.stderr.slice(0, 300)}`);
  const requests = close && (counts.get('accept4') ?? 0) > 0 ? counts.get('accept4')! : (w.requests / (w.duration_us / 1e6)) * seconds;
  return new Map([...counts].map(([k, v]) => [k, v / requests]));
}

export async function syscallsScenario(ctx: Ctx, set: TcpSet, warm: boolean): Promise<Section> {
  const proxies = set.candidates.filter((c) => c.proc !== undefined);
  const seconds = ctx.plan.quick ? 2 : 5;
  const parts: string[] = [
    '### System calls per request (perf stat on syscall tracepoints)',
    '',
    `One window of ${seconds} s per candidate inside a wrk run (-t1 -c${ctx.plan.wrkConns}); calls per request = count ÷ requests in the window (keep-alive: wrk's req/s × window; new connections: the accept4 count). Calls under 0.01 per request are left out.`,
  ];
  const raw: Record<string, { kind: string; perReq: Record<string, number> }[]> = {};
  for (const kind of ['keepalive', 'short'] as const) {
    const close = kind === 'short';
    if (warm) {
      for (const c of proxies) { ctx.log(`syscalls: warming ${c.name} (${kind}) for ${c.warm} s`); await wrk(ctx, c.port, c.warm, close); }
    }
    const counts = new Map<string, Map<string, number>>();
    for (const c of proxies) {
      ctx.log(`syscalls: counting ${c.name} (${kind})`);
      counts.set(c.name, await perRequest(ctx, c, seconds, close));
      (raw[c.name] ??= []).push({ kind, perReq: Object.fromEntries(counts.get(c.name)!) });
    }
    const names = CALLS.filter((s) => [...counts.values()].some((m) => (m.get(s) ?? 0) >= 0.01));
    const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
    parts.push('', `#### ${close ? 'New connection per request' : 'Keep-alive'}`, '',
      `| syscall | ${proxies.map((c) => c.name).join(' | ')} |`, `|---|${proxies.map(() => '---:').join('|')}|`,
      ...names.map((s) => `| ${s} | ${proxies.map((c) => fmt(counts.get(c.name)?.get(s))).join(' | ')} |`),
      `| **all counted** | ${proxies.map((c) => `**${fmt(total(counts.get(c.name)!))}**`).join(' | ')} |`);
  }
  return { id: 'syscalls', markdown: parts.join('\n'), raw };
}
