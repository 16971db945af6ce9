/**
 * One table of error codes. Each entry says what went wrong in general and what the operator should do;
 * the detail at the throw site says what exactly. docs/errors.md is kept in step by test/core/errors.test.ts.
 */
export const ERROR_CODES = {
  E_CONFIG_SYNTAX: 'the config file is not valid YAML: fix the syntax at the position shown',
  E_CONFIG_INVALID: 'the config does not match the schema: fix each key named at its file:line:col (docs/config.md lists every key)',
  E_CONFIG_READ: 'the config file could not be read: check the path and its permissions',
  E_CONFIG_DUPLICATE: 'two entries claim the same name or address: give each service a unique name and listen address, each server a unique address in its service',
  E_NOT_SUPPORTED: 'this feature is not supported by this version of yoke: remove the key or use a supported value',
  E_SECRET: 'a secret (env:NAME or file:PATH) could not be resolved: set the variable or create the file',
  E_ADDRESS: 'not a valid address: write IPv4 as 1.2.3.4:80 and IPv6 as [::1]:80',
  E_DURATION: 'not a valid duration: write a number with a unit, such as 300ms, 2s, 5m or 1h',
  E_UNKNOWN_SCHEDULER: 'no scheduler by that name: use one of rr, wrr, lc, wlc, sed, nq, sh, dh, lblc, lblcr, mh, fo, ovf, p2c',
  E_NO_SUCH_SERVICE: 'no virtual service by that name or address: list them with `yoke ctl -L -n`',
  E_NO_SUCH_SERVER: 'no real server by that address in the service: list them with `yoke ctl -L -n`',
  E_SERVICE_EXISTS: 'a virtual service with that name or listen address already exists: edit it instead, or remove it first',
  E_SERVER_EXISTS: 'the service already has that real server: edit it instead (`yoke ctl -e`)',
  E_BAD_WEIGHT: 'a weight is a whole number from 0 to 65535 (0 quiesces the server)',
  E_BAD_THRESHOLD: 'thresholds are whole numbers; min_conns must be below max_conns (ipvsadm -y below -x)',
  E_LISTEN: 'yoke could not listen on the address: another process holds it, or the address is not on this host',
  E_ADMIN_AUTH: 'the admin API needs the bearer token from the admin.token setting: pass it with --token or YOKE_ADMIN_TOKEN',
  E_ADMIN_REQUEST: 'the admin API request was malformed: see docs/admin-api.md for the body each call takes',
  E_ADMIN_UNREACHABLE: 'yoke ctl could not reach the admin API: is yoke running, and is --admin (or YOKE_ADMIN) its admin.listen address?',
  E_KEEPALIVED_SYNTAX: 'the keepalived.conf does not parse: balance the braces, close the quote or fix the include at the position shown',
  E_KEEPALIVED_KEYWORD: 'a keepalived.conf keyword is unknown, misplaced or has a bad value: fix it at the position shown (docs/keepalived.md lists every keyword yoke reads)',
  E_TLS_NOT_TLS: 'a client of a tls service sent bytes that do not open a TLS handshake (plain HTTP, SSH, SSLv2): yoke closed the connection; point such clients at a service of their own mode',
  E_TLS_MALFORMED: 'a TLS ClientHello or ServerHello broke the protocol\'s rules, so yoke cannot route or stick on it (a client\'s connection is closed): if a real client or server is refused, report it with a capture of its first bytes',
  E_TLS_TOO_LARGE: 'a TLS hello exceeded yoke\'s bounds (its size, or the records it spans) and the connection was closed: such hellos come from scanners, not real clients',
  E_USAGE: 'the command line was not understood: run `yoke help`',
  E_HTTP_REQUEST_LINE: 'an HTTP client sent a malformed request line (method, target or version); yoke answered 400 and closed: fix the client (docs/http-parsing.md lists the rules)',
  E_HTTP_HEADER: 'an HTTP client sent a malformed field line (bad name, whitespace before the colon, obs-fold, bare CR or LF, a control byte in a value); yoke answered 400 and closed: fix the client',
  E_HTTP_HOST: 'an HTTP/1.1 request had no Host, two Host fields or an invalid Host value; yoke answered 400 (RFC 9112 3.2): fix the client',
  E_HTTP_TOO_LARGE: 'an HTTP request head exceeded a limit (target length: 414; head bytes or field count: 431): raise the service\'s http.max_header_size or http.max_headers only if the client is legitimate',
  E_HTTP_VERSION: 'an HTTP client spoke a version other than HTTP/1.0 or 1.1 on an HTTP/1.1 listener; yoke answered 505: use HTTP/1.1, or terminate HTTP/2 elsewhere',
  E_HTTP_METHOD: 'an HTTP client sent CONNECT, which a reverse proxy does not serve; yoke answered 501: send the request to a forward proxy instead',
  E_HTTP_FRAMING: 'an HTTP request\'s body length was ambiguous (Content-Length twice or malformed, Content-Length with Transfer-Encoding, Transfer-Encoding not ending in chunked or in HTTP/1.0); yoke answered 400 and closed: this is the shape of request smuggling, fix or block the client',
  E_HTTP_TRANSFER_CODING: 'an HTTP request used a transfer coding other than chunked; yoke answered 501: send the body chunked only (or with Content-Length)',
  E_HTTP_EXPECT: 'an HTTP request carried an Expect value other than 100-continue; yoke answered 417: drop the Expect field',
  E_HTTP_CHUNKED: 'an HTTP request\'s chunked body broke the chunk grammar; yoke stopped forwarding it at that byte, aborted the upstream connection and closed: fix the client',
  E_HTTP_TIMEOUT: 'an HTTP client did not send a whole request head within http.header_timeout (10 s) of its first byte; yoke answered 408 and closed: a slow or stalled client (or a slowloris)',
  E_HTTP_BODY_TIMEOUT: 'an HTTP client paused its request body longer than http.body_timeout (60 s); yoke aborted the request to the server and answered 408 (or closed, if the answer had begun): a stalled client, or raise the limit for slow links',
  E_HTTP_BODY_TOO_LARGE: 'an HTTP request body exceeded http.max_body_size; yoke answered 413 and closed (by Content-Length before any server saw it; a chunked body when it grew past, aborting the request to the server): raise the limit if such uploads are legitimate',
  E_DIRECTORY_FILTER: 'a directory\'s filter is not a usable RFC 4515 filter: write it with {user} where the user name goes, inside a value, e.g. (uid={user}) or (&(objectClass=inetOrgPerson)(uid={user}))',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error from config, reload, admin or CLI code: a stable code plus a detail; the message adds the remedy. */
export class YokeError extends Error {
  readonly code: ErrorCode;
  readonly detail: string;
  constructor(code: ErrorCode, detail: string, options?: ErrorOptions) {
    super(`${detail} (${ERROR_CODES[code]})`, options);
    this.name = 'YokeError';
    this.code = code;
    this.detail = detail;
  }
}
