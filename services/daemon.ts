import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { refusedChannel } from '../core/connection.ts';
import { Director } from '../core/director.ts';
import { YokeError } from '../core/errors.ts';
import { HealthSupervisor } from '../core/health/supervisor.ts';
import { HttpPlane, accessChannel } from './web/http-proxy.ts';
import { TlsPassthrough } from './web/tls-passthrough.ts';
import { Directory, type DirectorySpec } from './mail/directory.ts';
import { MailPlane, mailRouteChannel } from './mail/plane.ts';
import { MailRouter } from './mail/router.ts';
import { isMailMode } from './mail/settings.ts';
import type { ServiceSpec } from '../core/spec.ts';
import { encodeProxyV1, encodeProxyV2 } from '../l7/proxy-protocol/encode.ts';
import { AdminServer } from './admin/api.ts';
import { createMetrics } from './admin/metrics.ts';
import { formatProblem, loadConfigFile, parseConfig } from './config/load.ts';
import type { YokeConfig } from './config/types.ts';
import type { Logger } from './log.ts';

/**
 * The running director behind `yoke run`: loads the config, runs its services, serves the admin API,
 * reloads on request (a bad file is rejected and the running model kept) and shuts down gracefully.
 */
export class Daemon {
  readonly director: Director;
  readonly log: Logger;
  readonly configPath: string;
  config: YokeConfig;
  admin: AdminServer | undefined;
  readonly health: HealthSupervisor;
  /** The mail farm's router, shared by every mail service (its affinity table spans IMAP, POP3 and SMTP). */
  readonly mailRouter = new MailRouter();
  /** The running user directories by name; one kept across reloads while its settings stay the same. */
  readonly directories = new Map<string, Directory>();
  #reloading: Promise<unknown> = Promise.resolve();
  readonly #stopHooks: (() => void)[] = [];

  private constructor(configPath: string, config: YokeConfig, log: Logger) {
    this.configPath = configPath;
    this.config = config;
    this.log = log;
    this.director = new Director({
      proxyHeader: (version, client, vip) => (version === 'v1' ? encodeProxyV1(client, vip) : encodeProxyV2(client, vip, 'stream')),
      planeFor: (service, ctx) => (service.mode === 'http' ? new HttpPlane(service, ctx, { router: this.mailRouter, directory: (name) => this.directories.get(name) })
        : isMailMode(service.mode) ? new MailPlane(service, ctx, { router: this.mailRouter, directory: (name) => this.directories.get(name) })
          : undefined),
      openerFor: (service) => (service.mode === 'tls'
        ? new TlsPassthrough(service, (client, code, reason) => notTls(service.name, client.remoteAddress, code, reason))
        : undefined),
    });
    this.health = new HealthSupervisor(this.director, {
      log: {
        change: (e) => {
          const fields = { service: e.service, server: e.server, event: e.event, reason: e.reason };
          if (e.event === 'up' || e.event === 'quorum_up') log.info(fields, `${e.server ?? e.service} ${e.event === 'up' ? 'is up' : 'has its quorum'}: ${e.reason}`);
          else log.warn(fields, `${e.server ?? e.service} ${e.event === 'down' ? 'is down' : 'lost its quorum'}: ${e.reason}`);
        },
        hookFailed: (e, hook, problem) => log.warn({ service: e.service, server: e.server, event: e.event, hook }, `notify hook failed: ${problem}`),
      },
    });
    this.director.onChange = () => this.health.sync();
  }

