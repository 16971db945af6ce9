import type { SchemaObject } from 'ajv';
import type { ErrorCode } from '../../core/errors.ts';
import { SCHEDULER_NAMES } from '../../core/schedulers/types.ts';
import { DEFAULTS } from './defaults.ts';
import type { ValueFormat } from './values.ts';

/*
 * The JSON Schema (draft-07) of yoke.yaml. Three annotations beyond the standard, which validate.ts registers:
 *   x-later  a feature of a later version: a string = the key itself is refused with that message;
 *            an object = the values it names are refused with their messages (other values go to `enum`).
 *   x-code   the error code for any fault in this value (E_BAD_WEIGHT for a weight, …); default E_CONFIG_INVALID.
 *   x-hint   what a value matching `pattern` looks like, said instead of the pattern.
 */

const L4_ONLY = 'this version runs tcp, udp, tls (passthrough), http, imap, pop3 and smtp services';

/** Modes that later versions add: recognised so that they are refused clearly, at their line. */
const LATER_MODES = Object.fromEntries(
  ['rtsp', 'cache'].map((m) => [m, `mode: ${m} is not supported yet; ${L4_ONLY}`]),
);

const SUPPORTED_SCHEDULERS = SCHEDULER_NAMES.join(', ');

/** Schedulers of later versions: the media farm's hot-file locality and the L7 EWMA-latency picker. */
const LATER_SCHEDULERS = {
  locality: `scheduler: locality is not supported yet (it comes with the media farm); use one of ${SUPPORTED_SCHEDULERS}`,
  ewma: `scheduler: ewma is not supported yet (it comes with layer-7 services); use one of ${SUPPORTED_SCHEDULERS}`,
};

type Schema = SchemaObject;

function later(message: string): Schema {
  return { 'x-later': message };
}

function object(properties: Record<string, Schema>, required: readonly string[] = []): Schema {
  return { type: 'object', properties, required: [...required], additionalProperties: false };
}

function formatted(format: ValueFormat, extra: Schema = {}): Schema {
  return { type: 'string', format, ...extra };
}

function duration(dflt: string): Schema {
  return formatted('duration', { default: dflt });
}

function integer(minimum: number, maximum: number, extra: Schema = {}): Schema {
  return { type: 'integer', minimum, maximum, ...extra };
}

/** A size in bytes: a whole number, or text with a unit (`16k`, `1m`); bounds apply to numbers here, to text in semantic.ts. */
function size(bounds: { readonly min: number; readonly max: number }, dflt: string | number): Schema {
  return { type: ['integer', 'string'], minimum: bounds.min, maximum: bounds.max, format: 'size' satisfies ValueFormat, default: dflt };
}

/** The bounds of the size keys of `http`: a head is held whole in memory while it is read; a body is streamed. */
export const HTTP_SIZES = {
  max_header_size: { min: 1024, max: 1024 ** 2 },
  max_body_size: { min: 0, max: 1024 ** 4 },
} as const;

