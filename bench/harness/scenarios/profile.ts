// Profile: `./yoke run` under `node --cpu-prof` (through YOKE's NODE_OPTIONS), loaded by wrk with keep-alive and
// then with a new connection per request; the profiles are summarised as self time by kind, file and function.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as configs from '../configs.ts';
import { summarise } from '../cpuprofile.ts';
import { freePort, startNginx, startYoke, waitTcp, type Ctx } from '../ctx.ts';
import { stop } from '../proc.ts';
import type { Section } from '../report.ts';
import { wrk } from './http.ts';
import { NO_ACCESS_LOG } from './web.ts';

async function profileOne(ctx: Ctx, kind: 'keepalive' | 'short', backendPort: number, mode: 'tcp' | 'http' = 'tcp', env: Readonly<Record<string, string>> = {}): Promise<string> {
  const label = mode === 'tcp' ? kind : `${mode}-${kind}`;
  const dir = join(ctx.dir, `profile-${label}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const yk = startYoke(ctx, `yoke-profile-${label}`, configs.yoke(ctx.dir, `yoke-profile-${label}`, mode, port, backendPort), `--cpu-prof --cpu-prof-dir=${dir}`, false, env);
  let requests = 0;
  try {
    await waitTcp(port, yk);
    const seconds = ctx.plan.warmNode + ctx.plan.seconds * 2;
    ctx.log(`profile: yoke ${mode} under ${kind} load for ${seconds} s`);
    requests = (await wrk(ctx, port, seconds, kind === 'short')).requests;
  } finally {
    await stop(yk, 30_000); // the profile is written when Node exits
  }
  // ./yoke's own set-up runs `node -p` too (which also writes a tiny profile): the largest file is yoke's.
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  if (file === undefined) return `(no profile was written in ${dir})`;
  return [`Profile: \`bench/out/${join(ctx.dir.split('/bench/out/')[1] ?? '', `profile-${label}`, file)}\` (${requests.toLocaleString('en-US')} requests, warm-up included).`, '', summarise(join(dir, file), ctx.root)].join('\n');
}

/** The nginx real server alone, for a profile run; stopped after `f`. */
async function withBackend<T>(ctx: Ctx, f: (port: number) => Promise<T>): Promise<T> {
  const bp = await freePort();
  const backend = startNginx(ctx, 'nginx-backend-profile', configs.nginxBackend(ctx.dir, bp, '/dev/null'), ctx.loadCore);
  try {
    await waitTcp(bp, backend);
    return await f(bp);
  } finally {
    await stop(backend);
  }
}

/** httpprofile (issue 4): yoke \`mode: http\` under wrk keep-alive load, access log off as in \`http\`'s "yoke" row. */
export async function httpProfileScenario(ctx: Ctx): Promise<Section> {
  const keep = await withBackend(ctx, (bp) => profileOne(ctx, 'keepalive', bp, 'http', NO_ACCESS_LOG));
  return { id: 'httpprofile', markdown: ['### CPU profile of yoke `mode: http` (`node --cpu-prof`), keep-alive load, access log off', '', keep].join('\n'), raw: {} };
}

export async function profileScenario(ctx: Ctx): Promise<Section> {
  const [keep, short] = await withBackend(ctx, async (bp) => [await profileOne(ctx, 'keepalive', bp), await profileOne(ctx, 'short', bp)]);
  const markdown = [
    '### CPU profile of yoke (`node --cpu-prof`)',
    '', '#### Keep-alive load', '', keep,
    '', '#### New connection per request', '', short,
  ].join('\n');
  return { id: 'profile', markdown, raw: {} };
}
