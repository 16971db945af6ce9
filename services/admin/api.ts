import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { parseEndpoint, type Endpoint } from '../../core/address.ts';
import type { Director } from '../../core/director.ts';
import { ERROR_CODES, YokeError, type ErrorCode } from '../../core/errors.ts';
import type { ServerSettings } from '../../core/server.ts';
import type { ServiceSpec, TimeoutSpec } from '../../core/spec.ts';
import { connectionViews, serviceView, templateViews } from './views.ts';

/** What the admin API needs besides the director: validation in the config's own terms, and reload. */
export interface AdminHooks {
  /** Validates a service given in config form (YAML keys) and returns its spec; throws YokeError otherwise. */
  parseService(body: unknown): ServiceSpec;
  /** Reloads the config file: resolves with the problems found; a rejected reload leaves the model as it was. */
  reload(): Promise<{ ok: boolean; problems: string[] }>;
  /** The Prometheus text for /metrics. */
  metrics(): Promise<string>;
  /** The mail farm: which users have sessions open on which server, and each directory's counters. */
  mail?(): unknown;
}

type Handler = (req: Request) => Promise<unknown> | unknown;
interface Request { params: string[]; query: URLSearchParams; body: unknown }
interface Route { method: string; pattern: RegExp; handler: Handler }

const MAX_BODY = 1 << 20;

/**
 * The admin API: HTTP+JSON under /api/v1 with a bearer token, and /metrics. Every error is JSON
 * `{error: {code, message}}` with the code from the error table; a missing or wrong token is 401.
 */
export class AdminServer {
  readonly #director: Director;
  #token: Buffer;
  readonly #hooks: AdminHooks;
  readonly #routes: Route[];
  readonly #server: http.Server;

  constructor(director: Director, token: string, hooks: AdminHooks) {
    this.#director = director;
    this.#token = Buffer.from(token);
    this.#hooks = hooks;
    this.#routes = this.#table();
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
  }

  /** A reload changed admin.token: the next request must bear the new one. */
  setToken(token: string): void {
    this.#token = Buffer.from(token);
  }