const NAME: Schema = { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', 'x-hint': 'letters, digits and _ . - only' };
const BOOLEAN: Schema = { type: 'boolean' };
const ENDPOINT = formatted('endpoint');
const U32 = 2 ** 32 - 1;
const threshold = (dflt: number): Schema => integer(0, U32, { default: dflt, 'x-code': 'E_BAD_THRESHOLD' satisfies ErrorCode });


const H = DEFAULTS.health;
const healthCommon: Record<string, Schema> = {
  interval: duration(H.interval),
  timeout: duration(H.timeout),
  rise: integer(1, 100, { default: H.rise }),
  fall: integer(1, 100, { default: H.fall }),
  retry_delay: duration(H.retry_delay),
  warmup: formatted('duration-or-zero', { default: H.warmup }),
  port: integer(1, 65535),
  address: formatted('ip'),
  alpha: { ...BOOLEAN, default: H.alpha },
  inhibit_on_failure: { ...BOOLEAN, default: H.inhibit_on_failure },
  passive_fall: integer(0, 100, { default: H.passive_fall }),
};

/** One Keepalived checker: TCP_CHECK, HTTP_GET/SSL_GET, SMTP_CHECK, UDP_CHECK, MISC_CHECK. */
function checker(types: readonly string[], own: Record<string, Schema>, required: readonly string[] = []): Schema {
  return object({ type: { type: 'string', enum: [...types] }, ...healthCommon, ...own }, ['type', ...required]);
}

const PAYLOAD = formatted('bytes');
const HW = DEFAULTS.http_health;
const URL_PATH: Schema = { type: 'string', pattern: '^/\\S*$', 'x-hint': 'a path starting with / and without spaces' };
const STATUS: Schema = {
  type: 'array',
  // A code (200) or a range as Keepalived writes it ("200-299"): the bounds apply to numbers, the format to strings.
  items: { type: ['integer', 'string'], minimum: 100, maximum: 599, format: 'status-range' },
  minItems: 1,
  uniqueItems: true,
};
const HOST_NAME: Schema = { type: 'string', pattern: '^\\S+$', 'x-hint': 'a host name without spaces' };

const health: Schema = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    checker(['tcp'], { send: PAYLOAD, expect: PAYLOAD }),
    checker(['http', 'https'], {
      path: { ...URL_PATH, default: HW.path },
      expect_status: { ...STATUS, default: HW.expect_status },
      digest: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', 'x-hint': 'the MD5 of the body as 32 hex digits' },
      urls: { type: 'array', minItems: 1, items: object({ path: URL_PATH, expect_status: STATUS, digest: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', 'x-hint': 'the MD5 of the body as 32 hex digits' } }, ['path']) },
      host: HOST_NAME,
      verify: { ...BOOLEAN, default: HW.verify },
      ca: { type: 'string', minLength: 1 },
    }),
    checker(['smtp'], { helo: HOST_NAME }),
    checker(['udp'], { send: PAYLOAD, expect: PAYLOAD, require_reply: { ...BOOLEAN, default: DEFAULTS.udp_health.require_reply } }),
    checker(['exec'], { command: { type: 'string', minLength: 1 }, dynamic: { ...BOOLEAN, default: DEFAULTS.exec_health.dynamic } }, ['command']),
  ],
};

const COMMAND: Schema = { type: 'string', minLength: 1 };
const N = DEFAULTS.notify;
const notify = object({
  up: COMMAND,
  down: COMMAND,
  quorum_up: COMMAND,
  quorum_down: COMMAND,
  webhook: formatted('http-url'),
  timeout: duration(N.timeout),
  at_shutdown: { ...BOOLEAN, default: N.at_shutdown },
});
const serverNotify = object({ up: COMMAND, down: COMMAND });
const Q = DEFAULTS.quorum;
const quorum = object({ weight: integer(1, U32, { default: Q.weight }), hysteresis: integer(0, U32, { default: Q.hysteresis }) });

const server = object({
  name: NAME,
  address: ENDPOINT,
  weight: integer(0, 65535, { default: DEFAULTS.server.weight, 'x-code': 'E_BAD_WEIGHT' satisfies ErrorCode }),
  max_conns: threshold(DEFAULTS.server.max_conns),
  min_conns: threshold(DEFAULTS.server.min_conns),
  capacity: later('capacity is not supported yet (it comes with the locality scheduler); use max_conns to cap a server'),
  health,
  notify: serverNotify,
  icp: later('icp is not supported yet (it comes with the cache farm)'),
}, ['address']);

const D = DEFAULTS.directory;
/** One LDAP directory of users: where a mail user's server is written (mailHost). */
const directory = object({
  ldap: object({
    url: { type: 'string', pattern: '^ldaps?://\\S+$', 'x-hint': 'ldap://host:port or ldaps://host:port' },
    start_tls: { ...BOOLEAN, default: D.start_tls },
    bind_dn: { type: 'string', minLength: 1 },
    password: formatted('secret'),
    base: { type: 'string', minLength: 1 },
    filter: { type: 'string', minLength: 1, default: D.filter },
    host_attribute: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9-]*$', 'x-hint': 'an attribute name such as mailHost', default: D.host_attribute },
    cache: duration(D.cache),
    negative_cache: duration(D.negative_cache),
    timeout: duration(D.timeout),
    pool: integer(1, 64, { default: D.pool }),
    tls: object({ ca: formatted('secret'), verify: { ...BOOLEAN, default: DEFAULTS.directory_tls.verify }, server_name: { type: 'string', minLength: 1 } }),
  }, ['url', 'base']),
}, ['ldap']);

const SO = DEFAULTS.scheduler_options;
const P = DEFAULTS.persistence;
const S = DEFAULTS.service;

/** Stickiness: TLS sessions for mode tls; cookies come with mode http. */
const sticky = object({
  tls_session: { ...BOOLEAN, default: DEFAULTS.sticky.tls_session },
  timeout: duration(DEFAULTS.sticky.timeout),
  cookie: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", 'x-hint': 'a cookie name such as SERVERID' },
  mode: { type: 'string', enum: ['insert', 'rewrite', 'prefix', 'learn'], default: DEFAULTS.sticky.mode },
  max_age: formatted('duration'),
  http_only: { ...BOOLEAN, default: DEFAULTS.sticky.http_only },
  secure: { ...BOOLEAN, default: DEFAULTS.sticky.secure },
  same_site: { type: 'string', enum: ['Lax', 'Strict', 'None'], default: DEFAULTS.sticky.same_site },
  secret: formatted('secret'),
});

const HT = DEFAULTS.http;
/** mode http: the proxy's limits toward clients and toward the real servers. */
const http = object({
  header_timeout: duration(HT.header_timeout),
  body_timeout: duration(HT.body_timeout),
  idle_timeout: duration(HT.idle_timeout),
  max_header_size: size(HTTP_SIZES.max_header_size, HT.max_header_size),
  max_headers: integer(1, 10000, { default: HT.max_headers }),
  max_body_size: size(HTTP_SIZES.max_body_size, HT.max_body_size),
  server_headers_timeout: duration(HT.server_headers_timeout),
  server_body_timeout: duration(HT.server_body_timeout),
  server_idle_timeout: duration(HT.server_idle_timeout),
  server_connections: integer(0, 65535, { default: HT.server_connections }),
});

const route = object({
  match: object({
    sni: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*\\.?$', 'x-hint': 'a server name such as api.example.org, or *.example.org for its subdomains' },
    host: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*\\.?$', 'x-hint': 'a host name such as www.example.org, or *.example.org for its subdomains' },
    path: { type: 'string', pattern: '^/\\S*$', 'x-hint': 'a path starting with / and without spaces' },
    path_prefix: { type: 'string', pattern: '^/\\S*$', 'x-hint': 'a path starting with / and without spaces' },
    path_regex: formatted('regex'),
    method: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", 'x-hint': 'a method name such as GET' },
    header: object({ name: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", 'x-hint': 'a header name such as X-Api-Key' }, value: { type: 'string' } }, ['name']),
  }),
  pool: NAME,
}, ['pool']);

/** What a pool and a one-pool service share: the scheduling of one list of servers. */
const poolKeys = (): Record<string, Schema> => ({
  scheduler: {
    type: 'string',
    enum: [...SCHEDULER_NAMES, ...Object.keys(LATER_SCHEDULERS)],
    'x-later': LATER_SCHEDULERS,
    'x-code': 'E_UNKNOWN_SCHEDULER' satisfies ErrorCode,
    default: S.scheduler,
  },
  scheduler_options: object({
    fallback: { ...BOOLEAN, default: SO.fallback },
    hash_port: { ...BOOLEAN, default: SO.hash_port },
    table_size: integer(2, 131071, { format: 'prime' satisfies ValueFormat, default: SO.table_size }),
    expire: duration(SO.expire),
  }),
  persistence: object({
    timeout: duration(P.timeout),
    netmask: formatted('netmask', { default: P.netmask }),
    prefix6: integer(0, 128, { default: P.prefix6 }),
    group: NAME,
  }),
  sorry_server: ENDPOINT,
  servers: { type: 'array', items: server },
  health,
  quorum,
  notify,
  sticky,
  icp: later('icp is not supported yet (it comes with the cache farm)'),
});

const service = object({
  name: NAME,
  listen: ENDPOINT,
  mode: { type: 'string', enum: ['tcp', 'udp', 'tls', 'http', 'imap', 'pop3', 'smtp', ...Object.keys(LATER_MODES)], 'x-later': LATER_MODES, default: S.mode },
  ...poolKeys(),
  proxy_protocol: { type: 'string', enum: ['off', 'v1', 'v2'], default: S.proxy_protocol },
  tls: object({ cert: formatted('secret'), key: formatted('secret') }, ['cert', 'key']),
  tls_mode: { type: 'string', enum: ['off', 'starttls', 'required', 'implicit'] },
  login_timeout: duration(DEFAULTS.mail.login_timeout),
  backend_tls: object({
    mode: { type: 'string', enum: ['implicit', 'starttls'], default: DEFAULTS.backend_tls.mode },
    verify: { ...BOOLEAN, default: DEFAULTS.backend_tls.verify },
    ca: formatted('secret'),
    server_name: { type: 'string', minLength: 1 },
  }),
  smtp: object({
    auth: { ...BOOLEAN, default: DEFAULTS.smtp.auth },
    delivery: { ...BOOLEAN, default: DEFAULTS.smtp.delivery },
    hostname: { type: 'string', pattern: '^[A-Za-z0-9.-]+$', 'x-hint': 'a host name such as mx.example.org', default: DEFAULTS.smtp.hostname },
  }),
  http,
  max_conns: integer(0, U32, { default: S.max_conns }),
  connect_timeout: duration(S.connect_timeout),
  retries: integer(0, 10, { default: S.retries }),
  routes: { type: 'array', minItems: 1, items: route },
  pools: { type: 'object', minProperties: 1, propertyNames: NAME, additionalProperties: object(poolKeys()) },
  directory: NAME,
  webmail_user: object({
    header: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", 'x-hint': 'a header name such as X-Mail-User' },
    cookie: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", 'x-hint': 'a cookie name such as mailuser' },
  }),
  locality: later('locality is not supported yet (it comes with the media farm\'s locality scheduler)'),
}, ['name', 'listen']);

/** The schema of a whole yoke.yaml. */
export const CONFIG_SCHEMA: Schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  ...object({
    admin: object({ listen: ENDPOINT, token: formatted('secret') }, ['listen', 'token']),
    timeouts: object({
      tcp: duration(DEFAULTS.timeouts.tcp),
      tcpfin: duration(DEFAULTS.timeouts.tcpfin),
      udp: duration(DEFAULTS.timeouts.udp),
    }),
    shutdown_grace: formatted('duration-or-zero', { default: DEFAULTS.top.shutdown_grace }),
    services: { type: 'array', items: service },
    ha: later('ha is not supported yet; this version runs one director without failover'),
    directories: { type: 'object', minProperties: 1, propertyNames: NAME, additionalProperties: directory },
  }, ['services']),
};
