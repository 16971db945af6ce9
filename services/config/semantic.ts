import { createSecureContext } from 'node:tls';
import { checkFilterTemplate } from '../../l7/ldap/filter.ts';
import { formatEndpoint, parseEndpoint } from '../../core/address.ts';
import { SCHEDULER_NAMES, type SchedulerName } from '../../core/schedulers/types.ts';
import { DEFAULTS } from './defaults.ts';
import type { Fault, Segment, SourceMap } from './positions.ts';
import { label } from './validate.ts';
import { HTTP_SIZES } from './schema.ts';
import { parseDuration, parseNetmask, parseSecretRef, parseSize } from './values.ts';
import { isMailMode } from '../mail/settings.ts';

/** The parsed config with the paths the schema faulted: checks read only values the schema accepted. */
export class CheckedTree {
  readonly #data: unknown;
  readonly #faulted: readonly string[];

  constructor(data: unknown, faults: readonly Fault[]) {
    this.#data = data;
    this.#faulted = faults.map((f) => `${f.path.join('\u0000')}\u0000`);
  }

  /** The value at a path as parsed, faults or not. */
  raw(path: readonly Segment[]): unknown {
    let node = this.#data;
    for (const seg of path) {
      if (typeof node !== 'object' || node === null || !Object.hasOwn(node, seg)) return undefined;
      node = (node as Record<Segment, unknown>)[seg];
    }
    return node;
  }

  /** The value at a path if the schema accepted it and all below it; `fallback` when absent; undefined when faulted. */
  valid(path: readonly Segment[], fallback?: unknown): unknown {
    const prefix = `${path.join('\u0000')}\u0000`;
    if (this.#faulted.some((f) => f.startsWith(prefix))) return undefined;
    return this.raw(path) ?? fallback;
  }
}

/** Reads a secret file (utf8) for `file:PATH`; throws when it cannot. */
export type ReadSecret = (path: string) => string;

/** What the cross-field checks found, plus the admin token they resolved. */
export interface SemanticOutcome {
  readonly faults: Fault[];
  /** Every secret the config names (`env:NAME`, `file:PATH`) that resolved, by the reference as written. */
  readonly secrets: ReadonlyMap<string, string>;
}

/** Which schedulers read each scheduler option (core/schedulers/types.ts). */
const OPTION_READERS: Record<string, readonly SchedulerName[]> = {
  fallback: ['sh', 'dh', 'mh'],
  hash_port: ['sh', 'mh'],
  table_size: ['mh'],
  expire: ['lblc', 'lblcr'],
};

/** Remembers the first place each key was seen and reports a later one as E_CONFIG_DUPLICATE, naming the first's line. */
class FirstSeen {
  readonly #seen = new Map<string, { line: number; what: string }>();
  readonly #map: SourceMap;
  readonly #faults: Fault[];

  constructor(map: SourceMap, faults: Fault[]) {
    this.#map = map;
    this.#faults = faults;
  }

