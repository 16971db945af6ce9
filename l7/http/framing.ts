/**
 * How a request's body is delimited and what the connection does next (RFC 9112 6.3, 9.3; RFC 9110 7.6.1,
 * 7.8, 10.1.1). yoke accepts one framing per request and refuses every shape two parsers could read two ways:
 * Transfer-Encoding is exactly `chunked` or the request is refused; Transfer-Encoding with Content-Length is
 * refused; Content-Length appears once, as 1*DIGIT.
 *
 * The field checks are exported so the head parser can refuse a bad framing field as soon as its line ends
 * (before the rest of the head arrives); requestFraming then decides from the finished head with the same rules.
 */
import { CLASS, TOKEN, WS, eqLower, lowerBytes } from './chars.ts';
import type { RequestHead } from './request-head.ts';
import {
  FIELD_CONNECTION, FIELD_CONTENT_LENGTH, FIELD_EXPECT, FIELD_TRANSFER_ENCODING, FIELD_UPGRADE, httpError, type HttpError,
} from './types.ts';

/** The decision for one request. */
export interface Framing {
  readonly kind: 'framing';
  /** none: no body follows the head; length: `length` bytes follow; chunked: decode with ChunkedDecoder. */
  readonly body: 'none' | 'length' | 'chunked';
  /** Body bytes when body is 'length' (> 0), else 0. */
  readonly length: number;
  /** Whether the connection may carry another request after this one. */
  readonly keepAlive: boolean;
  /** The Upgrade field value when the client asks to switch protocols (HTTP/1.1, Connection: upgrade), else undefined. */
  readonly upgrade: string | undefined;
  /** Expect: 100-continue was sent. */
  readonly expectContinue: boolean;
}

const CHUNKED = lowerBytes('chunked');
const CLOSE = lowerBytes('close');
const KEEP_ALIVE = lowerBytes('keep-alive');
const UPGRADE = lowerBytes('upgrade');
const CONTINUE = lowerBytes('100-continue');
/** 2^53 - 1 has 16 digits; refusing more than 15 significant digits keeps the running value exact. */
const MAX_LENGTH = Number.MAX_SAFE_INTEGER;

/**
 * Content-Length value buf[start, end) (already trimmed of OWS) as a number, or -1 if it is not 1*DIGIT
 * within Number.MAX_SAFE_INTEGER. Leading zeros are decimal (`010` is ten, never octal). A list such as
 * `5, 5` is refused although RFC 9110 8.6 lets a recipient collapse it: no client needs to send one.
 */
export function parseContentLength(buf: Uint8Array, start: number, end: number): number {
  if (start === end) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = (buf[i] as number) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
    if (n > MAX_LENGTH) return -1;
  }
  return n;
}

/**
 * Null if the Transfer-Encoding value buf[start, end) (trimmed) is exactly `chunked` in any case, else the
 * refusal: 400 when the list is malformed or chunked is not the final coding (RFC 9112 6.3: the length cannot
 * be determined), 501 when chunked is final but other codings come before it (RFC 9112 6.1: not understood).
 */
export function transferEncodingProblem(buf: Uint8Array, start: number, end: number): { status: 400 | 501; reason: string } | null {
  if (eqLower(buf, start, end, CHUNKED)) return null;
  let i = start;
  let last = -1;
  let lastEnd = -1;
  let elements = 0;
  while (i <= end) {
    const s = i;
    while (i < end && CLASS[buf[i] as number]! & TOKEN) i++;
    if (i === s) return { status: 400, reason: 'Transfer-Encoding is not a list of transfer codings' };
    last = s;
    lastEnd = i;
    elements++;
    while (i < end && CLASS[buf[i] as number]! & WS) i++;
    if (i === end) break;
    // Parameters (`;q=…`) and empty elements (`,chunked`) are refused: no client needs them in a request.
    if (buf[i] !== 0x2c) return { status: 400, reason: 'Transfer-Encoding is not a list of transfer codings' };
    i++;
    while (i < end && CLASS[buf[i] as number]! & WS) i++;
  }
  if (!eqLower(buf, last, lastEnd, CHUNKED)) {
    return { status: 400, reason: elements === 1 ? 'unknown transfer coding (only chunked is accepted)' : 'chunked is not the final transfer coding' };
  }
  for (let j = start; j < last; j++) {
    if (eqLower(buf, j, j + CHUNKED.length, CHUNKED) && (j + CHUNKED.length === last || !(CLASS[buf[j + CHUNKED.length] as number]! & TOKEN))) {
      return { status: 400, reason: 'chunked applied more than once' };
    }
  }
  return { status: 501, reason: 'transfer codings other than chunked are not implemented' };
}

