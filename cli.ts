import { readFileSync } from 'node:fs';
import { YokeError } from './core/errors.ts';
import { ctl } from './services/ctl.ts';
import { Daemon } from './services/daemon.ts';
import { demo } from './services/demo.ts';
import { formatProblem, importKeepalivedFile, loadConfigFile } from './services/config/load.ts';
import { createLogger } from './services/log.ts';

const HELP = `yoke — a load balancer for web, media, cache and mail farms

  yoke run -c FILE        run the director in the foreground (SIGHUP reloads, SIGTERM stops gracefully)
  yoke check -c FILE      validate a config; errors as file:line:col: message, exit 1
  yoke import FILE        print a keepalived.conf as yoke YAML (problems on stderr; see docs/keepalived.md)
  yoke ctl ...            ipvsadm-like control over the admin API (yoke ctl -L -n; see docs/ctl.md)
  yoke demo [--once]      a director plus three demo real servers on loopback, with a short tour
  yoke help               this text
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': return run(configArg(rest));
    case 'check': return check(configArg(rest));
    case 'ctl': await ctl(rest); return 0;
    case 'demo': return runDemo(rest.includes('--once'));
    case 'import': return importConf(rest);
    case undefined: case 'help': case '--help': case '-h': process.stdout.write(HELP); return 0;
    case 'version': case '--version': process.stdout.write(version() + '\n'); return 0;
    default: throw new YokeError('E_USAGE', `unknown command "${cmd}"`);
  }
}

/** package.json sits beside cli.ts, or one level up when running the stripped build in .build/. */
function version(): string {
  for (const rel of ['./package.json', '../package.json']) {
    try { return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')).version; } catch { /* try the next */ }
  }
  return 'unknown';
}

function configArg(args: string[]): string {
  const i = args.findIndex((a) => a === '-c' || a === '--config');
  const path = i >= 0 ? args[i + 1] : undefined;
  if (path === undefined) throw new YokeError('E_USAGE', 'give the config file with -c FILE');
  return path;
}

function check(path: string): number {
  const { config, problems } = loadConfigFile(path);
  for (const p of problems) process.stdout.write(formatProblem(p) + '\n');
  if (!config) return 1;
  process.stdout.write(`${path}: ok (${config.services.length} service${config.services.length === 1 ? '' : 's'})\n`);
  return 0;
}

/** `yoke import keepalived.conf`: the YAML on stdout, problems on stderr, exit 1 when any is an error. */
function importConf(args: string[]): number {
  const [path, ...extra] = args;
  if (path === undefined || extra.length > 0) throw new YokeError('E_USAGE', 'give one keepalived.conf to import: yoke import FILE');
  const { yaml, result } = importKeepalivedFile(path);
  for (const p of result.problems) process.stderr.write(formatProblem(p) + '\n');
  if (yaml === undefined) return 1;
  process.stdout.write(yaml);
  return 0;
}

async function run(path: string): Promise<number> {
  const log = createLogger();
  const daemon = await Daemon.start(path, log);
  return untilStopped(daemon);
}

async function runDemo(once: boolean): Promise<number> {
  const log = createLogger(process.env.YOKE_LOG_LEVEL ?? 'warn');
  const daemon = await demo(log, once);
  if (once) { await daemon.stop(1000); return 0; }
  return untilStopped(daemon);
}

/** SIGHUP reloads; SIGTERM/SIGINT stop accepting, wait for connections up to shutdown_grace, exit 0. */
function untilStopped(daemon: Daemon): Promise<number> {
  process.on('SIGHUP', () => void daemon.reload());
  return new Promise((resolve) => {
    const stop = () => { void daemon.stop().then(() => resolve(0)); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

// `yoke ctl -L -n | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; if (['run', 'demo'].includes(process.argv[2] ?? '')) setImmediate(() => process.exit(code)); },
  (err: unknown) => {
    if (err instanceof YokeError) process.stderr.write(`yoke: ${err.code}: ${err.message}\n`);
    else process.stderr.write(`yoke: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = err instanceof YokeError && err.code === 'E_USAGE' ? 2 : 1;
  },
);
