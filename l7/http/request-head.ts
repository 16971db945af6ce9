/**
 * Incremental, strict parser of an HTTP/1.1 request head (RFC 9112 2-5, RFC 9110 5, 7.2). It walks the bytes
 * once as a state machine that can stop at any byte and resume, judging each byte when it arrives: garbage is
 * refused at the first bad byte, and the outcome never depends on how the bytes were split into reads.
 *
 * The caller passes the bytes received so far for this message (an append-only buffer, `start` fixed); only
 * the unexamined tail is read again. Nothing is copied: the head keeps offsets into `raw` (a view of the
 * caller's buffer, forwardable as is) and makes strings only when asked. docs/http-parsing.md lists every rule.
 */
import { authorityProblem } from './authority.ts';
import { CLASS, COLON, CR, FIELD, HTAB, LF, SP, TOKEN, eqLower, lowerBytes } from './chars.ts';
import { parseContentLength, transferEncodingProblem } from './framing.ts';
import {
  FIELD_CONNECTION, FIELD_CONTENT_LENGTH, FIELD_EXPECT, FIELD_HOST, FIELD_OTHER, FIELD_TRANSFER_ENCODING, FIELD_UPGRADE,
  NEED_MORE, httpError, type HttpError, type NeedMore,
} from './types.ts';

/** Bounds on one head; each refusal names the one exceeded (414 target, 431 head or field count). */
export interface HeadLimits {
  /** Bytes from the first byte (leading empty lines included) to the end of the blank line. */
  readonly maxHeadBytes: number;
  readonly maxHeaderCount: number;
  readonly maxTargetLength: number;
}

/** Node's and HAProxy's order of magnitude: 16 KiB of head, 100 fields, 8 KiB of target. */
export const DEFAULT_HEAD_LIMITS: HeadLimits = Object.freeze({ maxHeadBytes: 16384, maxHeaderCount: 100, maxTargetLength: 8192 });

/** origin `/p?q`, absolute `http://h/p`, asterisk `*` (OPTIONS only). Authority-form (CONNECT) is refused. */
export type TargetForm = 'origin' | 'absolute' | 'asterisk';

export interface HeadDone {
  readonly kind: 'head';
  readonly head: RequestHead;
}

export type HeadResult = NeedMore | HeadDone | HttpError;

/** Methods are tokens; 32 bytes is far above any registered method and bounds the scan before a target. */
const MAX_METHOD = 32;
const FIELDS_PER_LINE = 5;

const S_LEAD = 0;
const S_LEAD_LF = 1;
const S_METHOD = 2;
const S_TARGET = 3;
const S_VERSION = 4;
const S_LINE_START = 5;
const S_NAME = 6;
const S_OWS = 7;
const S_VALUE = 8;
const S_VALUE_LF = 9;
const S_END_LF = 10;
const S_FINISHED = 11;

const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f];
const CONNECT = Buffer.from('CONNECT', 'latin1');
const OPTIONS = Buffer.from('OPTIONS', 'latin1');
const HTTP = lowerBytes('http');
const HTTPS = lowerBytes('https');
const N_HOST = lowerBytes('host');
const N_EXPECT = lowerBytes('expect');
const N_UPGRADE = lowerBytes('upgrade');
const N_CONNECTION = lowerBytes('connection');
const N_CONTENT_LENGTH = lowerBytes('content-length');
const N_TRANSFER_ENCODING = lowerBytes('transfer-encoding');

/** The field kind of the name buf[s, e): a length switch first, so most names cost one comparison. */
function classify(buf: Uint8Array, s: number, e: number): number {
  switch (e - s) {
    case 4: return eqLower(buf, s, e, N_HOST) ? FIELD_HOST : FIELD_OTHER;
    case 6: return eqLower(buf, s, e, N_EXPECT) ? FIELD_EXPECT : FIELD_OTHER;
    case 7: return eqLower(buf, s, e, N_UPGRADE) ? FIELD_UPGRADE : FIELD_OTHER;
    case 10: return eqLower(buf, s, e, N_CONNECTION) ? FIELD_CONNECTION : FIELD_OTHER;
    case 14: return eqLower(buf, s, e, N_CONTENT_LENGTH) ? FIELD_CONTENT_LENGTH : FIELD_OTHER;
    case 17: return eqLower(buf, s, e, N_TRANSFER_ENCODING) ? FIELD_TRANSFER_ENCODING : FIELD_OTHER;
    default: return FIELD_OTHER;
  }
}

