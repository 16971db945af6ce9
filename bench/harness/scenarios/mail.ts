// Issue 5's mail farm. (1) IMAP logins per second through yoke `mode: imap` with one directory on a real slapd
// (test/helpers/slapd.ts, loaded with USERS users whose mailHost alternates mail1/mail2), with a warm directory cache
// (the same WARM_USERS users again and again, `cache: 10m`) and a cold one (`cache: 1ms`, and the users taken in turn
// from the other 900: every login a search), against the same logins straight to the fake backends
// (test/helpers/mail-backends.ts, bench/peers/mail-backends.ts); (2) the latency yoke adds to a login; (3) directory
// lookups per second yoke's Directory pool sustains against the slapd, pool sizes 1, 4 and 8, cache defeated.
// yoke's CPU per login from /proc; the directory's queries per login from the admin API, to prove warm and cold.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE, startSlapd, type Slapd } from '../../../test/helpers/slapd.ts';
import { freePort, startNode, startYoke, waitTcp, type Ctx } from '../ctx.ts';
import { adopt, cpuTicks, forget, runPinned, stop, type Proc } from '../proc.ts';
import { byRound, fmt, medians, table, type Column, type Row, type Section } from '../report.ts';
import { alternate, cpuSeconds, type Candidate } from './common.ts';

/**
 * Users in the LDIF: user0 … user999, mailHost mail1.example.org for even N, mail2 for odd. Kept small on purpose:
 * with test/helpers/slapd.ts's configuration a search costs slapd CPU in proportion to the entries (about 0.12 ms
 * at 100, 5.7 ms at 10,000, the same with ldapsearch), so a big LDIF would measure that, not yoke; the cold runs
 * defeat the cache with `cache: 1ms` instead.
 */
const USERS = 1_000;
/** The warm runs' users (user0 … user99); the cold runs take the rest in turn. */
const WARM_USERS = 100;
/** Clients logging in at once. */
const CONC = 16;
/** A full run's rounds last at least this long (logins are slower to settle than a wrk window). */
const ROUND_S = 20;
/** Lookups in flight, and the pool sizes tried. */
const LOOKUP_CONC = 32;
const POOLS = [1, 4, 8] as const;
const TOKEN = 'bench-mail';

interface Load { readonly ports: readonly number[]; readonly from: number; readonly count: number; readonly directory: string | undefined }

interface LoginResult {
  logins: number; errors: number; wrong: number; seconds: number; first_error: string;
  login_p50_us: number; login_p99_us: number; login_p999_us: number; session_p50_us: number; session_p99_us: number;
}

interface LookupResult {
  lookups: number; found: number; wrong: number; unknown: number; unavailable: number; seconds: number;
  p50_us: number; p99_us: number; p999_us: number; cpu_s: number; queries: number; connects: number; first_error: string;
}

function yokeMailConfig(ctx: Ctx, o: { url: string; warm: number; cold: number; admin: number; mail1: number; mail2: number }): string {
  const secret = join(ctx.dir, 'ldap-password');
  const token = join(ctx.dir, 'mail-admin-token');
  writeFileSync(secret, ADMIN_PASSWORD, { mode: 0o600 });
  writeFileSync(token, TOKEN, { mode: 0o600 });
  const service = (name: string, port: number, directory: string): string => [
    `  - name: ${name}`, `    listen: 127.0.0.1:${port}`, '    mode: imap', `    directory: ${directory}`, '    servers:',
    `      - { name: mail1.example.org, address: 127.0.0.1:${o.mail1} }`,
    `      - { name: mail2.example.org, address: 127.0.0.1:${o.mail2} }`,
  ].join('\n');
  const directory = (name: string, cache: string): string => [
    `  ${name}:`, '    ldap:', `      url: ${o.url}`, `      bind_dn: ${ADMIN_DN}`, `      password: file:${secret}`, `      base: ${PEOPLE}`,
    `      cache: ${cache}`, `      negative_cache: ${cache}`,
  ].join('\n');
  return [
    '# bench: yoke mail farm candidate (two imap services, one per directory cache setting)',
    `admin: { listen: 127.0.0.1:${o.admin}, token: file:${token} }`,
    'directories:',
    directory('warm', '10m'),
    directory('cold', '1ms'),
    'services:',
    service('imap-warm', o.warm, 'warm'),
    service('imap-cold', o.cold, 'cold'),
    '',
  ].join('\n');
}