  listen(at: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', (err: NodeJS.ErrnoException) => reject(new YokeError('E_LISTEN', `admin API: cannot listen on ${at.host}:${at.port}: ${err.code ?? err.message}`, { cause: err })));
      this.#server.listen(at.port, at.host, () => resolve());
    });
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #table(): Route[] {
    const d = this.#director;
    const svc = '([^/]+)';
    const route = (method: string, path: string, handler: Handler): Route => ({ method, pattern: new RegExp(`^${path}$`), handler });
    return [
      route('GET', '/api/v1/services', () => [...d.services()].map(serviceView)),
      route('POST', '/api/v1/services', async (r) => serviceView(await d.addService(this.#hooks.parseService(r.body)))),
      route('GET', `/api/v1/services/${svc}`, (r) => serviceView(d.service(p(r, 0)))),
      route('PUT', `/api/v1/services/${svc}`, async (r) => {
        const current = d.service(p(r, 0));
        if (current.pools.size > 0 && !Object.hasOwn(object(r.body), 'pools')) {
          throw new YokeError('E_ADMIN_REQUEST', `service "${current.name}" has pools: send its routes and pools too, or change it by reload`);
        }
        const parsed = this.#hooks.parseService(r.body);
        if (parsed.name !== current.name) throw new YokeError('E_ADMIN_REQUEST', `the body names service "${parsed.name}" but the path names "${current.name}"`);
        // A body that says nothing of health (as `yoke ctl -E` sends) keeps the running checks, quorum and hooks.
        const saysHealth = HEALTH_KEYS.some((k) => Object.hasOwn(object(r.body), k)) || serversSayHealth(r.body);
        const spec = saysHealth ? parsed : { ...parsed, health: current.spec.health };
        await d.editService(spec);
        return serviceView(d.service(spec.name));
      }),
      route('DELETE', `/api/v1/services/${svc}`, async (r) => { await d.removeService(d.service(p(r, 0)).name, flag(r, 'reset')); return { removed: p(r, 0) }; }),
      route('POST', `/api/v1/services/${svc}/servers`, (r) => {
        const s = serverBody(r.body, undefined);
        d.addServer(d.service(p(r, 0)).name, s);
        return serviceView(d.service(p(r, 0)));
      }),
      route('PATCH', `/api/v1/services/${svc}/servers/${svc}`, (r) => {
        const v = d.service(p(r, 0));
        const current = v.server(p(r, 1));
        const s = serverBody({ address: current.id, name: current.name, weight: current.weight, max_conns: current.maxConns, min_conns: current.minConns, ...object(r.body) }, current.id);
        d.editServer(v.name, current.id, s);
        return serviceView(v);
      }),
      route('DELETE', `/api/v1/services/${svc}/servers/${svc}`, (r) => { d.removeServer(d.service(p(r, 0)).name, p(r, 1), flag(r, 'reset')); return serviceView(d.service(p(r, 0))); }),
      route('POST', `/api/v1/services/${svc}/servers/${svc}/drain`, (r) => { d.drain(d.service(p(r, 0)).name, p(r, 1)); return serviceView(d.service(p(r, 0))); }),
      route('POST', `/api/v1/services/${svc}/servers/${svc}/(up|down)`, (r) => {
        d.markServer(d.service(p(r, 0)).name, p(r, 1), p(r, 2) === 'up', flag(r, 'reset'));
        return serviceView(d.service(p(r, 0)));
      }),
      route('GET', '/api/v1/connections', (r) => connectionViews(d, Date.now()).filter((c) => !r.query.get('service') || c.service === r.query.get('service'))),
      route('GET', '/api/v1/persistence', () => templateViews(d, Date.now())),
      route('GET', '/api/v1/mail', () => this.#hooks.mail?.() ?? { affinity: [], directories: {} }),
      route('GET', '/api/v1/timeouts', () => timeoutsView(d.timeouts)),
      route('PUT', '/api/v1/timeouts', (r) => { d.setTimeouts(timeoutsBody(r.body, d.timeouts)); return timeoutsView(d.timeouts); }),
      route('POST', '/api/v1/reload', async () => {
        const result = await this.#hooks.reload();
        if (!result.ok) throw new AdminError(422, 'E_CONFIG_INVALID', result.problems.join('\n'));
        return { reloaded: true, warnings: result.problems };
      }),
    ];
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://admin');
      if (!this.#authorized(req.headers.authorization)) {
        res.setHeader('www-authenticate', 'Bearer realm="yoke"');
        throw new AdminError(401, 'E_ADMIN_AUTH', 'missing or wrong bearer token');
      }
      if (url.pathname === '/metrics' && req.method === 'GET') {
        const text = await this.#hooks.metrics();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
        return;
      }
      const { route, params } = this.#match(req.method ?? 'GET', url.pathname);
      const body = req.method === 'GET' || req.method === 'DELETE' ? undefined : await readJson(req);
      const result = await route.handler({ params, query: url.searchParams, body });
      send(res, req.method === 'POST' && route.pattern.source === '^/api/v1/services$' ? 201 : 200, result);
    } catch (err) {
      const e = toAdminError(err);
      send(res, e.status, { error: { code: e.code, detail: e.detail, message: e.message } });
    }
  }

  #match(method: string, path: string): { route: Route; params: string[] } {
    let pathMatched = false;
    for (const route of this.#routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method === method) return { route, params: m.slice(1).map((x) => decodeURIComponent(x ?? '')) };
    }
    throw pathMatched ? new AdminError(405, 'E_ADMIN_REQUEST', `${method} is not allowed on ${path}`) : new AdminError(404, 'E_ADMIN_REQUEST', `no such endpoint ${path}`);
  }

  #authorized(header: string | undefined): boolean {
    if (header === undefined || !header.startsWith('Bearer ')) return false;
    const given = Buffer.from(header.slice(7).trim());
    return given.length === this.#token.length && timingSafeEqual(given, this.#token);
  }
}