function eqExact(buf: Uint8Array, s: number, e: number, lit: Uint8Array): boolean {
  if (e - s !== lit.length) return false;
  for (let k = 0; k < lit.length; k++) if (buf[s + k] !== lit[k]) return false;
  return true;
}

function valueByteReason(c: number): string {
  if (c === LF) return 'bare LF in a field line (CRLF required)';
  if (c === 0) return 'NUL in a field value';
  return `control byte 0x${c.toString(16).padStart(2, '0')} in a field value`;
}

/** Common methods as constants, so the usual request makes no method string. */
function methodString(raw: Buffer, end: number): string {
  const c = raw[0];
  switch (end) {
    case 3:
      if (c === 0x47 && raw[1] === 0x45 && raw[2] === 0x54) return 'GET';
      if (c === 0x50 && raw[1] === 0x55 && raw[2] === 0x54) return 'PUT';
      break;
    case 4:
      if (c === 0x50 && raw[1] === 0x4f && raw[2] === 0x53 && raw[3] === 0x54) return 'POST';
      if (c === 0x48 && raw[1] === 0x45 && raw[2] === 0x41 && raw[3] === 0x44) return 'HEAD';
      break;
  }
  return raw.toString('latin1', 0, end);
}

/**
 * One parsed head. Offsets are into `raw`, which starts at the request line (leading empty lines skipped) and
 * ends after the blank line; `consumed` counts from the first byte passed in, skipped lines included.
 * `raw` is a view of the caller's buffer: copy it before that buffer is reused.
 */
export class RequestHead {
  readonly raw: Buffer;
  readonly consumed: number;
  readonly version: '1.0' | '1.1';
  readonly form: TargetForm;
  readonly headerCount: number;
  readonly #f: readonly number[];
  readonly #methodEnd: number;
  readonly #targetStart: number;
  readonly #targetEnd: number;
  readonly #authStart: number;
  readonly #authEnd: number;
  readonly #hostIndex: number;
  #method: string | undefined;
  #target: string | undefined;

  constructor(
    raw: Buffer, consumed: number, version: '1.0' | '1.1', form: TargetForm, fields: readonly number[],
    methodEnd: number, targetStart: number, targetEnd: number, authStart: number, authEnd: number, hostIndex: number,
  ) {
    this.raw = raw;
    this.consumed = consumed;
    this.version = version;
    this.form = form;
    this.#f = fields;
    this.headerCount = fields.length / FIELDS_PER_LINE;
    this.#methodEnd = methodEnd;
    this.#targetStart = targetStart;
    this.#targetEnd = targetEnd;
    this.#authStart = authStart;
    this.#authEnd = authEnd;
    this.#hostIndex = hostIndex;
  }

