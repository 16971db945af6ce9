// What every scenario shares: durations, the core layout, ports, and how each program is started.
import { join } from 'node:path';
import { spawnPinned, tcpPortFree, waitTcp, waitUdp, type Proc } from './proc.ts';

/** Durations and sizes of one run: the full run's, or --quick's smoke values. */
export interface Plan {
  readonly quick: boolean;
  /** Warm-up seconds under the scenario's own load: Node candidates, C servers, direct. */
  readonly warmNode: number;
  readonly warmC: number;
  readonly warmDirect: number;
  /** Rounds of A B A B …, and the measuring window of each candidate in a round. */
  readonly rounds: number;
  readonly seconds: number;
  /** Idle connections held open in the memory scenario. */
  readonly idleConns: number;
  /** wrk connections (one wrk thread). */
  readonly wrkConns: number;
}

export const FULL: Plan = { quick: false, warmNode: 30, warmC: 5, warmDirect: 3, rounds: 3, seconds: 10, idleConns: 9000, wrkConns: 50 };
export const QUICK: Plan = { quick: true, warmNode: 1, warmC: 1, warmDirect: 1, rounds: 1, seconds: 2, idleConns: 500, wrkConns: 50 };

export interface Ctx {
  readonly root: string;
  /** This run's folder under bench/out/ (configs, logs, raw results). */
  readonly dir: string;
  readonly plan: Plan;
  /** taskset CPU lists: the proxy alone on one core; real server and load generator on the other. */
  readonly proxyCore: string;
  readonly loadCore: string;
  readonly clkTck: number;
  port(): Promise<number>;
  log(msg: string): void;
}

let nextPort = Number(process.env.BENCH_PORT_BASE ?? 28100);

/** The next free loopback TCP port from BENCH_PORT_BASE (default 28100, below the ephemeral range). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = nextPort++;
    if (await tcpPortFree(p)) return p;
  }
  throw new Error('no free port found from BENCH_PORT_BASE');
}

const NODE_FLAGS = ['--disable-warning=ExperimentalWarning'];

/** A Node program from bench/ (a peer or a bare candidate), pinned to `core`. */
export function startNode(ctx: Ctx, name: string, file: string, args: readonly (string | number)[], core: string): Proc {
  return spawnPinned(name, process.execPath, [...NODE_FLAGS, join(ctx.root, 'bench', file), ...args.map(String)], {
    core, logFile: join(ctx.dir, `${name}.log`),
  });
}

/**
 * `./yoke run -c CONFIG` on the proxy core; YOKE_NODE_OPTIONS (e.g. --cpu-prof) reaches its Node. Its log goes to
 * `<name>.log`, or with `capture` stays on its stdout pipe (`Proc.child.stdout`) for the scenario to read live.
 * `extraEnv` adds to its environment (e.g. YOKE_LOG_LEVEL).
 */
export function startYoke(ctx: Ctx, name: string, config: string, nodeOptions?: string, capture = false, extraEnv: Readonly<Record<string, string>> = {}): Proc {
  const env = { ...process.env, ...extraEnv };
  delete env.NODE_OPTIONS;
  const opts = nodeOptions ?? process.env.YOKE_NODE_OPTIONS;
  if (opts) env.NODE_OPTIONS = opts;
  return spawnPinned(name, join(ctx.root, 'yoke'), ['run', '-c', config], { core: ctx.proxyCore, env, ...(capture ? {} : { logFile: join(ctx.dir, `${name}.log`) }) });
}

export function startHaproxy(ctx: Ctx, name: string, config: string): Proc {
  return spawnPinned(name, 'haproxy', ['-db', '-f', config], { core: ctx.proxyCore, logFile: join(ctx.dir, `${name}.log`) });
}

/** nginx in the foreground (daemon off): a master and one worker, both pinned to `core`. */
export function startNginx(ctx: Ctx, name: string, config: string, core: string): Proc {
  return spawnPinned(name, 'nginx', ['-p', ctx.dir, '-c', config, '-e', join(ctx.dir, `${name}.error.log`)], { core, logFile: join(ctx.dir, `${name}.log`) });
}

export { waitTcp, waitUdp };
