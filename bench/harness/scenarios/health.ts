// Scenario health (issue 3). Detection: a real server dies (its listener closed, its connections reset) and comes
// back while clients keep connecting through yoke; the times from its death to yoke's "is down" log line and from
// its return to "is up", for the default settings, the tightest sane ones and passive checks, with the client
// connections that failed meanwhile. Cost: yoke's CPU with 1,000 real servers checked every second (tcp, http),
// against the same 1,000 servers unchecked.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import * as configs from '../configs.ts';
import { freePort, startYoke, waitTcp, type Ctx } from '../ctx.ts';
import { cpuTicks, rssKiB, spawnPinned, stop, type Proc } from '../proc.ts';
import { fmt, median, type Row, type Section } from '../report.ts';
import { cpuSeconds } from './common.ts';

const TOKEN = 'bench-health';
/** Client loops through yoke during the detection runs, and their pause between connections. */
const CLIENT_WORKERS = 2;
const CLIENT_PAUSE_MS = 5;
const COST_SERVERS = 1000;

/** One set of check settings for the detection runs; the numbers repeat the YAML for the expected times. */
interface Setting {
  readonly name: string;
  readonly health: string;
  readonly intervalMs: number;
  readonly retryMs: number;
  readonly fall: number;
  readonly rise: number;
  readonly passive: boolean;
}

const SETTINGS: readonly Setting[] = [
  { name: 'default', health: '{ type: tcp }', intervalMs: 2000, retryMs: 1000, fall: 3, rise: 2, passive: false },
  { name: 'tight', health: '{ type: tcp, interval: 100ms, timeout: 100ms, fall: 2, rise: 2, retry_delay: 50ms }', intervalMs: 100, retryMs: 50, fall: 2, rise: 2, passive: false },
  { name: 'passive', health: '{ type: tcp, passive_fall: 1 }', intervalMs: 2000, retryMs: 1000, fall: 3, rise: 2, passive: true },
];

const COSTS: readonly { readonly name: string; readonly health: string | undefined }[] = [
  { name: 'no check (idle)', health: undefined },
  { name: 'tcp, interval 1s', health: '{ type: tcp, interval: 1s }' },
  { name: 'http GET /healthz, interval 1s', health: '{ type: http, path: /healthz, interval: 1s }' },
  // warmup 0 starts all 1,000 checks at once; spread over the interval, they no longer queue behind each other.
  { name: 'http GET /healthz, interval 1s, warmup 1s', health: '{ type: http, path: /healthz, interval: 1s, warmup: 1s }' },
];

type Json = Record<string, unknown>;

/** yoke's JSON log lines as they arrive, each with the bench's own time of arrival. */
class LogFeed {
  readonly lines: { readonly line: Json; readonly seen: number }[] = [];
  #wake: (() => void) | undefined;

  constructor(p: Proc) {
    if (p.child.stdout === null) throw new Error(`${p.name}: stdout is not captured`);
    createInterface({ input: p.child.stdout }).on('line', (text) => {
      if (!text.startsWith('{')) return;
      this.lines.push({ line: JSON.parse(text) as Json, seen: Date.now() });
      this.#wake?.();
    });
  }

  /** The first line from index `from` on that `match`es, or undefined after `timeoutMs`. */
  async wait(from: number, match: (l: Json) => boolean, timeoutMs: number): Promise<{ readonly line: Json; readonly seen: number } | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (let i = from; ; i++) {
      while (i >= this.lines.length) {
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          this.#wake = () => { clearTimeout(t); resolve(); };
        });
      }
      const l = this.lines[i]!;
      if (match(l.line)) return l;
    }
  }
}

interface Servers { readonly proc: Proc; readonly control: number; readonly port: number; readonly addresses: readonly string[] }

