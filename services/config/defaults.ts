import { deepFreeze } from './freeze.ts';

/**
 * Every default of the config, written as an operator would write it in YAML, in one frozen table.
 * The schema shows them as `default` annotations, the normalizer converts them exactly as it converts
 * written values, and a test keeps docs/config.md in step. Each group names where its keys live.
 */
export const DEFAULTS = deepFreeze({
  /** `timeouts.*`: as `ipvsadm --set tcp tcpfin udp` (the IPVS defaults). */
  timeouts: { tcp: '900s', tcpfin: '120s', udp: '300s' },
  /** Top-level keys. */
  top: { shutdown_grace: '30s' },
  /** `services[].*` */
  service: { mode: 'tcp', scheduler: 'wlc', proxy_protocol: 'off', max_conns: 0, connect_timeout: '5s', retries: 2 },
  /** `services[].scheduler_options.*`: IPVS sh-fallback on, sh-port off, the mh table size and the lblc expiry. */
  scheduler_options: { fallback: true, hash_port: false, table_size: 65521, expire: '24h' },
  /** `services[].persistence.*`: as `ipvsadm -p 300 -M 255.255.255.255`. */
  persistence: { timeout: '300s', netmask: '255.255.255.255', prefix6: 128 },
  /** `services[].servers[].*`: as `ipvsadm -a -w 1 -x 0 -y 0`. */
  server: { weight: 1, max_conns: 0, min_conns: 0 },
  /** `services[].health.*` for every check type. */
  health: {
    interval: '2s', timeout: '1s', rise: 2, fall: 3, retry_delay: '1s', warmup: '0s', alpha: false, inhibit_on_failure: false, passive_fall: 0,
  },
  /** `services[].health.*` for type http and https. */
  http_health: { path: '/', expect_status: [200], verify: false },
  /** `services[].health.*` for type udp. */
  udp_health: { require_reply: false },
  /** `services[].health.*` for type exec. */
  exec_health: { dynamic: false },
  /** `services[].quorum.*`: as Keepalived (quorum 1 = at least one live server; hysteresis 0). */
  quorum: { weight: 1, hysteresis: 0 },
  /** `services[].sticky.*` (also in a pool): TLS-session stickiness for mode tls. */
  sticky: { tls_session: false, timeout: '10m', mode: 'insert', http_only: true, secure: false, same_site: 'Lax' },
  /** `directories.*.ldap.*`: one LDAP directory of users (the mail farm's lookup). */
  directory: { start_tls: false, filter: '(uid={user})', host_attribute: 'mailHost', cache: '60s', negative_cache: '10s', timeout: '3s', pool: 4 },
  /** `directories.*.ldap.tls.*` */
  directory_tls: { verify: true },
  /** `services[].notify.*` */
  notify: { timeout: '10s', at_shutdown: false },
  /** `services[].*` of the mail modes: the time a client has to log in. */
  mail: { login_timeout: '30s' },
  /** `services[].backend_tls.*`: TLS from yoke to the mail servers (implicit: 993, 995, 465; or starttls: 143, 110, 587, 25). */
  backend_tls: { verify: true, mode: 'implicit' },
  /** `services[].smtp.*`: mode smtp takes AUTH (submission) and MAIL without AUTH (delivery); the greeting's name. */
  smtp: { auth: true, delivery: true, hostname: 'yoke' },
  /**
   * `services[].http.*`: mode http's limits. Client side as HAProxy `timeout http-request` / `http-keep-alive` and
   * nginx `client_body_timeout`; head bounds as Node's and HAProxy's; no body limit (HAProxy has none; yoke streams
   * bodies, so the servers own that limit). Server side as HAProxy `timeout server`, nginx `proxy_read_timeout` and
   * an upstream's `keepalive_timeout`; connections per server unbounded, as undici's Pool.
   */
  http: {
    header_timeout: '10s', body_timeout: '60s', idle_timeout: '60s', max_header_size: '16k', max_headers: 100, max_body_size: 0,
    server_headers_timeout: '30s', server_body_timeout: '60s', server_idle_timeout: '4s', server_connections: 0,
  },
} as const);

/** Where each group of DEFAULTS lives in the YAML, as docs/config.md titles its keys. */
export const DEFAULT_PLACES: { readonly [G in keyof typeof DEFAULTS]: string } = {
  timeouts: 'timeouts.',
  top: '',
  service: 'services[].',
  scheduler_options: 'services[].scheduler_options.',
  persistence: 'services[].persistence.',
  server: 'services[].servers[].',
  health: 'services[].health.',
  http_health: 'services[].health.',
  udp_health: 'services[].health.',
  exec_health: 'services[].health.',
  quorum: 'services[].quorum.',
  sticky: 'services[].sticky.',
  directory: 'directories.*.ldap.',
  directory_tls: 'directories.*.ldap.tls.',
  notify: 'services[].notify.',
  mail: 'services[].',
  backend_tls: 'services[].backend_tls.',
  smtp: 'services[].smtp.',
  http: 'services[].http.',
};