class AdminError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  constructor(status: number, code: ErrorCode, detail: string) {
    super(`${detail} (${ERROR_CODES[code]})`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  E_NO_SUCH_SERVICE: 404, E_NO_SUCH_SERVER: 404, E_SERVICE_EXISTS: 409, E_SERVER_EXISTS: 409, E_LISTEN: 409,
};

function toAdminError(err: unknown): AdminError {
  if (err instanceof AdminError) return err;
  if (err instanceof YokeError) return new AdminError(STATUS_BY_CODE[err.code] ?? 400, err.code, err.detail);
  return new AdminError(500, 'E_ADMIN_REQUEST', `internal error: ${err instanceof Error ? err.message : String(err)}`);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2) + '\n');
}

function p(r: Request, i: number): string {
  return r.params[i] as string;
}

const HEALTH_KEYS = ['health', 'quorum', 'notify'];

function serversSayHealth(body: unknown): boolean {
  const servers = object(body)['servers'];
  return Array.isArray(servers) && servers.some((s) => HEALTH_KEYS.some((k) => Object.hasOwn(object(s), k)));
}

function flag(r: Request, name: string): boolean {
  const v = r.query.get(name);
  return v === '' || v === '1' || v === 'true';
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new AdminError(413, 'E_ADMIN_REQUEST', 'request body over 1 MiB');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AdminError(400, 'E_ADMIN_REQUEST', 'the body is not valid JSON');
  }
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AdminError(400, 'E_ADMIN_REQUEST', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

const SERVER_KEYS = new Set(['address', 'name', 'weight', 'max_conns', 'min_conns']);

/** A server in config form: {address, name?, weight?, max_conns?, min_conns?}. */
function serverBody(body: unknown, fixedAddress: string | undefined): ServerSettings {
  const o = object(body);
  for (const k of Object.keys(o)) if (!SERVER_KEYS.has(k)) throw new AdminError(400, 'E_ADMIN_REQUEST', `unknown key "${k}" (a server takes ${[...SERVER_KEYS].join(', ')})`);
  if (fixedAddress !== undefined && o.address !== fixedAddress) throw new AdminError(400, 'E_ADMIN_REQUEST', 'a server\'s address cannot be edited: add the new one and remove the old');
  if (typeof o.address !== 'string') throw new AdminError(400, 'E_ADMIN_REQUEST', 'address is required, as "ip:port"');
  const whole = (k: string, dflt: number, max: number, code: ErrorCode): number => {
    const v = o[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new YokeError(code, `${k} ${JSON.stringify(v)}`);
    return v;
  };
  const weight = whole('weight', 1, 65535, 'E_BAD_WEIGHT');
  const maxConns = whole('max_conns', 0, 2 ** 31, 'E_BAD_THRESHOLD');
  const minConns = whole('min_conns', 0, 2 ** 31, 'E_BAD_THRESHOLD');
  if (minConns !== 0 && maxConns !== 0 && minConns >= maxConns) throw new YokeError('E_BAD_THRESHOLD', `min_conns ${minConns} is not below max_conns ${maxConns}`);
  if (o.name !== undefined && o.name !== null && typeof o.name !== 'string') throw new AdminError(400, 'E_ADMIN_REQUEST', 'name must be a string');
  return { address: parseEndpoint(o.address), name: (o.name as string | null) ?? undefined, weight, maxConns, minConns };
}

function timeoutsView(t: TimeoutSpec): { tcp_ms: number; tcpfin_ms: number; udp_ms: number } {
  return { tcp_ms: t.tcpMs, tcpfin_ms: t.tcpFinMs, udp_ms: t.udpMs };
}

/** {tcp_ms?, tcpfin_ms?, udp_ms?}: a 0 keeps the current value, as `ipvsadm --set` does. */
function timeoutsBody(body: unknown, current: TimeoutSpec): TimeoutSpec {
  const o = object(body);
  const pick = (k: string, cur: number): number => {
    const v = o[k];
    if (v === undefined || v === 0) return cur;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new AdminError(400, 'E_ADMIN_REQUEST', `${k} must be a whole number of milliseconds`);
    return v;
  };
  for (const k of Object.keys(o)) if (!['tcp_ms', 'tcpfin_ms', 'udp_ms'].includes(k)) throw new AdminError(400, 'E_ADMIN_REQUEST', `unknown key "${k}"`);
  return { tcpMs: pick('tcp_ms', current.tcpMs), tcpFinMs: pick('tcpfin_ms', current.tcpFinMs), udpMs: pick('udp_ms', current.udpMs) };
}