async function startServers(ctx: Ctx, name: string, count: number): Promise<Servers> {
  const [port, control] = [await freePort(), await freePort()];
  const proc = spawnPinned(name, process.execPath, ['--disable-warning=ExperimentalWarning', join(ctx.root, 'bench', 'peers', 'health-servers.ts'), String(port), String(count), String(control)], { core: ctx.loadCore });
  await waitTcp(control, proc);
  const line = proc.stdout().split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`${name} printed no addresses: ${proc.stderr()}`);
  const { addresses } = JSON.parse(line) as { addresses: string[] };
  return { proc, control, port, addresses: addresses.map((a) => `${a}:${port}`) };
}

/** A command to the servers peer; the peer's own time of the change (or its counters). */
async function control<T = { at: number }>(s: Servers, path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${s.control}${path}`);
  const body = (await r.json()) as T & { error?: string };
  if (!r.ok) throw new Error(`health-servers ${path}: ${body.error ?? r.status}`);
  return body;
}

/** servers[].state and health.last_change.at of one server, from the admin API. */
async function apiState(admin: number, address: string): Promise<{ state: string; at: number }> {
  const r = await fetch(`http://127.0.0.1:${admin}/api/v1/services/hc`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const svc = (await r.json()) as { servers: { address: string; state: string; health: { last_change: { at: number } | null } }[] };
  const s = svc.servers.find((x) => x.address === address);
  return { state: s?.state ?? '?', at: s?.health.last_change?.at ?? NaN };
}

/** yoke with its log captured, over `servers`, with the admin API; resolves once the API listens. */
async function yokeWith(ctx: Ctx, name: string, servers: readonly string[], health: string | undefined): Promise<{ yk: Proc; log: LogFeed; port: number; admin: number }> {
  const tokenFile = join(ctx.dir, 'admin-token');
  writeFileSync(tokenFile, TOKEN + '\n');
  const [port, admin] = [await freePort(), await freePort()];
  const yk = startYoke(ctx, name, configs.yokeHealth(ctx.dir, name, { port, admin, tokenFile, servers, health }), undefined, true);
  const log = new LogFeed(yk);
  await waitTcp(admin, yk, 60_000);
  return { yk, log, port, admin };
}

async function stopYoke(ctx: Ctx, yk: Proc): Promise<void> {
  await stop(yk);
  writeFileSync(join(ctx.dir, `${yk.name}.log`), yk.stdout() + yk.stderr());
}

/** Expected detection, from the prober's rules: the next check comes 0..interval after the change, then (n - 1) retry delays. */
function expected(s: Setting, n: number): [number, number] {
  return [(n - 1) * s.retryMs, s.intervalMs + (n - 1) * s.retryMs];
}