/**
 * The framing of a parsed request head, or the refusal. Connection tokens are read case-insensitively from
 * every Connection line; HTTP/1.0 persists only with `keep-alive`, HTTP/1.1 unless `close`.
 */
export function requestFraming(head: RequestHead): Framing | HttpError {
  const raw = head.raw;
  let body: Framing['body'] = 'none';
  let length = 0;
  let close = false;
  let keepAliveToken = false;
  let upgradeToken = false;
  let upgrade: string | undefined;
  let expectContinue = false;
  let sawLength = false;
  let sawChunked = false;
  for (let i = 0; i < head.headerCount; i++) {
    const kind = head.kindAt(i);
    if (kind === 0 || kind > FIELD_EXPECT) continue;
    const vs = head.valueStartAt(i);
    const ve = head.valueEndAt(i);
    switch (kind) {
      case FIELD_CONTENT_LENGTH: {
        if (sawLength) return httpError(400, 'E_HTTP_FRAMING', 'more than one Content-Length', -1);
        if (sawChunked) return httpError(400, 'E_HTTP_FRAMING', 'Content-Length with Transfer-Encoding', -1);
        const n = parseContentLength(raw, vs, ve);
        if (n < 0) return httpError(400, 'E_HTTP_FRAMING', 'Content-Length is not a decimal number within 2^53', -1);
        sawLength = true;
        length = n;
        if (n > 0) body = 'length';
        break;
      }
      case FIELD_TRANSFER_ENCODING: {
        if (head.version === '1.0') return httpError(400, 'E_HTTP_FRAMING', 'Transfer-Encoding in an HTTP/1.0 request', -1);
        if (sawChunked) return httpError(400, 'E_HTTP_FRAMING', 'more than one Transfer-Encoding line', -1);
        if (sawLength) return httpError(400, 'E_HTTP_FRAMING', 'Content-Length with Transfer-Encoding', -1);
        const p = transferEncodingProblem(raw, vs, ve);
        if (p) return httpError(p.status, p.status === 501 ? 'E_HTTP_TRANSFER_CODING' : 'E_HTTP_FRAMING', p.reason, -1);
        sawChunked = true;
        body = 'chunked';
        length = 0;
        break;
      }
      case FIELD_CONNECTION: {
        let j = vs;
        while (j <= ve) {
          const s = j;
          while (j < ve && CLASS[raw[j] as number]! & TOKEN) j++;
          const e = j;
          while (j < ve && CLASS[raw[j] as number]! & WS) j++;
          if (j < ve && raw[j] !== 0x2c) return httpError(400, 'E_HTTP_HEADER', 'Connection is not a list of tokens', -1);
          if (eqLower(raw, s, e, CLOSE)) close = true;
          else if (eqLower(raw, s, e, KEEP_ALIVE)) keepAliveToken = true;
          else if (eqLower(raw, s, e, UPGRADE)) upgradeToken = true;
          j++;
          while (j < ve && CLASS[raw[j] as number]! & WS) j++;
        }
        break;
      }
      case FIELD_UPGRADE: {
        const v = head.valueAt(i);
        upgrade = upgrade === undefined ? v : `${upgrade}, ${v}`;
        break;
      }
      case FIELD_EXPECT:
        if (!eqLower(raw, vs, ve, CONTINUE)) return httpError(417, 'E_HTTP_EXPECT', 'only Expect: 100-continue is understood', -1);
        expectContinue = true;
        break;
    }
  }
  const keepAlive = !close && (head.version === '1.1' || keepAliveToken);
  // RFC 9110 7.8: Upgrade counts only with the upgrade connection option, and never in HTTP/1.0.
  if (!upgradeToken || head.version === '1.0') upgrade = undefined;
  return { kind: 'framing', body, length, keepAlive, upgrade, expectContinue };
}
