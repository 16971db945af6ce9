// Issue 4's web farm: `http` (wrk through yoke `mode: http` and the other HTTP reverse proxies, keep-alive, new
// connections, and a paced load for latency at one offered rate) and `tlspass` (full TLS handshakes through yoke
// `mode: tls` and HAProxy `mode tcp` to nginx with ssl). Same warm-up, A B A B rounds and /proc CPU as the TCP set.
import { join } from 'node:path';
import { makePki } from '../../../test/helpers/pki.ts';
import * as configs from '../configs.ts';
import { freePort, startHaproxy, startNginx, startNode, startYoke, waitTcp, type Ctx } from '../ctx.ts';
import { cpuTicks, runPinned, stop, type Proc } from '../proc.ts';
import { fmt, loadColumns, median, medians, ratio, table, type Row, type Section } from '../report.ts';
import { alternate, cpuSeconds, type Candidate } from './common.ts';
import { wrkMeasure } from './http.ts';

/** Each wrk connection waits this long after an answer in the paced run: 50 connections offer at most ~2,500 req/s. */
export const PACE_MS = 20;

/** yoke's HTTP access log off (the other proxies keep none in this bench). */
export const NO_ACCESS_LOG = { YOKE_LOG_LEVEL: 'warn' };

/** The HTTP candidates, each started and listening: direct, HAProxy, yoke; with `all`, also yoke with its access log, nginx and http-proxy. */
async function startHttpCandidates(ctx: Ctx, all: boolean): Promise<{ backend: Proc; procs: Proc[]; cands: Candidate[] }> {
  const bp = await freePort();
  const backend = startNginx(ctx, 'nginx-backend', configs.nginxBackend(ctx.dir, bp, '/dev/null'), ctx.loadCore);
  const procs: Proc[] = [backend];
  const { warmNode, warmC, warmDirect } = ctx.plan;
  const cands: Candidate[] = [{ name: 'direct', port: bp, proc: undefined, warm: warmDirect }];
  const add = async (name: string, warm: number, start: (port: number) => Proc): Promise<void> => {
    const port = await freePort();
    const proc = start(port);
    procs.push(proc);
    cands.push({ name, port, proc, warm });
  };
  try {
    await waitTcp(bp, backend);
    await add('haproxy', warmC, (port) => startHaproxy(ctx, 'haproxy-http', configs.haproxy(ctx.dir, 'haproxy-http', port, bp, 'http')));
    // HAProxy and nginx keep no access log here; yoke's (one line per request at info) is off with YOKE_LOG_LEVEL=warn.
    // The second yoke keeps it, as yoke runs by default.
    await add('yoke', warmNode, (port) => startYoke(ctx, 'yoke-http', configs.yoke(ctx.dir, 'yoke-http', 'http', port, bp), undefined, false, NO_ACCESS_LOG));
    if (all) {
      await add('yoke+accesslog', warmNode, (port) => startYoke(ctx, 'yoke-http-log', configs.yoke(ctx.dir, 'yoke-http-log', 'http', port, bp)));
      await add('nginx', warmC, (port) => startNginx(ctx, 'nginx-proxy', configs.nginxProxy(ctx.dir, 'nginx-proxy', port, bp), ctx.proxyCore));
      await add('http-proxy', warmNode, (port) => startNode(ctx, 'npm-http-proxy', 'npm-http-proxy.ts', [port, bp], ctx.proxyCore));
    }
    await Promise.all(cands.filter((c) => c.proc !== undefined).map((c) => waitTcp(c.port, c.proc as Proc)));
    return { backend, procs, cands };
  } catch (e) {
    await Promise.all(procs.map((p) => stop(p)));
    throw e;
  }
}