  /** The method, case as sent (methods are case-sensitive). */
  get method(): string {
    return (this.#method ??= methodString(this.raw, this.#methodEnd));
  }

  /** The request-target as sent. */
  get target(): string {
    return (this.#target ??= this.raw.toString('latin1', this.#targetStart, this.#targetEnd));
  }

  /**
   * The authority the request is for: the target's for absolute-form (RFC 9112 3.2.2: the Host field is then
   * ignored, and a proxy must send the target's authority as Host), else the Host value ('' for HTTP/1.0 without Host).
   */
  get authority(): string {
    if (this.#authStart >= 0) return this.raw.toString('latin1', this.#authStart, this.#authEnd);
    return this.#hostIndex >= 0 ? this.valueAt(this.#hostIndex) : '';
  }

  /** Field kind of field i (FIELD_* in types.ts). */
  kindAt(i: number): number { return this.#f[i * FIELDS_PER_LINE + 4] as number; }
  nameStartAt(i: number): number { return this.#f[i * FIELDS_PER_LINE] as number; }
  nameEndAt(i: number): number { return this.#f[i * FIELDS_PER_LINE + 1] as number; }
  /** Value offsets in raw, without the surrounding OWS. */
  valueStartAt(i: number): number { return this.#f[i * FIELDS_PER_LINE + 2] as number; }
  valueEndAt(i: number): number { return this.#f[i * FIELDS_PER_LINE + 3] as number; }

  /** Field name i as sent. */
  nameAt(i: number): string {
    return this.raw.toString('latin1', this.nameStartAt(i), this.nameEndAt(i));
  }

  /** Field name i in lower case (names are case-insensitive). */
  lowerNameAt(i: number): string {
    return this.nameAt(i).toLowerCase();
  }

  /** Field value i, each byte one latin1 character (obs-text kept byte for byte). */
  valueAt(i: number): string {
    return this.raw.toString('latin1', this.valueStartAt(i), this.valueEndAt(i));
  }

  /** The first value of the field named `lowerName` (lower case), without making strings for other names. */
  get(lowerName: string): string | undefined {
    const i = this.indexOf(lowerName);
    return i < 0 ? undefined : this.valueAt(i);
  }

  /** Index of the first field named `lowerName` (lower case), or -1. */
  indexOf(lowerName: string, from = 0): number {
    for (let i = from; i < this.headerCount; i++) {
      const s = this.nameStartAt(i);
      if (this.nameEndAt(i) - s === lowerName.length && eqLowerString(this.raw, s, lowerName)) return i;
    }
    return -1;
  }

  /** Every field as [name as sent, value], in order. Allocates: for logs and tests, not the hot path. */
  headers(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (let i = 0; i < this.headerCount; i++) out.push([this.nameAt(i), this.valueAt(i)]);
    return out;
  }
}

/** Case-insensitive comparison of raw bytes with a lower-case name (ASCII letters folded, nothing else). */
function eqLowerString(raw: Buffer, s: number, lowerName: string): boolean {
  for (let k = 0; k < lowerName.length; k++) {
    let c = raw[s + k] as number;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lowerName.charCodeAt(k)) return false;
  }
  return true;
}

/** Parses one request head at a time; reset() before the next request on the same connection. */
export class RequestHeadParser {
  readonly #limits: HeadLimits;
  #state = S_LEAD;
  /** Offsets below are relative to the `start` passed to parse. */
  #pos = 0;
  #base = 0;
  #methodEnd = 0;
  #targetStart = 0;
  #targetEnd = 0;
  #vpos = 0;
  #major = 0;
  #version: '1.0' | '1.1' = '1.1';
  #form: TargetForm = 'origin';
  #authStart = -1;
  #authEnd = -1;
  #nameStart = 0;
  #nameEnd = 0;
  #kind = 0;
  #valueStart = 0;
  #valueEnd = 0;
  #fields: number[] = [];
  #count = 0;
  #hostIndex = -1;
  #lengthIndex = -1;
  #codingIndex = -1;

  constructor(limits: HeadLimits = DEFAULT_HEAD_LIMITS) {
    this.#limits = limits;
  }

  /** Forgets the last request so the parser can read the next one. */
  reset(): void {
    this.#state = S_LEAD;
    this.#pos = 0;
    this.#authStart = -1;
    this.#authEnd = -1;
    this.#fields = [];
    this.#count = 0;
    this.#hostIndex = -1;
    this.#lengthIndex = -1;
    this.#codingIndex = -1;
  }

  /**
   * Reads buf[start, end): all bytes of this message received so far. Returns need-more, the head, or the
   * refusal (status 400, 414, 431, 501 or 505). After a head or an error, call reset() before parsing again.
   */
  parse(buf: Buffer, start = 0, end: number = buf.length): HeadResult {
    const limits = this.#limits;
    const stop = Math.min(end, start + limits.maxHeadBytes);
    let state = this.#state;
    if (state === S_FINISHED) return httpError(400, 'E_HTTP_REQUEST_LINE', 'parser used again without reset()', -1);
    let i = start + this.#pos;
    while (i < stop) {
      let c = buf[i] as number;
      switch (state) {
        case S_LEAD:
          // RFC 9112 2.2: empty lines before a request line are ignored (a client may send one after a body).
          if (c === CR) { state = S_LEAD_LF; i++; continue; }
          if (CLASS[c]! & TOKEN) { this.#base = i - start; state = S_METHOD; i++; continue; }
          return this.#fail(400, 'E_HTTP_REQUEST_LINE', c === LF ? 'bare LF before the request line' : 'the request line does not start with a method token', i);
        case S_LEAD_LF:
          if (c !== LF) return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'CR without LF before the request line', i);
          state = S_LEAD;
          i++;
          continue;
        case S_METHOD: {
          const mStart = start + this.#base;
          const mStop = Math.min(stop, mStart + MAX_METHOD + 1);
          while (i < mStop && CLASS[buf[i] as number]! & TOKEN) i++;
          if (i - mStart > MAX_METHOD) return this.#fail(400, 'E_HTTP_REQUEST_LINE', `method longer than ${MAX_METHOD} bytes`, i);
          if (i >= stop) break;
          c = buf[i] as number;
          if (c !== SP) return this.#fail(400, 'E_HTTP_REQUEST_LINE', c === HTAB ? 'request-line parts must be separated by single spaces' : 'the method is not a token', i);
          this.#methodEnd = i - start;
          this.#targetStart = i + 1 - start;
          state = S_TARGET;
          i++;
          continue;
        }
        case S_TARGET: {
          const tStart = start + this.#targetStart;
          const tStop = Math.min(stop, tStart + limits.maxTargetLength + 1);
          // Comparisons, not the class table, in the two loops that see most bytes: a loop of two comparisons ran twice as fast as the table lookup in isolation.
          while (i < tStop) {
            const b = buf[i] as number;
            if (b <= 0x20 || b >= 0x7f) break;
            i++;
          }
          if (i - tStart > limits.maxTargetLength) return this.#fail(414, 'E_HTTP_TOO_LARGE', `request-target longer than ${limits.maxTargetLength} bytes`, i);
          if (i >= stop) break;
          c = buf[i] as number;
          if (c !== SP) {
            const reason = c === CR || c === LF ? 'no HTTP version in the request line (HTTP/0.9 is not served)'
              : c === HTAB ? 'request-line parts must be separated by single spaces'
              : `byte 0x${c.toString(16).padStart(2, '0')} is not allowed in a request-target`;
            return this.#fail(400, 'E_HTTP_REQUEST_LINE', reason, i);
          }
          if (i === tStart) return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'empty request-target (two spaces)', i);
          this.#targetEnd = i - start;
          const bad = this.#checkTarget(buf, start, tStart, i);
          if (bad) return bad;
          this.#vpos = 0;
          state = S_VERSION;
          i++;
          continue;
        }
        case S_VERSION: {
          const v = this.#vpos;
          if (v < 5) {
            if (c !== HTTP_SLASH[v]) return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'not an HTTP-version (HTTP/1.x)', i);
          } else if (v === 5) {
            if (c < 0x30 || c > 0x39) return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'malformed HTTP-version', i);
            this.#major = c - 0x30;
          } else if (v === 6) {
            if (c !== 0x2e) return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'malformed HTTP-version', i);
          } else if (v === 7) {
            if (c < 0x30 || c > 0x39) return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'malformed HTTP-version', i);
            // Decided at the minor digit, so `HTTP/1.32` and `HTTP/5.6` end alike whatever follows.
            if (this.#major !== 1 || c > 0x31) return this.#fail(505, 'E_HTTP_VERSION', `HTTP/${this.#major}.${c - 0x30} is not served (1.0 and 1.1 are)`, i);
            this.#version = c === 0x31 ? '1.1' : '1.0';
          } else if (v === 8) {
            if (c !== CR) return this.#fail(400, 'E_HTTP_REQUEST_LINE', c === LF ? 'bare LF ends the request line (CRLF required)' : 'junk after the HTTP-version', i);
          } else {
            if (c !== LF) return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'CR without LF after the request line', i);
            state = S_LINE_START;
          }
          this.#vpos = v + 1;
          i++;
          continue;
        }
        case S_LINE_START:
          if (c === CR) { state = S_END_LF; i++; continue; }
          if (CLASS[c]! & TOKEN) {
            if (this.#count >= limits.maxHeaderCount) return this.#fail(431, 'E_HTTP_TOO_LARGE', `more than ${limits.maxHeaderCount} header fields`, i);
            this.#nameStart = i - start;
            state = S_NAME;
            i++;
            continue;
          }
          if (c === SP || c === HTAB) {
            return this.#fail(400, 'E_HTTP_HEADER', this.#count === 0 ? 'whitespace at the start of the first field line' : 'obs-fold (a field value continued on a new line) is not accepted', i);
          }
          return this.#fail(400, 'E_HTTP_HEADER', c === LF ? 'bare LF as a line end (CRLF required)' : 'a field name must be a token', i);
        case S_NAME: {
          while (i < stop && CLASS[buf[i] as number]! & TOKEN) i++;
          if (i >= stop) break;
          c = buf[i] as number;
          if (c !== COLON) {
            const reason = c === SP || c === HTAB ? 'whitespace between a field name and its colon'
              : c === CR || c === LF ? 'field line without a colon' : 'a field name must be a token';
            return this.#fail(400, 'E_HTTP_HEADER', reason, i);
          }
          const kind = classify(buf, start + this.#nameStart, i);
          if (kind !== FIELD_OTHER) {
            const bad = this.#checkRepeat(kind, i);
            if (bad) return bad;
          }
          this.#kind = kind;
          this.#nameEnd = i - start;
          state = S_OWS;
          i++;
          continue;
        }
        case S_OWS:
          while (i < stop && (buf[i] === SP || buf[i] === HTAB)) i++;
          if (i >= stop) break;
          c = buf[i] as number;
          if (c === CR) {
            this.#valueStart = this.#valueEnd = i - start;
            state = S_VALUE_LF;
            i++;
            continue;
          }
          if (!(CLASS[c]! & FIELD)) return this.#fail(400, 'E_HTTP_HEADER', valueByteReason(c), i);
          this.#valueStart = i - start;
          state = S_VALUE;
          i++;
          continue;
        case S_VALUE: {
          while (i < stop) {
            const b = buf[i] as number;
            if (b >= 0x20 ? b === 0x7f : b !== HTAB) break;
            i++;
          }
          if (i >= stop) break;
          c = buf[i] as number;
          if (c !== CR) return this.#fail(400, 'E_HTTP_HEADER', valueByteReason(c), i);
          let e = i;
          while (buf[e - 1] === SP || buf[e - 1] === HTAB) e--;
          this.#valueEnd = e - start;
          state = S_VALUE_LF;
          i++;
          continue;
        }
        case S_VALUE_LF: {
          if (c !== LF) return this.#fail(400, 'E_HTTP_HEADER', 'CR without LF in a field line', i);
          const bad = this.#commit(buf, start);
          if (bad) return bad;
          state = S_LINE_START;
          i++;
          continue;
        }
        case S_END_LF: {
          if (c !== LF) return this.#fail(400, 'E_HTTP_HEADER', 'CR without LF at the end of the head', i);
          i++;
          // RFC 9112 3.2: an HTTP/1.1 request without Host is answered 400 (HTTP/1.0 may omit it).
          if (this.#version === '1.1' && this.#hostIndex < 0) return this.#fail(400, 'E_HTTP_HOST', 'HTTP/1.1 request without Host', i - 1);
          this.#state = S_FINISHED;
          const origin = start + this.#base;
          const head = new RequestHead(
            buf.subarray(origin, i), i - start, this.#version, this.#form, this.#fields, this.#methodEnd - this.#base,
            this.#targetStart - this.#base, this.#targetEnd - this.#base,
            this.#authStart < 0 ? -1 : this.#authStart - this.#base, this.#authEnd < 0 ? -1 : this.#authEnd - this.#base, this.#hostIndex,
          );
          return { kind: 'head', head };
        }
      }
    }
    this.#state = state;
    this.#pos = i - start;
    if (end - start >= limits.maxHeadBytes) return this.#fail(431, 'E_HTTP_TOO_LARGE', `request head larger than ${limits.maxHeadBytes} bytes`, stop);
    return NEED_MORE;
  }

  #fail(status: HttpError['status'], code: HttpError['code'], reason: string, at: number): HttpError {
    this.#state = S_FINISHED;
    return httpError(status, code, reason, at);
  }

  /** Judges the target's form once it ends (RFC 9112 3.2): which form, and whether the method allows it. */
  #checkTarget(buf: Buffer, start: number, tStart: number, tEnd: number): HttpError | null {
    const mStart = start + this.#base;
    const mEnd = start + this.#methodEnd;
    const first = buf[tStart];
    if (eqExact(buf, mStart, mEnd, CONNECT)) {
      const p = authorityProblem(buf, tStart, tEnd, { needHost: true, needPort: true });
      if (p) return this.#fail(400, 'E_HTTP_REQUEST_LINE', `CONNECT target: ${p}`, tStart);
      return this.#fail(501, 'E_HTTP_METHOD', 'CONNECT is not served: yoke is a reverse proxy, not a tunnel', mStart);
    }
    if (first === 0x2f) { this.#form = 'origin'; return null; }
    if (first === 0x2a && tEnd - tStart === 1) {
      if (!eqExact(buf, mStart, mEnd, OPTIONS)) return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'asterisk-form (*) is only for OPTIONS', tStart);
      this.#form = 'asterisk';
      return null;
    }
    let colon = tStart;
    while (colon < tEnd && buf[colon] !== COLON) colon++;
    if (!(eqLower(buf, tStart, colon, HTTP) || eqLower(buf, tStart, colon, HTTPS)) || buf[colon + 1] !== 0x2f || buf[colon + 2] !== 0x2f) {
      return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'request-target is neither /path, http(s)://authority/path nor *', tStart);
    }
    const a = colon + 3;
    let ae = a;
    while (ae < tEnd) {
      const b = buf[ae];
      if (b === 0x2f || b === 0x3f || b === 0x23) break;
      if (b === 0x40) return this.#fail(400, 'E_HTTP_REQUEST_LINE', 'userinfo (user@host) in the request-target', ae);
      ae++;
    }
    const p = authorityProblem(buf, a, ae, { needHost: true, needPort: false });
    if (p) return this.#fail(400, 'E_HTTP_REQUEST_LINE', `request-target authority: ${p}`, a);
    this.#form = 'absolute';
    this.#authStart = a - start;
    this.#authEnd = ae - start;
    return null;
  }

  /** Refuses a second Host or framing field as soon as its name ends, before its value arrives. */
  #checkRepeat(kind: number, at: number): HttpError | null {
    switch (kind) {
      case FIELD_HOST:
        return this.#hostIndex >= 0 ? this.#fail(400, 'E_HTTP_HOST', 'more than one Host field', at) : null;
      case FIELD_CONTENT_LENGTH:
        if (this.#lengthIndex >= 0) return this.#fail(400, 'E_HTTP_FRAMING', 'more than one Content-Length', at);
        return this.#codingIndex >= 0 ? this.#fail(400, 'E_HTTP_FRAMING', 'Content-Length with Transfer-Encoding', at) : null;
      case FIELD_TRANSFER_ENCODING:
        if (this.#version === '1.0') return this.#fail(400, 'E_HTTP_FRAMING', 'Transfer-Encoding in an HTTP/1.0 request', at);
        if (this.#codingIndex >= 0) return this.#fail(400, 'E_HTTP_FRAMING', 'more than one Transfer-Encoding line', at);
        return this.#lengthIndex >= 0 ? this.#fail(400, 'E_HTTP_FRAMING', 'Content-Length with Transfer-Encoding', at) : null;
      default:
        return null;
    }
  }

  /** Records a finished field line; Host and framing values are judged here, as soon as the line ends. */
  #commit(buf: Buffer, start: number): HttpError | null {
    const kind = this.#kind;
    const vs = start + this.#valueStart;
    const ve = start + this.#valueEnd;
    if (kind === FIELD_HOST) {
      const p = authorityProblem(buf, vs, ve, { needHost: false, needPort: false });
      if (p) return this.#fail(400, 'E_HTTP_HOST', `invalid Host: ${p}`, vs);
      this.#hostIndex = this.#count;
    } else if (kind === FIELD_CONTENT_LENGTH) {
      if (parseContentLength(buf, vs, ve) < 0) return this.#fail(400, 'E_HTTP_FRAMING', 'Content-Length is not a decimal number within 2^53', vs);
      this.#lengthIndex = this.#count;
    } else if (kind === FIELD_TRANSFER_ENCODING) {
      const p = transferEncodingProblem(buf, vs, ve);
      if (p) return this.#fail(p.status, p.status === 501 ? 'E_HTTP_TRANSFER_CODING' : 'E_HTTP_FRAMING', p.reason, vs);
      this.#codingIndex = this.#count;
    }
    const b = this.#base;
    this.#fields.push(this.#nameStart - b, this.#nameEnd - b, this.#valueStart - b, this.#valueEnd - b, kind);
    this.#count++;
    return null;
  }
}

/** One-shot convenience: parses a head from buf[start, end) with a fresh parser. */
export function parseRequestHead(buf: Buffer, start = 0, end: number = buf.length, limits: HeadLimits = DEFAULT_HEAD_LIMITS): HeadResult {
  return new RequestHeadParser(limits).parse(buf, start, end);
}
