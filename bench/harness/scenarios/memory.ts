// Scenario (e) memory per idle proxied connection: a fresh proxy per round, warmed with a few hundred
// connections; then plan.idleConns client connections (each carried one line both ways) are held idle, and
// (RSS after − RSS before) / connections is the figure. RSS from /proc/PID/status (nginx: master + worker).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as configs from '../configs.ts';
import { freePort, startHaproxy, startNginx, startNode, startYoke, waitTcp, type Ctx } from '../ctx.ts';
import { rssKiB, runPinned, spawnPinned, stop, type Proc } from '../proc.ts';
import { byRound, fmt, medians, ratio, table, type Row, type Section } from '../report.ts';

const WARM_CONNS = 300;
const SETTLE_MS = 3000;

interface Kind { readonly name: string; start(ctx: Ctx, port: number, target: number): Proc }

const KINDS: readonly Kind[] = [
  { name: 'haproxy', start: (ctx, p, t) => startHaproxy(ctx, 'haproxy-mem', configs.haproxy(ctx.dir, 'haproxy-mem', p, t)) },
  { name: 'nginx-stream', start: (ctx, p, t) => startNginx(ctx, 'nginx-mem', configs.nginxStream(ctx.dir, 'nginx-mem', { tcpPort: p, tcpTarget: t }), ctx.proxyCore) },
  { name: 'yoke', start: (ctx, p, t) => startYoke(ctx, 'yoke-mem', configs.yoke(ctx.dir, 'yoke-mem', 'tcp', p, t)) },
  { name: 'bare-pipe', start: (ctx, p, t) => startNode(ctx, 'bare-pipe-mem', 'bare-pipe-proxy.ts', [p, t], ctx.proxyCore) },
];

function idleClientsArgs(ctx: Ctx, port: number, count: number, hold: number): string[] {
  return ['--disable-warning=ExperimentalWarning', join(ctx.root, 'bench', 'peers', 'idle-clients.ts'), String(port), String(count), String(hold)];
}

/** Waits for idle-clients' JSON line (all connections echoed or failed). */
async function clientsReady(p: Proc, timeoutMs: number): Promise<{ ok: number; failed: number; ms: number }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = p.stdout().split('\n').find((l) => l.startsWith('{'));
    if (line !== undefined) return JSON.parse(line) as { ok: number; failed: number; ms: number };
    await sleep(100);
  }
  throw new Error(`idle clients not ready within ${timeoutMs} ms: ${p.stderr()}`);
}

async function measureOnce(ctx: Ctx, kind: Kind, target: number): Promise<Row> {
  const port = await freePort();
  const proxy = kind.start(ctx, port, target);
  try {
    await waitTcp(port, proxy);
    await runPinned('idle-warm', process.execPath, idleClientsArgs(ctx, port, WARM_CONNS, 0), { core: ctx.loadCore, timeoutMs: 60_000 });
    await sleep(1000);
    const before = rssKiB(proxy.pid);
    const clients = spawnPinned('idle-clients', process.execPath, idleClientsArgs(ctx, port, ctx.plan.idleConns, 300), { core: ctx.loadCore });
    try {
      const r = await clientsReady(clients, 120_000);
      await sleep(SETTLE_MS);
      const after = rssKiB(proxy.pid);
      return { rss_before_mib: before / 1024, rss_after_mib: after / 1024, kib_per_conn: (after - before) / r.ok, ok: r.ok, failed: r.failed, open_ms: r.ms };
    } finally {
      await stop(clients);
    }
  } finally {
    await stop(proxy);
  }
}

export async function memoryScenario(ctx: Ctx): Promise<Section> {
  const bp = await freePort();
  const backend = startNode(ctx, 'idle-backend', 'peers/idle-backend.ts', [bp], ctx.loadCore);
  const raw: Record<string, Row[]> = Object.fromEntries(KINDS.map((k) => [k.name, []]));
  try {
    await waitTcp(bp, backend);
    for (let r = 1; r <= ctx.plan.rounds; r++) {
      for (const k of KINDS) {
        const row = await measureOnce(ctx, k, bp);
        raw[k.name]!.push(row);
        ctx.log(`memory: round ${r}/${ctx.plan.rounds} ${k.name}: ${JSON.stringify(row)}`);
        await sleep(1000); // let the closed connections' TIME_WAIT and the backend settle
      }
    }
  } finally {
    await stop(backend);
  }
  const meds = new Map(Object.entries(raw).map(([k, rows]) => [k, medians(rows)]));
  const ha = meds.get('haproxy');
  const yk = meds.get('yoke');
  const markdown = [
    `### (e) Memory per idle proxied connection at ${ctx.plan.idleConns.toLocaleString('en-US')} connections`,
    '',
    `A fresh proxy per round, warmed with ${WARM_CONNS} connections; then ${ctx.plan.idleConns.toLocaleString('en-US')} client connections, each carried one line both ways, held idle; RSS read ${SETTLE_MS / 1000} s after the last opened. ${ctx.plan.rounds} rounds, medians.`,
    '',
    table([
      { title: 'RSS before MiB', cell: (m) => fmt(m.rss_before_mib) },
      { title: 'RSS after MiB', cell: (m) => fmt(m.rss_after_mib) },
      { title: 'KiB per connection', cell: (m) => fmt(m.kib_per_conn) },
      { title: '÷ HAProxy', cell: (m) => ratio(m.kib_per_conn, ha?.kib_per_conn) },
      { title: 'KiB/conn by round', cell: (_m, name) => byRound(raw[name], 'kib_per_conn') },
      { title: 'connections ok', cell: (m) => fmt(m.ok) },
      { title: 'failed', cell: (m) => fmt(m.failed) },
    ], meds),
    '',
    `- yoke: **${fmt(yk?.kib_per_conn)} KiB** per idle proxied connection (target ≤ 6 KiB); yoke ÷ bare pipe ${ratio(yk?.kib_per_conn, meds.get('bare-pipe')?.kib_per_conn)}`,
  ].join('\n');
  return { id: 'memory', markdown, raw };
}