  note(key: string, path: readonly Segment[], what: string, clash: (firstWhat: string, line: number) => string): void {
    const first = this.#seen.get(key);
    if (first) {
      this.#faults.push({ path, aim: 'value', code: 'E_CONFIG_DUPLICATE', message: `${label(path)}: ${clash(first.what, first.line)}` });
    } else {
      this.#seen.set(key, { line: this.#map.line(path, 'value'), what });
    }
  }
}

/** An endpoint written in its canonical form, so that `[::1]:80` and `[0::1]:80` collide. */
function canonical(text: string): string {
  const e = parseEndpoint(text);
  return e.family === 6 ? formatEndpoint({ host: new URL(`http://[${e.host}]/`).hostname.slice(1, -1), port: e.port }) : text;
}

/**
 * The checks the schema cannot express: uniqueness, thresholds, persistence groups, proxy_protocol on udp,
 * services without servers, options the scheduler ignores, checks that say one thing twice, and the admin token.
 */
export function semanticFaults(tree: CheckedTree, map: SourceMap, env: NodeJS.ProcessEnv, readSecret: ReadSecret): SemanticOutcome {
  const faults: Fault[] = [];
  const names = new FirstSeen(map, faults);
  const listens = new FirstSeen(map, faults);
  const secrets = new Map<string, string>();
  const secret = (path: Segment[]) => resolveSecret(tree, path, env, readSecret, faults, secrets);
  secret(['admin', 'token']);
  const directories = checkDirectories(tree, secret, faults);
  for (const i of Array.isArray(tree.raw(['services'])) ? (tree.raw(['services']) as unknown[]).keys() : []) {
    secret(['services', i, 'tls', 'cert']);
    secret(['services', i, 'tls', 'key']);
    secret(['services', i, 'backend_tls', 'ca']);
    const tls = tree.raw(['services', i, 'tls']);
    const mode = tree.valid(['services', i, 'mode'], DEFAULTS.service.mode);
    const cert = secrets.get(String(tree.valid(['services', i, 'tls', 'cert'])));
    const key = secrets.get(String(tree.valid(['services', i, 'tls', 'key'])));
    const terminates = mode === 'http' || isMailMode(String(mode));
    if (cert !== undefined && key !== undefined && terminates) {
      try {
        createSecureContext({ cert, key });
      } catch (err) {
        faults.push({ path: ['services', i, 'tls'], aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(['services', i, 'tls'])}: the certificate and key do not make a TLS identity: ${(err as Error).message}` });
      }
    }
    if (tls !== undefined && !terminates) {
      faults.push({ path: ['services', i, 'tls'], aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(['services', i, 'tls'])}: yoke terminates TLS for mode http, imap, pop3 and smtp only; mode tls passes it through to the servers` });
    }
    checkMailKeys(tree, ['services', i], String(mode), tls !== undefined, faults);
    checkHttpKeys(tree, ['services', i], mode, faults);
  }
  const adminListen = tree.valid(['admin', 'listen']);
  if (typeof adminListen === 'string') listens.note(`tcp ${canonical(adminListen)}`, ['admin', 'listen'], 'admin.listen', () => '');
  const groups = new Map<string, GroupMember>();
  const services = tree.raw(['services']);
  for (const [i, svc] of (Array.isArray(services) ? services : []).entries()) {
    const at = (...p: Segment[]): Segment[] => ['services', i, ...p];
    const name = tree.valid(at('name'));
    const title = typeof name === 'string' ? `service "${name}"` : label(at());
    if (typeof name === 'string') names.note(name, at('name'), title, (_, line) => `service name "${name}" is already used at line ${line}`);
    const mode = tree.valid(at('mode'), DEFAULTS.service.mode);
    const listen = tree.valid(at('listen'));
    if (typeof listen === 'string' && typeof mode === 'string') {
      // tls is read from a TCP socket: it clashes with tcp on one address.
      listens.note(`${mode === 'udp' ? 'udp' : 'tcp'} ${canonical(listen)}`, at('listen'), title,
        (first, line) => `${mode} ${listen} is already the listen address of ${first} at line ${line}`);
    }
    const proxy = tree.valid(at('proxy_protocol'));
    if (mode === 'udp' && typeof proxy === 'string' && proxy !== 'off') {
      faults.push({ path: at('proxy_protocol'), aim: 'value', code: 'E_CONFIG_INVALID', message: `${label(at('proxy_protocol'))}: proxy_protocol is for mode tcp only: remove it or write off` });
    }
    if (mode === 'http' && typeof proxy === 'string' && proxy !== 'off') {
      faults.push({ path: at('proxy_protocol'), aim: 'value', code: 'E_CONFIG_INVALID', severity: 'warning', message: `${label(at('proxy_protocol'))}: mode http tells servers the client in X-Forwarded-For and Forwarded; proxy_protocol has no effect here` });
    }
    const dir = tree.valid(at('directory'));
    if (typeof dir === 'string' && !directories.includes(dir)) {
      faults.push({ path: at('directory'), aim: 'value', code: 'E_CONFIG_INVALID', message: `${label(at('directory'))}: no directory "${dir}"${directories.length > 0 ? `: the directories are ${directories.join(', ')}` : ': add it under directories'}` });
    }
    const webmail = tree.raw(at('webmail_user'));
    if (typeof dir === 'string' && (mode === 'tcp' || mode === 'udp' || mode === 'tls' || (mode === 'http' && webmail === undefined))) {
      faults.push({ path: at('directory'), aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(at('directory'))}: a directory looks up mail users: it is for mode imap, pop3 or smtp, or mode http with webmail_user` });
    }
    if (typeof webmail === 'object' && webmail !== null) {
      if (mode !== 'http') faults.push({ path: at('webmail_user'), aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(at('webmail_user'))}: webmail routing is for mode http` });
      const keys = Object.keys(webmail).filter((k) => k === 'header' || k === 'cookie');
      if (keys.length !== 1) faults.push({ path: at('webmail_user'), aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(at('webmail_user'))}: name the user by exactly one of header or cookie` });
    }
    const pools = checkRoutes(tree, at, mode, faults);
    // Pools inherit the service's stickiness: check it there too.
    const shared = tree.raw(at('sticky'));
    if (pools.length > 0 && typeof shared === 'object' && shared !== null) checkSticky(tree, at('sticky'), mode, faults);
    const scopes: [(...p: Segment[]) => Segment[], string][] = pools.length === 0
      ? [[at, title]]
      : pools.map((p) => [(...rest: Segment[]) => at('pools', p, ...rest), `pool "${p}" of ${title}`]);
    for (const [scope, what] of scopes) {
      checkServers(tree, map, scope, what, faults);
      checkSchedulerOptions(tree, scope, faults);
      checkPersistenceGroup(tree, map, scope, what, groups, faults);
      const servers = tree.raw(scope('servers'));
      const checks = [scope('health'), ...(Array.isArray(servers) ? [...servers.keys()].map((j) => scope('servers', j, 'health')) : [])];
      for (const path of checks) checkHealth(tree, path, mode === 'udp', faults);
      secret(scope('sticky', 'secret'));
      const sticky = tree.raw(scope('sticky'));
      if (typeof sticky === 'object' && sticky !== null) checkSticky(tree, scope('sticky'), mode, faults);
    }
  }
  return { faults, secrets };
}

/**
 * Each LDAP directory: its filter must hold {user} in a value and parse (nothing a user types can change it),
 * StartTLS makes no sense over ldaps://, a bind DN needs its password and the other way round, and a negative
 * answer should not outlive a positive one. Returns the directory names.
 */
function checkDirectories(tree: CheckedTree, secret: (path: Segment[]) => void, faults: Fault[]): string[] {
  const all = tree.raw(['directories']);
  if (typeof all !== 'object' || all === null || Array.isArray(all)) return [];
  for (const name of Object.keys(all)) {
    const at = (...p: Segment[]): Segment[] => ['directories', name, 'ldap', ...p];
    const fault = (path: Segment[], message: string, code: Fault['code'] = 'E_CONFIG_INVALID', severity?: 'warning') =>
      faults.push({ path, aim: 'value', code, message: `${label(path)}: ${message}`, ...(severity ? { severity } : {}) });
    secret(at('password'));
    secret(at('tls', 'ca'));
    const filter = tree.valid(at('filter'), DEFAULTS.directory.filter);
    if (typeof filter === 'string') {
      const c = checkFilterTemplate(filter);
      if (!c.ok) fault(at('filter'), c.reason, 'E_DIRECTORY_FILTER');
    }
    const url = tree.valid(at('url'));
    if (tree.valid(at('start_tls')) === true && typeof url === 'string' && url.startsWith('ldaps:')) fault(at('start_tls'), 'StartTLS upgrades ldap://; an ldaps:// URL is TLS already: drop one');
    if ((tree.raw(at('bind_dn')) === undefined) !== (tree.raw(at('password')) === undefined)) {
      fault(at(tree.raw(at('bind_dn')) === undefined ? 'password' : 'bind_dn'), 'bind_dn and password go together (neither = an anonymous bind)');
    }
    const ms = (key: 'cache' | 'negative_cache') => { const v = tree.valid(at(key), DEFAULTS.directory[key]); return typeof v === 'string' ? parseDuration(v) : undefined; };
    const [pos, neg] = [ms('cache'), ms('negative_cache')];
    if (pos !== undefined && neg !== undefined && neg > pos) fault(at('negative_cache'), 'an unknown user is remembered longer than a known one: make negative_cache shorter than cache', 'E_CONFIG_INVALID', 'warning');
  }
  return Object.keys(all);
}

/** tls_mode and smtp belong to the mail modes; a TLS mode other than off needs the service's certificate. */
function checkMailKeys(tree: CheckedTree, at: Segment[], mode: string, hasTls: boolean, faults: Fault[]): void {
  const tlsMode = tree.valid([...at, 'tls_mode']);
  const where = [...at, 'tls_mode'];
  if (tlsMode !== undefined && !isMailMode(mode)) {
    faults.push({ path: where, aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(where)}: tls_mode is for mode imap, pop3 and smtp; mode http terminates TLS whenever tls is set` });
  } else if (typeof tlsMode === 'string' && tlsMode !== 'off' && !hasTls) {
    faults.push({ path: where, aim: 'value', code: 'E_CONFIG_INVALID', message: `${label(where)}: tls_mode ${tlsMode} needs a certificate: add tls: { cert, key } to the service, or write off` });
  }
  for (const key of ['login_timeout', 'backend_tls']) {
    const path = [...at, key];
    if (tree.raw(path) !== undefined && !isMailMode(mode)) {
      faults.push({ path, aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(path)}: ${key} is for mode imap, pop3 and smtp` });
    }
  }
  if (isMailMode(mode)) checkBackendPorts(tree, at, faults);
  const smtp = [...at, 'smtp'];
  if (tree.raw(smtp) !== undefined && mode !== 'smtp') {
    faults.push({ path: smtp, aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(smtp)}: smtp settings are for mode smtp` });
  } else if (tree.valid([...smtp, 'auth']) === false && tree.valid([...smtp, 'delivery']) === false) {
    faults.push({ path: smtp, aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(smtp)}: with auth and delivery both false no client could send mail: turn one on` });
  }
}

/** The mail ports that speak TLS from the first byte, and those that start in clear (STARTTLS where offered). */
const IMPLICIT_TLS_PORTS = new Set([993, 995, 465]);
const CLEAR_PORTS = new Set([143, 110, 25, 587]);

/**
 * A mail server on a well-known port that does not match how yoke will talk to it: the login would hang on a TLS
 * port reached in clear (or with STARTTLS), or fail on a clear port reached with implicit TLS. Warnings: ports are
 * only a convention.
 */
function checkBackendPorts(tree: CheckedTree, at: Segment[], faults: Fault[]): void {
  const tls = tree.raw([...at, 'backend_tls']) !== undefined;
  const written = [...at, 'backend_tls', 'mode'];
  if (tree.raw(written) !== undefined && tree.valid(written) === undefined) return; // a refused mode: its own error says it
  const mode = tree.valid(written) ?? DEFAULTS.backend_tls.mode;
  const servers = tree.raw([...at, 'servers']);
  for (let j = 0; j < (Array.isArray(servers) ? servers.length : 0); j++) {
    const path = [...at, 'servers', j, 'address'];
    const address = tree.valid(path);
    if (typeof address !== 'string') continue; // a malformed address has its own error
    const { port } = parseEndpoint(address);
    let advice: string | undefined;
    if (IMPLICIT_TLS_PORTS.has(port) && (!tls || mode === 'starttls')) advice = `port ${port} speaks TLS from the first byte: set backend_tls (mode implicit)`;
    else if (CLEAR_PORTS.has(port) && tls && mode === 'implicit') advice = `port ${port} starts in clear: backend_tls.mode starttls upgrades it (implicit TLS would fail the handshake)`;
    if (advice !== undefined) faults.push({ path, aim: 'value', code: 'E_CONFIG_INVALID', severity: 'warning', message: `${label(path)}: ${advice}` });
  }
}

/** `http` belongs to mode http (a mode the schema refused is not judged); its sizes written with a unit keep their bounds. */
function checkHttpKeys(tree: CheckedTree, at: Segment[], mode: unknown, faults: Fault[]): void {
  const path = [...at, 'http'];
  if (tree.raw(path) === undefined || mode === undefined) return;
  if (mode !== 'http') {
    faults.push({ path, aim: 'key', code: 'E_CONFIG_INVALID', message: `${label(path)}: http settings are for mode http; this service is mode ${String(mode)}` });
    return;
  }
  for (const [key, bounds] of Object.entries(HTTP_SIZES)) {
    const where = [...path, key];
    const text = tree.valid(where);
    if (typeof text !== 'string') continue;
    const n = parseSize(text);
    if (n < bounds.min || n > bounds.max) {
      faults.push({ path: where, aim: 'value', code: 'E_CONFIG_INVALID', message: `${label(where)}: ${text} is out of range ${sizeText(bounds.min)}..${sizeText(bounds.max)}` });
    }
  }
}

/** A size as an operator writes it: the largest unit that divides it (`1k`, `1m`, `1024g`). */
function sizeText(n: number): string {
  for (const [unit, bytes] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) if (n > 0 && n % bytes === 0) return `${n / bytes}${unit}`;
  return String(n);
}

/** Stickiness by TLS session needs mode tls, by cookie mode http; a SameSite=None cookie must be Secure or browsers drop it. */
function checkSticky(tree: CheckedTree, path: Segment[], mode: unknown, faults: Fault[]): void {
  const warn = (key: string, message: string, severity: 'warning' | 'error' = 'warning') =>
    faults.push({ path: [...path, key], aim: 'key', code: 'E_CONFIG_INVALID', message: `${label([...path, key])}: ${message}`, ...(severity === 'warning' ? { severity } : {}) });
  const has = (key: string) => tree.raw([...path, key]) !== undefined;
  if (has('tls_session') && mode !== 'tls') warn('tls_session', 'TLS-session stickiness needs mode tls; use persistence to keep a client on one server');
  if (has('cookie') && mode !== 'http') warn('cookie', 'cookie stickiness needs mode http; use persistence to keep a client on one server');
  const cookieKeys = ['mode', 'max_age', 'http_only', 'secure', 'same_site', 'secret'];
  if (!has('cookie')) for (const key of cookieKeys) if (has(key)) warn(key, `${key} belongs to cookie stickiness: name the cookie with cookie`);
  if (tree.valid([...path, 'same_site']) === 'None' && tree.valid([...path, 'secure']) !== true) {
    warn('same_site', 'browsers drop a SameSite=None cookie that is not Secure: add secure: true', 'error');
  }
}

/**
 * Routes and pools go together, in mode tls: every route names a pool that exists, every pool is named by a
 * route, and servers then belong to the pools. Returns the pool names (none for a one-pool service).
 */
function checkRoutes(tree: CheckedTree, at: (...p: Segment[]) => Segment[], mode: unknown, faults: Fault[]): string[] {
  const routes = tree.raw(at('routes'));
  const pools = tree.raw(at('pools'));
  const names = typeof pools === 'object' && pools !== null && !Array.isArray(pools) ? Object.keys(pools) : [];
  const error = (path: Segment[], aim: 'key' | 'value', message: string, severity?: 'warning') =>
    faults.push({ path, aim, code: 'E_CONFIG_INVALID', message: `${label(path)}: ${message}`, ...(severity ? { severity } : {}) });
  if (routes === undefined && pools === undefined) return [];
  // A mode of a later version (http) is refused at its value; its routes and pools are not checked against tls.
  if (mode === undefined) return [];
  if (mode !== 'tls' && mode !== 'http') {
    for (const key of ['routes', 'pools']) if (tree.raw(at(key)) !== undefined) error(at(key), 'key', `${key} need mode tls or http`);
    return [];
  }
  if (pools === undefined) { error(at('routes'), 'key', 'routes choose among pools: add pools'); return []; }
  if (routes === undefined) error(at('pools'), 'key', 'pools are chosen by routes: add routes');
  if (tree.raw(at('servers')) !== undefined) error(at('servers'), 'key', 'with pools, servers belong in each pool');
  for (const key of ['scheduler', 'scheduler_options', 'persistence', 'sorry_server', 'health', 'quorum', 'notify']) {
    if (tree.raw(at(key)) !== undefined) error(at(key), 'key', `with pools, ${key} belongs in each pool: here it has no effect`, 'warning');
  }
  const named = new Set<string>();
  for (const [j, r] of (Array.isArray(routes) ? routes : []).entries()) {
    // Each mode routes by what it can see: tls by server name, http by the request.
    const match = typeof r === 'object' && r !== null ? (r as Record<string, unknown>)['match'] : undefined;
    for (const key of typeof match === 'object' && match !== null ? Object.keys(match) : []) {
      if ((mode === 'tls') !== (key === 'sni')) error(at('routes', j, 'match', key), 'key', mode === 'tls' ? `mode tls routes by sni only: ${key} needs mode http` : 'sni is for mode tls: mode http routes by host');
    }
    const pool = tree.valid(at('routes', j, 'pool'));
    if (typeof pool !== 'string') continue;
    named.add(pool);
    if (!names.includes(pool)) error(at('routes', j, 'pool'), 'value', `no pool "${pool}": the pools are ${names.join(', ')}`);
    const last = j === (routes as unknown[]).length - 1;
    if (last && typeof r === 'object' && r !== null && Object.hasOwn(r, 'match')) {
      error(at('routes', j), 'value', 'a connection that matches no route is closed: end with a route without match to catch the rest', 'warning');
    }
  }
  for (const p of names) if (Array.isArray(routes) && !named.has(p)) error(at('pools', p), 'key', `no route names pool "${p}"`, 'warning');
  return names;
}

/**
 * An HTTP check names its URLs either in short form (path, expect_status, digest) or as a urls list, not both;
 * verify and ca are for https, and ca only with verify; passive checks watch TCP, so a udp service has none.
 */
function checkHealth(tree: CheckedTree, path: Segment[], udp: boolean, faults: Fault[]): void {
  const h = tree.raw(path);
  if (typeof h !== 'object' || h === null) return;
  const type = (h as Record<string, unknown>)['type'];
  const warn = (key: string, message: string) => faults.push({ path: [...path, key], aim: 'key', code: 'E_CONFIG_INVALID', severity: 'warning', message: `${label([...path, key])}: ${message}` });
  if (udp && Object.hasOwn(h, 'passive_fall')) warn('passive_fall', 'passive checks watch TCP connects and resets; a udp service has none, so this has no effect');
  if (type === 'https' && Object.hasOwn(h, 'ca') && (h as Record<string, unknown>)['verify'] !== true) warn('ca', 'ca is used only with verify: true; without it any certificate passes');
  if (Object.hasOwn(h, 'urls')) {
    for (const key of ['path', 'expect_status', 'digest']) {
      if (!Object.hasOwn(h, key)) continue;
      faults.push({ path: [...path, key], aim: 'key', code: 'E_CONFIG_INVALID', message: `${label([...path, key])}: give ${key} inside each entry of urls, or drop urls and keep the short form` });
    }
  }
  if (type === 'http') {
    for (const key of ['verify', 'ca']) if (Object.hasOwn(h, key)) warn(key, `${key} applies to type https only; type http has no TLS`);
  }
}

/** Resolves the secret reference at `path` (when there is one) into `into`; one that does not resolve is E_SECRET at its value. */
function resolveSecret(tree: CheckedTree, path: Segment[], env: NodeJS.ProcessEnv, readSecret: ReadSecret, faults: Fault[], into: Map<string, string>): void {
  const text = tree.valid(path);
  if (typeof text !== 'string' || into.has(text)) return;
  const ref = parseSecretRef(text);
  let secret: string | undefined;
  let fault: string;
  if (ref.kind === 'env') {
    secret = env[ref.name];
    fault = secret === undefined ? `environment variable ${ref.name} is not set` : `environment variable ${ref.name} is empty`;
  } else {
    try {
      secret = readSecret(ref.name).trim();
      fault = `secret file ${ref.name} is empty`;
    } catch (err) {
      fault = `cannot read secret file ${ref.name}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (secret) { into.set(text, secret); return; }
  faults.push({ path, aim: 'value', code: 'E_SECRET', message: `${label(path)}: ${fault}` });
}

function checkServers(tree: CheckedTree, map: SourceMap, at: (...p: Segment[]) => Segment[], title: string, faults: Fault[]): void {
  const servers = tree.raw(at('servers'));
  if ((servers === undefined || (Array.isArray(servers) && servers.length === 0))
    && tree.raw(at('sorry_server')) === undefined && tree.raw(at('pools')) === undefined) {
    if (servers === undefined) {
      faults.push({ path: at(), aim: 'value', code: 'E_CONFIG_INVALID', message: `${title} has no servers: list at least one under servers (or give a sorry_server)` });
    } else {
      // An explicitly empty pool is what `ipvsadm -A` (and `yoke ctl -A`) makes: servers are added live.
      faults.push({ path: at('servers'), aim: 'key', code: 'E_CONFIG_INVALID', severity: 'warning', message: `${title} has no servers yet: it refuses connections until one is added (yoke ctl -a)` });
    }
  }
  if (!Array.isArray(servers)) return;
  const addresses = new FirstSeen(map, faults);
  for (const j of servers.keys()) {
    const address = tree.valid(at('servers', j, 'address'));
    if (typeof address === 'string') {
      addresses.note(canonical(address), at('servers', j, 'address'), address, (_, line) => `server ${address} is already listed in ${title} at line ${line}`);
    }
    const max = tree.valid(at('servers', j, 'max_conns'), 0);
    const min = tree.valid(at('servers', j, 'min_conns'), 0);
    if (typeof max === 'number' && typeof min === 'number' && max !== 0 && min !== 0 && min >= max) {
      const path = at('servers', j, 'min_conns');
      faults.push({ path, aim: 'value', code: 'E_BAD_THRESHOLD', message: `${label(path)}: min_conns ${min} must be below max_conns ${max}` });
    }
  }
}

function checkSchedulerOptions(tree: CheckedTree, at: (...p: Segment[]) => Segment[], faults: Fault[]): void {
  const options = tree.raw(at('scheduler_options'));
  const scheduler = tree.valid(at('scheduler'), DEFAULTS.service.scheduler) as SchedulerName | undefined;
  if (typeof options !== 'object' || options === null || !SCHEDULER_NAMES.includes(scheduler as SchedulerName)) return;
  for (const key of Object.keys(options)) {
    const readers = OPTION_READERS[key];
    if (!readers || readers.includes(scheduler as SchedulerName)) continue;
    faults.push({
      path: at('scheduler_options', key), aim: 'key', code: 'E_CONFIG_INVALID', severity: 'warning',
      message: `scheduler_options.${key} has no effect with scheduler ${String(scheduler)}: only ${readers.join(', ')} read${readers.length === 1 ? 's' : ''} it`,
    });
  }
}

interface GroupMember {
  readonly path: readonly Segment[];
  readonly title: string;
  /** Per key: the value compared (ms, prefix length) and as written, or undefined when the schema faulted it. */
  readonly values: Record<string, { readonly n: number; readonly text: string } | undefined>;
}

/** Services in one persistence group share templates, so they must agree on what a template covers and how long it lives. */
function checkPersistenceGroup(
  tree: CheckedTree, map: SourceMap, at: (...p: Segment[]) => Segment[], title: string, groups: Map<string, GroupMember>, faults: Fault[],
): void {
  const group = tree.valid(at('persistence', 'group'));
  if (typeof group !== 'string') return;
  const P = DEFAULTS.persistence;
  const read = <T>(key: string, fallback: T, parse: (v: T) => number): GroupMember['values'][string] => {
    const v = tree.valid(at('persistence', key), fallback);
    return v === undefined ? undefined : { n: parse(v as T), text: String(v) };
  };
  const values = {
    timeout: read('timeout', P.timeout, (v: string) => parseDuration(v)),
    netmask: read('netmask', P.netmask, parseNetmask),
    prefix6: read('prefix6', P.prefix6, (v: number) => v),
  };
  const first = groups.get(group);
  if (!first) {
    groups.set(group, { path: at('persistence'), title, values });
    return;
  }
  for (const [key, mine] of Object.entries(values)) {
    const theirs = first.values[key];
    if (mine === undefined || theirs === undefined || mine.n === theirs.n) continue;
    const written = tree.raw(at('persistence', key)) !== undefined;
    faults.push({
      path: written ? at('persistence', key) : at('persistence'), aim: written ? 'value' : 'key', code: 'E_CONFIG_INVALID',
      message: `${label(at('persistence', key))}: persistence group "${group}" needs one ${key} in all its services: `
        + `${title} has ${mine.text}, ${first.title} (line ${map.line(first.path, 'key')}) has ${theirs.text}`,
    });
  }
}