/** Table columns that show one figure of a candidate's medians each: [title, key]. */
function columns(spec: readonly (readonly [string, string])[]): Column[] {
  return spec.map(([title, key]) => ({ title, cell: (m: Row) => fmt(m[key]) }));
}

const LATENCY = [['p50 ms', 'p50_ms'], ['p99 ms', 'p99_ms'], ['p99.9 ms', 'p999_ms']] as const;

type DirCounters = Record<string, { lookups: number; hits: number; misses: number; queries: number; errors: number; connects: number }>;

async function directoryCounters(admin: number): Promise<DirCounters> {
  const res = await fetch(`http://127.0.0.1:${admin}/api/v1/mail`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (!res.ok) throw new Error(`GET /api/v1/mail: ${res.status}`);
  return ((await res.json()) as { directories: DirCounters }).directories;
}

/** slapd was started by the test helper: pin it (all its threads) to the load core, as the other real servers are. */
function pin(pid: number, core: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', core, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset slapd: ${r.stderr}`);
}

export async function mailScenario(ctx: Ctx): Promise<Section> {
  const seconds = ctx.plan.quick ? ctx.plan.seconds : Math.max(ctx.plan.seconds, ROUND_S);
  const people = Array.from({ length: USERS }, (_, i) => ({ uid: `user${i}`, mailHost: `mail${(i % 2) + 1}.example.org` }));
  ctx.log(`mail: loading ${USERS.toLocaleString('en-US')} users into a slapd`);
  const slapd: Slapd = await startSlapd({ people });
  const slapdPid = slapd.pid;
  if (slapdPid === undefined) throw new Error('slapd has no pid');
  adopt(slapdPid);
  const procs: Proc[] = [];
  try {
    pin(slapdPid, ctx.loadCore);
    const [m1, m2, wp, cp, ap] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const backends = startNode(ctx, 'mail-backends', 'peers/mail-backends.ts', [m1, m2], ctx.loadCore);
    procs.push(backends);
    await Promise.all([waitTcp(m1, backends), waitTcp(m2, backends)]);
    const file = join(ctx.dir, 'yoke-mail.yaml');
    writeFileSync(file, yokeMailConfig(ctx, { url: slapd.url, warm: wp, cold: cp, admin: ap, mail1: m1, mail2: m2 }));
    const yk = startYoke(ctx, 'yoke-mail', file);
    procs.push(yk);
    await Promise.all([waitTcp(wp, yk), waitTcp(cp, yk), waitTcp(ap, yk)]);

    // (1) and (2): logins, A B C A B C … over direct, yoke warm, yoke cold.
    const { warmNode, warmDirect } = ctx.plan;
    const loads = new Map<string, Load>([
      ['direct', { ports: [m1, m2], from: 0, count: WARM_USERS, directory: undefined }],
      ['yoke, warm cache', { ports: [wp], from: 0, count: WARM_USERS, directory: 'warm' }],
      ['yoke, cold cache', { ports: [cp], from: WARM_USERS, count: USERS - WARM_USERS, directory: 'cold' }],
    ]);
    const cands: Candidate[] = [
      { name: 'direct', port: m1, proc: undefined, warm: warmDirect },
      { name: 'yoke, warm cache', port: wp, proc: yk, warm: warmNode },
      { name: 'yoke, cold cache', port: cp, proc: yk, warm: warmNode },
    ];
    const errors: string[] = [];
    const measure = async (c: Candidate, secs: number): Promise<Row> => {
      const load = loads.get(c.name)!;
      const d0 = load.directory === undefined ? undefined : (await directoryCounters(ap))[load.directory];
      const t0 = c.proc ? cpuTicks(c.proc.pid) : NaN;
      const s0 = cpuTicks(slapdPid);
      const b0 = cpuTicks(backends.pid);
      const r = await runPinned('imap-logins', process.execPath,
        ['--disable-warning=ExperimentalWarning', join(ctx.root, 'bench', 'peers', 'imap-logins.ts'), load.ports.join(','), String(secs), String(CONC), String(load.from), String(load.count)],
        { core: ctx.loadCore, timeoutMs: (secs + 30) * 1000 });
      const cpu = c.proc ? cpuSeconds(ctx, cpuTicks(c.proc.pid) - t0) : NaN;
      const slapdCpu = cpuSeconds(ctx, cpuTicks(slapdPid) - s0);
      const backendCpu = cpuSeconds(ctx, cpuTicks(backends.pid) - b0);
      const d1 = load.directory === undefined ? undefined : (await directoryCounters(ap))[load.directory];
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (!line.startsWith('{')) throw new Error(`imap-logins printed no result (exit ${r.code}): ${r.stdout}${r.stderr}`);
      const w = JSON.parse(line) as LoginResult;
      if (w.first_error !== '' && errors.length < 5) errors.push(`${c.name}: ${w.first_error}`);
      return {
        logins_s: w.logins / w.seconds,
        p50_ms: w.login_p50_us / 1000, p99_ms: w.login_p99_us / 1000, p999_ms: w.login_p999_us / 1000,
        session_p50_ms: w.session_p50_us / 1000, session_p99_ms: w.session_p99_us / 1000,
        proxy_cpu_pct: (cpu / w.seconds) * 100,
        cpu_us_per_login: (cpu * 1e6) / w.logins,
        slapd_cpu_pct: (slapdCpu / w.seconds) * 100,
        backend_cpu_pct: (backendCpu / w.seconds) * 100,
        queries_per_login: d0 && d1 ? (d1.queries - d0.queries) / w.logins : NaN,
        hit_ratio: d0 && d1 ? (d1.hits - d0.hits) / Math.max(1, d1.lookups - d0.lookups) : NaN,
        errors: w.errors, wrong: w.wrong, logins: w.logins,
      };
    };
    const logins = await alternate({ ...ctx, plan: { ...ctx.plan, seconds } }, 'mail logins', cands, measure);
    await stop(yk);
    await stop(backends);

    // (3) lookups: the pool alone against slapd, A B C … over the pool sizes; the client on the proxy core.
    const lookupCands: Candidate[] = POOLS.map((n) => ({ name: `pool ${n}`, port: n, proc: undefined, warm: Math.min(5, warmNode) }));
    const lookupErrors: string[] = [];
    const lookupMeasure = async (c: Candidate, secs: number): Promise<Row> => {
      const s0 = cpuTicks(slapdPid);
      const r = await runPinned('ldap-lookups', process.execPath,
        ['--disable-warning=ExperimentalWarning', join(ctx.root, 'bench', 'peers', 'ldap-lookups.ts'), slapd.url, String(c.port), String(secs), String(LOOKUP_CONC), '0', String(USERS)],
        { core: ctx.proxyCore, timeoutMs: (secs + 30) * 1000 });
      const slapdCpu = cpuSeconds(ctx, cpuTicks(slapdPid) - s0);
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (!line.startsWith('{')) throw new Error(`ldap-lookups printed no result (exit ${r.code}): ${r.stdout}${r.stderr}`);
      const w = JSON.parse(line) as LookupResult;
      if (w.first_error !== '' && lookupErrors.length < 5) lookupErrors.push(`${c.name}: ${w.first_error}`);
      return {
        lookups_s: w.lookups / w.seconds, p50_ms: w.p50_us / 1000, p99_ms: w.p99_us / 1000, p999_ms: w.p999_us / 1000,
        slapd_cpu_pct: (slapdCpu / w.seconds) * 100, client_cpu_pct: (w.cpu_s / w.seconds) * 100,
        client_cpu_us_per_lookup: (w.cpu_s * 1e6) / w.lookups, queries_per_lookup: w.queries / w.lookups,
        not_found: w.unknown + w.wrong, unavailable: w.unavailable, lookups: w.lookups,
      };
    };
    const lookups = await alternate(ctx, 'mail lookups', lookupCands, lookupMeasure);

    const lm = new Map(Object.entries(logins).map(([k, rows]) => [k, medians(rows)]));
    const km = new Map(Object.entries(lookups).map(([k, rows]) => [k, medians(rows)]));
    const direct = lm.get('direct');
    const added = (name: string): string => {
      const m = lm.get(name);
      const d = (k: string): string => fmt((m?.[k] ?? NaN) - (direct?.[k] ?? NaN));
      return `${name}: **+${d('p50_ms')} ms** at p50, **+${d('p99_ms')} ms** at p99 (p99.9 +${d('p999_ms')} ms)`;
    };
    const markdown = [
      '### Mail farm (issue 5): IMAP logins and directory lookups',
      '',
      `A login: connect, greeting, \`a1 LOGIN userN password\`, the backend's tagged OK, \`a2 LOGOUT\`, its OK, the server's close (bench/peers/imap-logins.ts, ${CONC} clients, hdr-histogram-js; the latency columns are connect → LOGIN's OK). Backends: test/helpers/mail-backends.ts's fake IMAP server as mail1/mail2 (bench/peers/mail-backends.ts, one process). Directory: a real slapd (test/helpers/slapd.ts: Debian's slapd, mdb, in a temp dir) with ${USERS.toLocaleString('en-US')} users, mailHost alternating mail1/mail2; slapd and the backends on core ${ctx.loadCore} with the clients, yoke alone on core ${ctx.proxyCore}. yoke: two \`mode: imap\` services, each with its directory (pool 4, bind as the admin DN); **warm**: \`cache: 10m\`, users user0…user${WARM_USERS - 1} again and again; **cold**: \`cache: 1ms\`, users taken in turn from the other ${(USERS - WARM_USERS).toLocaleString('en-US')}, so every login is a search. Direct: the same client, each user straight to its home backend. yoke logs one \`mail route\` line per login (level info, its default). ${ctx.plan.rounds} rounds × ${seconds} s, after a warm-up of ${warmNode} s (yoke) / ${warmDirect} s (direct); medians.`,
      '',
      table([
        ...columns([['logins/s', 'logins_s'], ...LATENCY, ['session p50 ms', 'session_p50_ms'], ['yoke CPU %', 'proxy_cpu_pct'], ['yoke CPU µs/login', 'cpu_us_per_login']]),
        { title: 'CPU µs/login by round', cell: (_m, name) => byRound(logins[name], 'cpu_us_per_login') },
        ...columns([['LDAP searches/login', 'queries_per_login'], ['slapd CPU %', 'slapd_cpu_pct'], ['backends CPU %', 'backend_cpu_pct'], ['errors', 'errors'], ['wrong server', 'wrong']]),
      ], lm),
      '',
      `- Latency yoke adds to a login (yoke − direct, medians of the rounds): ${added('yoke, warm cache')}; ${added('yoke, cold cache')}.`,
      ...(errors.length > 0 ? [`- First errors: ${errors.map((e) => `\`${e}\``).join('; ')}`] : []),
      '',
      `#### Directory lookups the pool sustains against slapd`,
      '',
      `yoke's \`Directory.lookup\` (services/mail/directory.ts) in its own process on core ${ctx.proxyCore}, slapd on core ${ctx.loadCore}; \`cache: 1ms\` and every lookup a different user (all ${USERS.toLocaleString('en-US')} in turn), ${LOOKUP_CONC} lookups in flight; the pool is opened and bound before the clock starts. ${ctx.plan.rounds} rounds × ${ctx.plan.seconds} s per pool size after ${Math.min(5, warmNode)} s warm-up; medians.`,
      '',
      table([
        ...columns([['lookups/s', 'lookups_s'], ...LATENCY]),
        { title: 'lookups/s by round', cell: (_m, name) => byRound(lookups[name], 'lookups_s') },
        ...columns([['slapd CPU %', 'slapd_cpu_pct'], ['client CPU %', 'client_cpu_pct'], ['client CPU µs/lookup', 'client_cpu_us_per_lookup'], ['searches/lookup', 'queries_per_lookup'], ['not found', 'not_found'], ['unavailable', 'unavailable']]),
      ], km),
      ...(lookupErrors.length > 0 ? ['', `- First errors: ${lookupErrors.map((e) => `\`${e}\``).join('; ')}`] : []),
    ].join('\n');
    return { id: 'mail', markdown, raw: { logins, lookups } };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await slapd.remove();
    forget(slapdPid);
  }
}