async function detection(ctx: Ctx, servers: Servers, s: Setting, reps: number): Promise<Row[]> {
  const name = `yoke-health-${s.name}`;
  const victim = servers.addresses[1]!;
  const { yk, log, port, admin } = await yokeWith(ctx, name, servers.addresses.slice(0, 2), s.health);
  const downWait = s.passive ? 2000 : expected(s, s.fall)[1] + 3000;
  const upWait = expected(s, s.rise)[1] + 3000;
  const boundS = Math.ceil((3 * s.intervalMs + reps * (4 * s.intervalMs + downWait + upWait)) / 1000) + 10;
  const clients = spawnPinned(`connect-loop-${s.name}`, process.execPath,
    ['--disable-warning=ExperimentalWarning', join(ctx.root, 'bench', 'peers', 'connect-loop.ts'), String(port), String(CLIENT_WORKERS), String(boundS), String(CLIENT_PAUSE_MS)],
    { core: ctx.loadCore });
  const rows: Row[] = [];
  const of = (event: string) => (l: Json): boolean => l['server'] === victim && l['event'] === event;
  try {
    await sleep(2 * s.intervalMs);
    for (let r = 1; r <= reps; r++) {
      // A random phase against the check timer: the death lands uniformly within an interval.
      await sleep(s.intervalMs * (1 + Math.random()));
      let from = log.lines.length;
      const { at: killedAt } = await control(servers, '/down/1');
      const down = await log.wait(from, of('down'), downWait);
      if (down === undefined) throw new Error(`${s.name}: ${victim} not down ${downWait} ms after its death (rep ${r})`);
      const api = await apiState(admin, victim);
      await sleep(s.intervalMs * (1 + Math.random()));
      from = log.lines.length;
      const { at: backAt } = await control(servers, '/up/1');
      const up = await log.wait(from, of('up'), upWait);
      if (up === undefined) throw new Error(`${s.name}: ${victim} not up ${upWait} ms after its return (rep ${r})`);
      const row: Row = {
        down_ms: Number(down.line['time']) - killedAt, up_ms: Number(up.line['time']) - backAt,
        down_seen_ms: down.seen - killedAt, up_seen_ms: up.seen - backAt,
        api_skew_ms: api.at - Number(down.line['time']), api_down: api.state === 'down' ? 1 : 0,
        killed_at: killedAt, up_at: Number(up.line['time']),
      };
      rows.push(row);
      ctx.log(`health ${s.name}: rep ${r}/${reps}: down after ${row.down_ms} ms (${String(down.line['reason'])}), up after ${row.up_ms} ms`);
    }
  } finally {
    await stop(clients);
    await stopYoke(ctx, yk);
  }
  // Client failures, each given to the death whose window (death to re-entry) holds it.
  const lines = clients.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { fail?: number; reason?: string; ok?: number; failed?: number });
  writeFileSync(join(ctx.dir, `${clients.name}.log`), clients.stdout() + clients.stderr());
  const fails = lines.filter((l) => l.fail !== undefined);
  for (const row of rows) row['client_fails'] = fails.filter((f) => f.fail! >= row['killed_at']! && f.fail! <= row['up_at']! + 100).length;
  const totals = lines.filter((l) => l.ok !== undefined).pop();
  const first = rows[0];
  if (first !== undefined) {
    first['clients_ok'] = totals?.ok ?? NaN;
    first['clients_failed'] = totals?.failed ?? NaN;
    ctx.log(`health ${s.name}: clients ${totals?.ok} ok, ${totals?.failed} failed: ${[...new Set(fails.map((f) => f.reason))].join(', ')}`);
  }
  return rows;
}

async function cost(ctx: Ctx, servers: Servers, name: string, health: string | undefined, warmS: number, seconds: number): Promise<Row> {
  const { yk, log } = await yokeWith(ctx, `yoke-health-cost-${name}`, servers.addresses, health);
  try {
    await sleep(warmS * 1000);
    const s0 = await control<{ accepted: number; requests: number; at: number }>(servers, '/stats');
    const c0 = cpuTicks(yk.pid);
    await sleep(seconds * 1000);
    const c1 = cpuTicks(yk.pid);
    const s1 = await control<{ accepted: number; requests: number; at: number }>(servers, '/stats');
    const secs = (s1.at - s0.at) / 1000;
    const cpu = cpuSeconds(ctx, c1 - c0);
    const checks = (s1.accepted - s0.accepted) / secs;
    return {
      cpu_pct: (cpu / secs) * 100, checks_s: checks, requests_s: (s1.requests - s0.requests) / secs,
      us_per_check: checks > 0 ? (cpu * 1e6) / (checks * secs) : NaN, rss_mib: rssKiB(yk.pid) / 1024, seconds: secs,
      downs: log.lines.filter((l) => l.line['event'] === 'down').length,
    };
  } finally {
    await stopYoke(ctx, yk);
  }
}