/** http: req/s, latency and CPU per request through each HTTP proxy; three tables (keep-alive, new connections, paced). */
export async function webHttpScenario(ctx: Ctx): Promise<Section> {
  const { backend, procs, cands } = await startHttpCandidates(ctx, true);
  try {
    const keep = await alternate(ctx, 'http keepalive', cands, wrkMeasure(ctx, backend, false));
    const short = await alternate(ctx, 'http short', cands, wrkMeasure(ctx, backend, true));
    // Already warm from the two loads above: a short settle only.
    const paced = await alternate(ctx, 'http paced', cands.map((c) => ({ ...c, warm: ctx.plan.warmDirect })), wrkMeasure(ctx, backend, false, PACE_MS));
    const markdown = [
      '### Web farm (issue 4): HTTP reverse proxies',
      '',
      `wrk -t1 -c${ctx.plan.wrkConns} to nginx's small static answer; ${ctx.plan.rounds} rounds × ${ctx.plan.seconds} s per candidate, medians. yoke \`mode: http\` (one service, one server, rr) with its access log off (\`YOKE_LOG_LEVEL=warn\`; HAProxy and nginx keep none here), and as \`yoke+accesslog\` with it on (yoke's default: one JSON line per request to a file); HAProxy \`mode http\` (nbthread 1, http-reuse safe, keep-alive both sides); nginx \`proxy_pass\` to an upstream with \`keepalive 64\` (proxy_http_version 1.1, Connection ""); the \`http-proxy\` npm package (bench/npm-http-proxy.ts, keep-alive agent).`,
      '',
      httpTable('Keep-alive (max rate)', keep),
      '', httpTable('New connection per request (wrk `-H "Connection: close"`)', short),
      '', httpTable(`Paced keep-alive: each connection waits ${PACE_MS} ms after an answer (at most ${Math.round(ctx.plan.wrkConns * 1000 / PACE_MS).toLocaleString('en-US')} req/s offered), latency at one offered load`, paced),
    ].join('\n');
    return { id: 'http', markdown, raw: { keepalive: keep, short, paced } };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
}

/**
 * httppaced: issue 4's latency target alone, with more rounds than `http` can afford: direct, HAProxy `mode http`
 * and yoke under the paced keep-alive load. p99 here moves with this machine's freezes (a freeze delays every
 * request in flight), so it takes many rounds; the ratio is given both as the ratio of the median p99s and as the
 * median of each round's ratio (HAProxy and yoke measured back to back).
 */
export async function webHttpPacedScenario(ctx: Ctx): Promise<Section> {
  const { backend, procs, cands } = await startHttpCandidates(ctx, false);
  try {
    const { warmNode, warmC, warmDirect } = ctx.plan;
    // Warm at full rate (as in `http`, where the paced load comes after two full loads), then a short paced settle.
    for (const c of cands) { ctx.log(`http paced: warming ${c.name} at full rate for ${c.warm} s`); await wrkMeasure(ctx, backend, false)(c, c.warm); }
    const paced = await alternate(ctx, 'http paced', cands.map((c) => ({ ...c, warm: warmDirect })), wrkMeasure(ctx, backend, false, PACE_MS));
    const byRound = (paced['yoke'] ?? []).map((y, i) => (y.p99_ms ?? NaN) / (paced['haproxy']?.[i]?.p99_ms ?? NaN));
    const markdown = [
      '### Web farm (issue 4): latency at one offered load, alone',
      '',
      `wrk -t1 -c${ctx.plan.wrkConns}, each connection waiting ${PACE_MS} ms after an answer; ${ctx.plan.rounds} rounds × ${ctx.plan.seconds} s per candidate, medians. Each candidate was first warmed at full rate (${warmNode} s for yoke, ${warmC} s for HAProxy). yoke \`mode: http\` with its access log off, HAProxy \`mode http\` as in \`http\`.`,
      '',
      httpTable(`Paced keep-alive (at most ${Math.round(ctx.plan.wrkConns * 1000 / PACE_MS).toLocaleString('en-US')} req/s offered)`, paced),
      `- yoke ÷ HAProxy, p99 round by round: ${byRound.map((r) => `${r.toFixed(2)}×`).join(' / ')}; **median of the rounds' ratios ${median(byRound).toFixed(2)}×** (target ≤ 2×)`,
    ].join('\n');
    return { id: 'httppaced', markdown, raw: { paced } };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
}

function httpTable(title: string, raw: Record<string, Row[]>): string {
  const meds = new Map(Object.entries(raw).map(([k, rows]) => [k, medians(rows)]));
  const cpu = (n: string): number | undefined => meds.get(n)?.cpu_us_per_req;
  const p99 = (n: string): number | undefined => meds.get(n)?.p99_ms;
  return [
    `#### ${title}`, '',
    table([
      ...loadColumns(raw, meds.get('haproxy'), { rate: 'rps', rateTitle: 'req/s', cost: 'cpu_us_per_req', unit: 'req' }),
      { title: 'errors', cell: (m) => fmt(m.errors) },
    ], meds),
    '',
    `- yoke ÷ HAProxy, CPU per request: **${ratio(cpu('yoke'), cpu('haproxy'))}** (target ≤ 3×; with the access log ${ratio(cpu('yoke+accesslog'), cpu('haproxy'))}); yoke ÷ nginx: ${ratio(cpu('yoke'), cpu('nginx'))}; yoke ÷ http-proxy: ${ratio(cpu('yoke'), cpu('http-proxy'))}`,
    `- yoke ÷ HAProxy, p99: ${ratio(p99('yoke'), p99('haproxy'))}; req/s: ${ratio(meds.get('yoke')?.rps, meds.get('haproxy')?.rps)}; yoke ÷ direct, req/s: ${ratio(meds.get('yoke')?.rps, meds.get('direct')?.rps)}`,
  ].join('\n');
}

const SNI = 'bench.test';
const LOOPS = 8;

/** tlspass: full TLS handshakes per second (bench/peers/tls-handshakes.ts) and proxy CPU per handshake. */
export async function tlsPassScenario(ctx: Ctx): Promise<Section> {
  const pki = makePki();
  const [bp, tp, hp, yp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const backend = startNginx(ctx, 'nginx-backend-tls', configs.nginxBackend(ctx.dir, bp, '/dev/null', { port: tp, cert: join(pki.dir, 'server.pem'), key: join(pki.dir, 'server.key') }), ctx.loadCore);
  const procs: Proc[] = [backend];
  try {
    await waitTcp(tp, backend);
    const ha = startHaproxy(ctx, 'haproxy-tls', configs.haproxy(ctx.dir, 'haproxy-tls', hp, tp));
    const yk = startYoke(ctx, 'yoke-tls', configs.yokeTls(ctx.dir, 'yoke-tls', yp, tp, SNI));
    procs.push(ha, yk);
    await Promise.all([waitTcp(hp, ha), waitTcp(yp, yk)]);
    const { warmNode, warmC, warmDirect } = ctx.plan;
    const cands: Candidate[] = [
      { name: 'direct', port: tp, proc: undefined, warm: warmDirect },
      { name: 'haproxy', port: hp, proc: ha, warm: warmC },
      { name: 'yoke', port: yp, proc: yk, warm: warmNode },
    ];
    let protocol = '';
    const measure = async (c: Candidate, seconds: number): Promise<Row> => {
      const t0 = c.proc ? cpuTicks(c.proc.pid) : NaN;
      const b0 = cpuTicks(backend.pid);
      const r = await runPinned('tls-handshakes', process.execPath,
        ['--disable-warning=ExperimentalWarning', join(ctx.root, 'bench', 'peers', 'tls-handshakes.ts'), String(c.port), String(seconds), SNI, String(LOOPS)],
        { core: ctx.loadCore, timeoutMs: (seconds + 30) * 1000 });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (!line.startsWith('{')) throw new Error(`tls-handshakes printed no result (exit ${r.code}): ${r.stdout}${r.stderr}`);
      const w = JSON.parse(line) as { handshakes: number; errors: number; seconds: number; protocol: string; p50_us: number; p99_us: number; p999_us: number };
      protocol = w.protocol;
      const cpu = c.proc ? cpuSeconds(ctx, cpuTicks(c.proc.pid) - t0) : NaN;
      return {
        hs_per_s: w.handshakes / w.seconds,
        p50_ms: w.p50_us / 1000, p99_ms: w.p99_us / 1000, p999_ms: w.p999_us / 1000,
        proxy_cpu_pct: (cpu / w.seconds) * 100,
        cpu_us_per_hs: (cpu * 1e6) / w.handshakes,
        backend_cpu_pct: (cpuSeconds(ctx, cpuTicks(backend.pid) - b0) / w.seconds) * 100,
        errors: w.errors,
        handshakes: w.handshakes,
      };
    };
    const raw = await alternate(ctx, 'tlspass', cands, measure);
    const meds = new Map(Object.entries(raw).map(([k, rows]) => [k, medians(rows)]));
    const m = (n: string): Row | undefined => meds.get(n);
    const markdown = [
      '### Web farm (issue 4): TLS passthrough handshakes',
      '',
      `bench/peers/tls-handshakes.ts: ${LOOPS} loops, each a new TCP connection, a full ${protocol || 'TLS'} handshake with SNI ${SNI} (no session offered), close; nginx with ssl (P-256 test certificate from test/helpers/pki.ts) as the real server. yoke \`mode: tls\` (an SNI route to a pool, \`sticky.tls_session\`); HAProxy \`mode tcp\` (nbthread 1). ${ctx.plan.rounds} rounds × ${ctx.plan.seconds} s, medians; handshake time from connect to secureConnect.`,
      '',
      table([
        ...loadColumns(raw, m('haproxy'), { rate: 'hs_per_s', rateTitle: 'handshakes/s', cost: 'cpu_us_per_hs', unit: 'handshake' }),
        { title: 'real server CPU %', cell: (r) => fmt(r.backend_cpu_pct) },
        { title: 'errors', cell: (r) => fmt(r.errors) },
      ], meds),
      '',
      `- yoke ÷ HAProxy, CPU per handshake: **${ratio(m('yoke')?.cpu_us_per_hs, m('haproxy')?.cpu_us_per_hs)}**; handshakes/s: ${ratio(m('yoke')?.hs_per_s, m('haproxy')?.hs_per_s)}; yoke ÷ direct, handshakes/s: ${ratio(m('yoke')?.hs_per_s, m('direct')?.hs_per_s)}`,
    ].join('\n');
    return { id: 'tlspass', markdown, raw };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    pki.remove();
  }
}
