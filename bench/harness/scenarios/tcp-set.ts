// The TCP candidates of the keep-alive, short-connection and transfer scenarios, all in front of one nginx
// real server: direct, HAProxy, yoke (`./yoke run`), the bare Node pipe proxy. Started once, shared, stopped after.
import { closeSync, existsSync, ftruncateSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as configs from '../configs.ts';
import { freePort, startHaproxy, startNginx, startNode, startYoke, waitTcp, type Ctx } from '../ctx.ts';
import { stop, type Proc } from '../proc.ts';
import type { Candidate } from './common.ts';

export const BIG_BYTES = 1024 ** 3;

export interface TcpSet {
  readonly backend: Proc;
  readonly candidates: readonly Candidate[];
  stop(): Promise<void>;
}

/** A 1 GiB sparse file for nginx to send (holes read as zeros; it costs no disk, 1 GiB of page cache once read). */
function bigFile(ctx: Ctx): string {
  const path = join(ctx.root, 'bench', 'out', 'big-1GiB.bin');
  if (!existsSync(path) || statSync(path).size !== BIG_BYTES) {
    const fd = openSync(path, 'w');
    ftruncateSync(fd, BIG_BYTES);
    closeSync(fd);
  }
  return path;
}

export async function startTcpSet(ctx: Ctx): Promise<TcpSet> {
  const [bp, hp, yp, pp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const backend = startNginx(ctx, 'nginx-backend', configs.nginxBackend(ctx.dir, bp, bigFile(ctx)), ctx.loadCore);
  await waitTcp(bp, backend);
  const ha = startHaproxy(ctx, 'haproxy-tcp', configs.haproxy(ctx.dir, 'haproxy-tcp', hp, bp));
  const yk = startYoke(ctx, 'yoke-tcp', configs.yoke(ctx.dir, 'yoke-tcp', 'tcp', yp, bp));
  const bare = startNode(ctx, 'bare-pipe', 'bare-pipe-proxy.ts', [pp, bp], ctx.proxyCore);
  await Promise.all([waitTcp(hp, ha), waitTcp(yp, yk), waitTcp(pp, bare)]);
  const { warmNode, warmC, warmDirect } = ctx.plan;
  const candidates: Candidate[] = [
    { name: 'direct', port: bp, proc: undefined, warm: warmDirect },
    { name: 'haproxy', port: hp, proc: ha, warm: warmC },
    { name: 'yoke', port: yp, proc: yk, warm: warmNode },
    { name: 'bare-pipe', port: pp, proc: bare, warm: warmNode },
  ];
  return {
    backend, candidates,
    stop: async () => { await Promise.all([ha, yk, bare, backend].map((p) => stop(p))); },
  };
}