const range = ([lo, hi]: [number, number]): string => `${fmt(lo)}–${fmt(hi)} (mid ${fmt((lo + hi) / 2)})`;
const spread = (rows: readonly Row[], k: string): string => {
  const xs = rows.map((r) => r[k]!);
  return `**${fmt(median(xs))}** (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
};

export async function healthScenario(ctx: Ctx): Promise<Section> {
  const reps = ctx.plan.quick ? 3 : 15;
  const [warmS, seconds] = ctx.plan.quick ? [2, 3] : [10, 30];
  const raw: Record<string, Row[]> = {};
  const pair = await startServers(ctx, 'health-servers-2', 2);
  try {
    for (const s of SETTINGS) raw[s.name] = await detection(ctx, pair, s, reps);
  } finally {
    await stop(pair.proc);
  }
  const many = await startServers(ctx, 'health-servers-1000', COST_SERVERS);
  try {
    for (const [i, c] of COSTS.entries()) {
      const row = await cost(ctx, many, String(i), c.health, warmS, seconds);
      raw[c.name] = [row];
      ctx.log(`health cost ${c.name}: ${JSON.stringify(row, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v))}`);
    }
  } finally {
    await stop(many.proc);
  }
  const detectLines = SETTINGS.map((s) => {
    const rows = raw[s.name]!;
    const t = rows[0];
    const fails = rows.map((r) => r['client_fails']!);
    return `| ${s.name} | \`${s.health}\` | ${s.passive ? '≈ 0 (first refused connect)' : range(expected(s, s.fall))} | ${spread(rows, 'down_ms')} | ${range(expected(s, s.rise))} | ${spread(rows, 'up_ms')} | ${fmt(median(fails))} / ${fmt(Math.max(...fails))} | ${fmt(t?.['clients_failed'])} of ${fmt((t?.['clients_ok'] ?? NaN) + (t?.['clients_failed'] ?? NaN))} |`;
  });
  const costLines = COSTS.map((c) => {
    const m = raw[c.name]![0]!;
    return `| ${c.name} | **${fmt(m['cpu_pct'])}** | ${fmt(m['checks_s'])} | ${fmt((COST_SERVERS * 1000) / m['checks_s']!)} | ${fmt(m['requests_s'])} | ${fmt(m['us_per_check'])} | ${fmt(m['rss_mib'])} | ${fmt(m['downs'])} |`;
  });
  const allRows = SETTINGS.flatMap((s) => raw[s.name]!);
  const markdown = [
    '### Health checks: detection time and the cost of 1,000 checked servers',
    '',
    `Detection: one yoke service (rr) over two real servers (\`peers/health-servers.ts\`, HTTP on 127.0.10.1–2), ${CLIENT_WORKERS} client loops (\`peers/connect-loop.ts\`) opening a connection through yoke every ~${CLIENT_PAUSE_MS} ms each. ${reps} times per setting: after a random part of an interval, the second server dies (listener closed, connections reset), then comes back; times from the peer's clock at death / return to the \`time\` of yoke's "is down" / "is up" log line (same host clock). ms; median (min–max).`,
    '',
    '| setting | health | expected removal | removal | expected re-entry | re-entry | failed client conns per death (median / max) | clients failed, whole run |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...detectLines,
    '',
    `- Cross-checks: log line seen by the bench ${fmt(median(allRows.map((r) => r['down_seen_ms']! - r['down_ms']!)))} ms (median) after its \`time\`; the admin API showed the server down after every "is down" line: ${allRows.every((r) => r['api_down'] === 1) ? 'yes' : 'NO'}, its \`last_change.at\` minus the log time: max ${fmt(Math.max(...allRows.map((r) => Math.abs(r['api_skew_ms']!))))} ms.`,
    '',
    `Cost: one service over ${COST_SERVERS.toLocaleString('en-US')} real servers (one Node process, HTTP listeners on 127.0.10.1–127.0.13.250, one port); yoke alone on core ${ctx.proxyCore}, warm-up ${warmS} s, then utime+stime from /proc over ${seconds} s. Checks/s = connections the servers accepted; ms between a server's checks = 1,000 servers ÷ checks/s (interval + the check's own time).`,
    '',
    '| checks | yoke CPU, % of one core | checks/s | ms between a server\'s checks | HTTP requests/s | CPU µs per check | yoke RSS MiB | servers marked down |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...costLines,
  ].join('\n');
  return { id: 'health', markdown, raw };
}