  /**
   * Refusals are logged at most once per 10 s per service and reason, with how many there were:
   * a flood must not turn into a flood of log lines.
   */
  #watchRefusals(): () => void {
    const last = new Map<string, { at: number; suppressed: number }>();
    const onRefused = (msg: unknown) => {
      const { service, reason, client } = msg as { service: string; reason: string; client: string | undefined };
      const key = `${service}/${reason}`;
      const now = Date.now();
      const seen = last.get(key);
      if (seen && now - seen.at < 10_000) { seen.suppressed++; return; }
      last.set(key, { at: now, suppressed: 0 });
      const why = reason === 'limit' ? 'the service is at its max_conns limit'
        : reason === 'no-server' ? 'no real server is available (all down, drained or over their thresholds, and no sorry server)'
          : `not a TLS ClientHello yoke can route: ${(msg as { detail?: string }).detail ?? reason}`;
      this.log.warn({ service, reason, client, suppressedSinceLast: seen?.suppressed ?? 0 }, `connection refused: ${why}`);
    };
    subscribe(refusedChannel.name, onRefused);
    return () => unsubscribe(refusedChannel.name, onRefused);
  }

  /**
   * HTTP access log: one line per request at level info (`YOKE_LOG_LEVEL=warn` turns it off), with the pool, the
   * server, the status and timings. Only subscribed when info is logged, so the data plane builds no records otherwise.
   */
  #accessLog(): () => void {
    if (!this.log.isLevelEnabled('info')) return () => {};
    const onRequest = (msg: unknown) => this.log.info(msg as object, 'http');
    subscribe(accessChannel.name, onRequest);
    return () => unsubscribe(accessChannel.name, onRequest);
  }

  /** Mail routing log: one line per routed login or recipient at level info (user and server, never a password). */
  #mailLog(): () => void {
    if (!this.log.isLevelEnabled('info')) return () => {};
    const onRoute = (msg: unknown) => this.log.info(msg as object, 'mail route');
    subscribe(mailRouteChannel.name, onRoute);
    return () => unsubscribe(mailRouteChannel.name, onRoute);
  }

  /** Loads and starts; throws YokeError E_CONFIG_INVALID (with every problem) or E_LISTEN. */
  static async start(configPath: string, log: Logger): Promise<Daemon> {
    const config = loadOrThrow(configPath, log);
    const d = new Daemon(configPath, config, log);
    d.onStop(d.#watchRefusals());
    d.onStop(d.#accessLog());
    d.onStop(d.#mailLog());
    try {
      d.#useDirectories(d.#directoriesFor(config.directories));
      await d.director.apply(config.services, config.timeouts);
      if (config.admin) {
        d.admin = new AdminServer(d.director, config.admin.token, {
          parseService: (body) => parseServiceBody(body),
          reload: () => d.reload(),
          metrics: () => createMetrics(d.director).metrics(),
          mail: () => ({
            affinity: d.mailRouter.snapshot(),
            directories: Object.fromEntries([...d.directories].map(([name, dir]) => [name, { ...dir.counters(), ...dir.size() }])),
          }),
        });
        await d.admin.listen(config.admin.listen);
      }
    } catch (err) {
      await d.health.stop();
      await d.director.shutdown(0);
      await d.admin?.close();
      d.#useDirectories(new Map());
      throw err;
    }
    for (const s of config.services) log.info({ service: s.name, listen: `${s.mode} ${s.listen.host}:${s.listen.port}`, scheduler: s.scheduler, servers: s.servers.length }, 'service up');
    if (config.admin) log.info({ admin: `http://${config.admin.listen.host}:${d.admin?.port}/api/v1` }, 'admin API up');
    return d;
  }

  /** Re-reads the config file and applies it; one reload at a time. */
  reload(): Promise<{ ok: boolean; problems: string[] }> {
    const next = this.#reloading.then(() => this.#reload());
    this.#reloading = next.catch(() => undefined);
    return next;
  }

  async #reload(): Promise<{ ok: boolean; problems: string[] }> {
    const { config, problems } = loadConfigFile(this.configPath);
    const lines = problems.map(formatProblem);
    if (!config) {
      this.log.error({ problems: lines }, 'reload rejected: the config has errors; the running config stays');
      return { ok: false, problems: lines };
    }
    let directories: Map<string, Directory>;
    try {
      directories = this.#directoriesFor(config.directories);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.log.error({ err: msg }, 'reload rejected; the running config stays');
      return { ok: false, problems: [msg] };
    }
    const previous = new Map(this.directories);
    this.#useDirectories(directories, false);
    try {
      await this.director.apply(config.services, config.timeouts);
      closeUnused(previous, directories);
    } catch (err) {
      closeUnused(directories, previous);
      this.#useDirectories(previous, false);
      const msg = err instanceof Error ? err.message : String(err);
      this.log.error({ err: msg }, 'reload rejected; the running config stays');
      return { ok: false, problems: [msg] };
    }
    if (config.admin && this.config.admin && (config.admin.listen.host !== this.config.admin.listen.host || config.admin.listen.port !== this.config.admin.listen.port)) {
      lines.push('admin.listen changed: it applies at the next restart');
    }
    if (config.admin) this.admin?.setToken(config.admin.token);
    this.config = config;
    this.log.info({ services: config.services.length, warnings: lines }, 'reloaded');
    return { ok: true, problems: lines };
  }

  /** The directories `specs` asks for: running ones whose settings are unchanged are reused, others made (not yet connected). */
  #directoriesFor(specs: ReadonlyMap<string, DirectorySpec>): Map<string, Directory> {
    const next = new Map<string, Directory>();
    for (const [name, spec] of specs) {
      const running = this.directories.get(name);
      next.set(name, running !== undefined && JSON.stringify(running.spec) === JSON.stringify(spec) ? running : new Directory(spec));
    }
    return next;
  }

  /**
   * Switches to `next`; with `close`, a running directory not in it is closed (sessions already routed are
   * unaffected). A reload switches without closing until the services are applied, so a failed one can switch back.
   */
  #useDirectories(next: Map<string, Directory>, close = true): void {
    if (close) closeUnused(this.directories, next);
    this.directories.clear();
    for (const [name, d] of next) this.directories.set(name, d);
  }

  /** Runs `fn` once the director has stopped (the demo closes its in-process servers). */
  onStop(fn: () => void): void { this.#stopHooks.push(fn); }

  /** Stops accepting, lets connections finish up to the grace time, then resets what is left. */
  async stop(graceMs = this.config.shutdownGraceMs): Promise<void> {
    this.log.info({ graceMs }, 'shutting down: no new connections; waiting for open ones');
    await this.admin?.close();
    // Listeners close at once; the omega hooks (notify.at_shutdown) run while open connections drain.
    await Promise.all([this.health.stop(), this.director.shutdown(graceMs)]);
    this.#useDirectories(new Map());
    for (const hook of this.#stopHooks) hook();
    this.log.info('stopped');
  }
}

/** Closes the directories of `from` that `to` does not hold. */
function closeUnused(from: ReadonlyMap<string, Directory>, to: ReadonlyMap<string, Directory>): void {
  for (const [name, d] of from) if (to.get(name) !== d) void d.close();
}

/** A mode tls client closed before routing: told to the refusal log (rate-limited there), never per byte. */
function notTls(service: string, client: string | undefined, code: string, detail: string): void {
  if (refusedChannel.hasSubscribers) refusedChannel.publish({ service, reason: code, client, detail });
}

function loadOrThrow(path: string, log: Logger): YokeConfig {
  const { config, problems } = loadConfigFile(path);
  for (const p of problems) if (p.severity === 'warning') log.warn({ code: p.code }, formatProblem(p));
  if (!config) throw new YokeError('E_CONFIG_INVALID', problems.filter((p) => p.severity === 'error').map(formatProblem).join('\n'));
  return config;
}

/** The admin API takes a service in config form; it is validated by the same schema as the file. */
function parseServiceBody(body: unknown): ServiceSpec {
  const { config, problems } = parseConfig(JSON.stringify({ services: [body] }), '<admin request>');
  const errors = problems.filter((p) => p.severity === 'error');
  const spec = config?.services[0];
  if (!spec || errors.length > 0) throw new YokeError('E_CONFIG_INVALID', errors.map((p) => p.message).join('; ') || 'no service in the body');
  return spec;
}
