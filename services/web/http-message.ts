import { STATUS_CODES } from 'node:http';
import type { RequestHead } from '../../l7/http/request-head.ts';

/*
 * Building the heads yoke sends: the request head towards a real server (hop-by-hop fields out, X-Forwarded-For,
 * X-Forwarded-Proto, Forwarded and Via in) and the response head towards the client (hop-by-hop out, Via in,
 * yoke's own framing). Pure: strings in, strings out.
 */

/** Fields that describe one hop (RFC 9110 7.6.1), never forwarded; fields named in Connection are dropped too. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * The Cookie fields of a request as one value, `; `-joined as RFC 6265 5.4 writes them; undefined without any.
 */
export function requestCookies(head: RequestHead): string | undefined {
  let out: string | undefined;
  for (let i = head.indexOf('cookie'); i >= 0; i = head.indexOf('cookie', i + 1)) out = out === undefined ? head.valueAt(i) : `${out}; ${head.valueAt(i)}`;
  return out;
}

/** Fields yoke sets itself towards the real server. */
const REPLACED = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'via', 'expect', 'content-length']);

const VIA = '1.1 yoke';

/** The client as the forwarding fields name it. */
export interface ClientInfo {
  readonly ip: string;
  readonly proto: 'http' | 'https';
}

/**
 * The request fields for the real server as a flat [name, value, …] list (undici takes it as is). Keeps the
 * client's fields in order but the hop-by-hop ones; appends the client to X-Forwarded-For, Forwarded and Via;
 * `upgrade` keeps Connection/Upgrade for a protocol switch; a body of known length keeps its Content-Length.
 */
export function upstreamFields(
  head: RequestHead, client: ClientInfo, host: string, requestId: string, length: number | undefined, upgrade: string | undefined,
  cookie: string | null | undefined = undefined,
): string[] {
  const out: string[] = ['host', host];
  const dropped = connectionTokens(head);
  let xff: string | undefined;
  let forwarded: string | undefined;
  let via: string | undefined;
  let hasId = false;
  for (let i = 0; i < head.headerCount; i++) {
    const name = head.lowerNameAt(i);
    if (name === 'x-forwarded-for') { xff = xff === undefined ? head.valueAt(i) : `${xff}, ${head.valueAt(i)}`; continue; }
    if (name === 'forwarded') { forwarded = forwarded === undefined ? head.valueAt(i) : `${forwarded}, ${head.valueAt(i)}`; continue; }
    if (name === 'via') { via = via === undefined ? head.valueAt(i) : `${via}, ${head.valueAt(i)}`; continue; }
    if (HOP_BY_HOP.has(name) || REPLACED.has(name) || dropped?.has(name)) continue;
    if (name === 'cookie' && cookie !== undefined) continue; // stickiness rewrote it (below)
    if (name === 'x-request-id') hasId = true;
    out.push(head.nameAt(i), head.valueAt(i));
  }
  const node = client.ip.includes(':') ? `"[${client.ip}]"` : client.ip;
  out.push(
    'x-forwarded-for', xff === undefined ? client.ip : `${xff}, ${client.ip}`,
    'x-forwarded-proto', client.proto,
    'forwarded', `${forwarded === undefined ? '' : `${forwarded}, `}for=${node};proto=${client.proto};host="${host}"`,
    'via', via === undefined ? VIA : `${via}, ${VIA}`,
  );
  if (!hasId) out.push('x-request-id', requestId);
  if (typeof cookie === 'string') out.push('cookie', cookie);
  if (length !== undefined) out.push('content-length', String(length));
  if (upgrade !== undefined) out.push('connection', 'upgrade', 'upgrade', upgrade);
  return out;
}

/** Lower-case field names listed in the request's Connection fields (besides close/keep-alive), or undefined. */
function connectionTokens(head: RequestHead): Set<string> | undefined {
  let set: Set<string> | undefined;
  for (let i = head.indexOf('connection'); i >= 0; i = head.indexOf('connection', i + 1)) {
    for (const t of head.valueAt(i).split(',')) {
      const token = t.trim().toLowerCase();
      if (token !== '' && token !== 'close' && token !== 'keep-alive') (set ??= new Set()).add(token);
    }
  }
  return set;
}

/** How the response body reaches the client. */
export type ResponseFraming = 'none' | 'length' | 'chunked' | 'close';

/** Statuses and methods whose response has no body whatever its fields say (RFC 9110 6.4.1). */
export function bodiless(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

/**
 * The response head for the client from the real server's status and fields (undici's lower-case object, values as
 * latin1 text: the head is to be written as latin1, byte for byte): hop-by-hop
 * fields out, Via added, and the framing yoke uses: the server's Content-Length when it sent one, chunked for an
 * HTTP/1.1 client otherwise, or close-delimited for HTTP/1.0.
 */
export function responseHead(
  status: number, message: string | undefined, fields: Record<string, string | string[] | undefined>,
  method: string, clientVersion: '1.0' | '1.1', keepAlive: boolean,
): { head: string; framing: ResponseFraming; keepAlive: boolean } {
  let head = `HTTP/1.1 ${status} ${reasonPhrase(message) || STATUS_CODES[status] || ''}\r\n`;
  const dropped = new Set<string>();
  const conn = fields['connection'];
  for (const v of Array.isArray(conn) ? conn : conn === undefined ? [] : [conn]) for (const t of v.split(',')) dropped.add(t.trim().toLowerCase());
  let via: string | undefined;
  let length: string | undefined;
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    if (name === 'via') { via = Array.isArray(value) ? value.join(', ') : value; continue; }
    if (name === 'content-length') { length = Array.isArray(value) ? value[0] : value; continue; }
    if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${value}\r\n`;
  }
  head += `via: ${via === undefined ? VIA : `${via}, ${VIA}`}\r\n`;
  let framing: ResponseFraming;
  if (bodiless(method, status)) {
    framing = 'none';
    if (length !== undefined && method === 'HEAD') head += `content-length: ${length}\r\n`;
  } else if (length !== undefined) {
    framing = 'length';
    head += `content-length: ${length}\r\n`;
  } else if (clientVersion === '1.1') {
    framing = 'chunked';
    head += 'transfer-encoding: chunked\r\n';
  } else {
    framing = 'close';
    keepAlive = false;
  }
  head += keepAlive ? (clientVersion === '1.0' ? 'connection: keep-alive\r\n\r\n' : '\r\n') : 'connection: close\r\n\r\n';
  return { head, framing, keepAlive };
}

/** undici decodes the reason phrase as UTF-8 while the head is written as latin1: back to one char per byte. */
function reasonPhrase(message: string | undefined): string | undefined {
  return message === undefined || NOT_LATIN1.test(message) === false ? message : Buffer.from(message, 'utf8').toString('latin1');
}

const NOT_LATIN1 = /[^\x00-\xff]/;

/** A complete response yoke answers itself (errors, 100 Continue aside): a short text body naming the request id. */
export function ownResponse(status: number, detail: string, requestId: string, close: boolean): string {
  const body = `${status} ${STATUS_CODES[status] ?? ''}: ${detail}\nrequest id: ${requestId}\n`;
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`
    + `x-request-id: ${requestId}\r\n${close ? 'connection: close\r\n' : ''}\r\n${body}`;
}
