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

async function profileOne(ctx: Ctx, kind: 'keepalive' | 'short', backendPort: number): Promise<string> {
  const dir = join(ctx.dir, `profile-${kind}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const yk = startYoke(ctx, `yoke-profile-${kind}`, configs.yoke(ctx.dir, `yoke-profile-${kind}`, 'tcp', port, backendPort), `--cpu-prof --cpu-prof-dir=${dir}`);
  let requests = 0;
  try {
    await waitTcp(port, yk);
    const seconds = ctx.plan.warmNode + ctx.plan.seconds * 2;
    ctx.log(`profile: yoke under ${kind} load for ${seconds} s`);
    requests = (await wrk(ctx, port, seconds, kind === 'short')).requests;
  } finally {
    await stop(yk, 30_000); // the profile is written when Node exits
  }
  // ./yoke's own set-up runs `node -p` too (which also writes a tiny profile): the largest file is yoke's.
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  if (file === undefined) return `(no profile was written in ${dir})`;
  return [`Profile: \`bench/out/${join(ctx.dir.split('/bench/out/')[1] ?? '', `profile-${kind}`, file)}\` (${requests.toLocaleString('en-US')} requests, warm-up included).`, '', summarise(join(dir, file), ctx.root)].join('\n');
}

export async function profileScenario(ctx: Ctx): Promise<Section> {
  const bp = await freePort();
  const backend = startNginx(ctx, 'nginx-backend-profile', configs.nginxBackend(ctx.dir, bp, '/dev/null'), ctx.loadCore);
  let keep = '';
  let short = '';
  try {
    await waitTcp(bp, backend);
    keep = await profileOne(ctx, 'keepalive', bp);
    short = await profileOne(ctx, 'short', bp);
  } finally {
    await stop(backend);
  }
  const markdown = [
    '### CPU profile of yoke (`node --cpu-prof`)',
    '', '#### Keep-alive load', '', keep,
    '', '#### New connection per request', '', short,
  ].join('\n');
  return { id: 'profile', markdown, raw: {} };
}
