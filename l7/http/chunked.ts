/**
 * Incremental decoder of a chunked request body (RFC 9112 7.1): chunk-size in hex, chunk extensions checked
 * for syntax and bounded, CRLF exactly after each chunk's data, the last chunk, a bounded trailer section
 * under the head's field-line rules, and the final CRLF. It reads the body in whatever pieces the socket
 * gives, reports each run of data bytes as a range of the piece, and stops exactly at the message's last byte,
 * so the next request on the connection starts at `next`.
 */
import { CLASS, CR, FIELD, HEX, HTAB, LF, QDTEXT, SP, TOKEN, WS, hexValue } from './chars.ts';
import { httpError, type HttpError } from './types.ts';

export interface ChunkedLimits {
  /** Bytes of chunk-ext on one chunk line. */
  readonly maxExtensionBytes: number;
  /** Bytes of the trailer section (field lines and final CRLF). */
  readonly maxTrailerBytes: number;
  readonly maxTrailerCount: number;
}

export const DEFAULT_CHUNKED_LIMITS: ChunkedLimits = Object.freeze({ maxExtensionBytes: 1024, maxTrailerBytes: 8192, maxTrailerCount: 32 });

/** Called with each run of decoded data: buf[start, end) of the piece being decoded. */
export type ChunkDataSink = (buf: Buffer, start: number, end: number) => void;

export interface ChunkedMore {
  readonly kind: 'more';
}
export interface ChunkedDone {
  readonly kind: 'done';
  /** Offset in the piece of the first byte after the message (the next request's first byte). */
  readonly next: number;
}
export type ChunkedResult = ChunkedMore | ChunkedDone | HttpError;

const MORE: ChunkedMore = Object.freeze({ kind: 'more' });
/** 16 hex digits with leading zeros; the value itself must stay within 2^53 - 1. */
const MAX_SIZE_DIGITS = 16;
const MAX_SIZE_BEFORE_SHIFT = Math.floor(Number.MAX_SAFE_INTEGER / 16);

const S_SIZE_START = 0;
const S_SIZE = 1;
const S_EXT_BWS = 2; // BWS after the size or a value, before ';'
const S_EXT_NAME_START = 3;
const S_EXT_NAME = 4;
const S_EXT_AFTER_NAME = 5;
const S_EXT_VALUE_START = 6;
const S_EXT_TOKEN = 7;
const S_EXT_QUOTED = 8;
const S_EXT_QUOTED_PAIR = 9;
const S_EXT_AFTER_QUOTED = 10;
const S_SIZE_LF = 11;
const S_DATA = 12;
const S_DATA_CR = 13;
const S_DATA_LF = 14;
const S_TRAILER_START = 15;
const S_TRAILER_NAME = 16;
const S_TRAILER_OWS = 17;
const S_TRAILER_VALUE = 18;
const S_TRAILER_LF = 19;
const S_END_LF = 20;
const S_FINISHED = 21;

/** Decodes one chunked body; reset() before the next one on the same connection. */
export class ChunkedDecoder {
  readonly #limits: ChunkedLimits;
  #state = S_SIZE_START;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #extBytes = 0;
  #trailerBytes = 0;
  #trailerCount = 0;
  /** Bytes of data decoded so far. */
  bodyBytes = 0;

  constructor(limits: ChunkedLimits = DEFAULT_CHUNKED_LIMITS) {
    this.#limits = limits;
  }

  reset(): void {
    this.#state = S_SIZE_START;
    this.#extBytes = this.#trailerBytes = this.#trailerCount = 0;
    this.bodyBytes = 0;
  }

  /** Number of trailer field lines seen. */
  get trailerCount(): number {
    return this.#trailerCount;
  }

  /**
   * Decodes buf[start, end), calling onData for each data run. Returns 'more' (all bytes belong to the body),
   * 'done' with the offset after the body, or an error at the first byte that breaks the grammar: nothing
   * after that byte may be forwarded, and the connection must not be reused.
   */
  decode(buf: Buffer, start = 0, end: number = buf.length, onData?: ChunkDataSink): ChunkedResult {
    let state = this.#state;
    if (state === S_FINISHED) return httpError(400, 'E_HTTP_CHUNKED', 'decoder used again without reset()', -1);
    const limits = this.#limits;
    let i = start;
    while (i < end) {
      const c = buf[i] as number;
      switch (state) {
        case S_SIZE_START:
          if (!(CLASS[c]! & HEX)) return this.#fail(c === CR || c === LF ? 'empty chunk-size' : 'chunk-size is not hexadecimal', i);
          this.#size = hexValue(c);
          this.#digits = 1;
          this.#extBytes = 0;
          state = S_SIZE;
          i++;
          continue;
        case S_SIZE:
          if (CLASS[c]! & HEX) {
            if (++this.#digits > MAX_SIZE_DIGITS || this.#size > MAX_SIZE_BEFORE_SHIFT) return this.#fail('chunk-size too large', i);
            this.#size = this.#size * 16 + hexValue(c);
            i++;
            continue;
          }
          if (c === CR) { state = S_SIZE_LF; i++; continue; }
          if (c === 0x3b) { state = S_EXT_NAME_START; i++; continue; }
          if (c === SP || c === HTAB) { state = S_EXT_BWS; i++; continue; }
          return this.#fail('junk after chunk-size', i);
        case S_EXT_BWS:
          if (++this.#extBytes > limits.maxExtensionBytes) return this.#fail('chunk extension too long', i);
          if (c === SP || c === HTAB) { i++; continue; }
          // Whitespace is allowed only before a ';' (BWS); trailing whitespace before CRLF is not chunk-ext.
          if (c === 0x3b) { state = S_EXT_NAME_START; i++; continue; }
          return this.#fail('whitespace after chunk-size without a chunk extension', i);
        case S_EXT_NAME_START:
          if (++this.#extBytes > limits.maxExtensionBytes) return this.#fail('chunk extension too long', i);
          if (c === SP || c === HTAB) { i++; continue; }
          if (CLASS[c]! & TOKEN) { state = S_EXT_NAME; i++; continue; }
          return this.#fail('chunk extension without a name', i);
        case S_EXT_NAME:
        case S_EXT_TOKEN:
          if (++this.#extBytes > limits.maxExtensionBytes) return this.#fail('chunk extension too long', i);
          if (CLASS[c]! & TOKEN) { i++; continue; }
          if (c === CR) { state = S_SIZE_LF; i++; continue; }
          if (c === 0x3b) { state = S_EXT_NAME_START; i++; continue; }
          if (c === SP || c === HTAB) { state = state === S_EXT_NAME ? S_EXT_AFTER_NAME : S_EXT_BWS; i++; continue; }
          if (c === 0x3d && state === S_EXT_NAME) { state = S_EXT_VALUE_START; i++; continue; }
          return this.#fail('malformed chunk extension', i);
        case S_EXT_AFTER_NAME:
          if (++this.#extBytes > limits.maxExtensionBytes) return this.#fail('chunk extension too long', i);
          if (c === SP || c === HTAB) { i++; continue; }
          if (c === 0x3d) { state = S_EXT_VALUE_START; i++; continue; }
          if (c === 0x3b) { state = S_EXT_NAME_START; i++; continue; }
          return this.#fail('malformed chunk extension', i);
        case S_EXT_VALUE_START:
          if (++this.#extBytes > limits.maxExtensionBytes) return this.#fail('chunk extension too long', i);
          if (c === SP || c === HTAB) { i++; continue; }
          if (c === 0x22) { state = S_EXT_QUOTED; i++; continue; }
          if (CLASS[c]! & TOKEN) { state = S_EXT_TOKEN; i++; continue; }
          return this.#fail('chunk extension without a value after =', i);
        case S_EXT_QUOTED:
          if (++this.#extBytes > limits.maxExtensionBytes) return this.#fail('chunk extension too long', i);
          if (c === 0x22) { state = S_EXT_AFTER_QUOTED; i++; continue; }
          if (c === 0x5c) { state = S_EXT_QUOTED_PAIR; i++; continue; }
          if (CLASS[c]! & QDTEXT) { i++; continue; }
          return this.#fail('byte not allowed in a quoted chunk extension value', i);
        case S_EXT_QUOTED_PAIR:
          if (++this.#extBytes > limits.maxExtensionBytes) return this.#fail('chunk extension too long', i);
          if (!(CLASS[c]! & FIELD)) return this.#fail('byte not allowed in a quoted chunk extension value', i);
          state = S_EXT_QUOTED;
          i++;
          continue;
        case S_EXT_AFTER_QUOTED:
          if (++this.#extBytes > limits.maxExtensionBytes) return this.#fail('chunk extension too long', i);
          if (c === CR) { state = S_SIZE_LF; i++; continue; }
          if (c === 0x3b) { state = S_EXT_NAME_START; i++; continue; }
          if (c === SP || c === HTAB) { state = S_EXT_BWS; i++; continue; }
          return this.#fail('junk after a quoted chunk extension value', i);
        case S_SIZE_LF:
          if (c !== LF) return this.#fail('CR without LF after chunk-size', i);
          i++;
          if (this.#size === 0) {
            state = S_TRAILER_START;
          } else {
            this.#remaining = this.#size;
            state = S_DATA;
          }
          continue;
        case S_DATA: {
          const n = Math.min(this.#remaining, end - i);
          if (onData) onData(buf, i, i + n);
          this.bodyBytes += n;
          this.#remaining -= n;
          i += n;
          if (this.#remaining === 0) state = S_DATA_CR;
          continue;
        }
        case S_DATA_CR:
          if (c !== CR) return this.#fail('chunk data longer than its chunk-size (CRLF expected)', i);
          state = S_DATA_LF;
          i++;
          continue;
        case S_DATA_LF:
          if (c !== LF) return this.#fail('CR without LF after chunk data', i);
          state = S_SIZE_START;
          i++;
          continue;
        case S_TRAILER_START:
          if (++this.#trailerBytes > limits.maxTrailerBytes) return this.#fail('trailer section too large', i);
          if (c === CR) { state = S_END_LF; i++; continue; }
          if (CLASS[c]! & TOKEN) {
            if (this.#trailerCount >= limits.maxTrailerCount) return this.#fail('too many trailer fields', i);
            state = S_TRAILER_NAME;
            i++;
            continue;
          }
          return this.#fail(c === SP || c === HTAB ? 'obs-fold in the trailer section' : 'a trailer field name must be a token', i);
        case S_TRAILER_NAME:
          if (++this.#trailerBytes > limits.maxTrailerBytes) return this.#fail('trailer section too large', i);
          if (CLASS[c]! & TOKEN) { i++; continue; }
          if (c === 0x3a) { state = S_TRAILER_OWS; i++; continue; }
          return this.#fail('malformed trailer field name', i);
        case S_TRAILER_OWS:
        case S_TRAILER_VALUE:
          if (++this.#trailerBytes > limits.maxTrailerBytes) return this.#fail('trailer section too large', i);
          if (CLASS[c]! & FIELD) { i++; continue; }
          if (c === CR) { state = S_TRAILER_LF; i++; continue; }
          return this.#fail('byte not allowed in a trailer field value', i);
        case S_TRAILER_LF:
          if (++this.#trailerBytes > limits.maxTrailerBytes) return this.#fail('trailer section too large', i);
          if (c !== LF) return this.#fail('CR without LF in the trailer section', i);
          this.#trailerCount++;
          state = S_TRAILER_START;
          i++;
          continue;
        case S_END_LF:
          if (c !== LF) return this.#fail('CR without LF at the end of the chunked body', i);
          this.#state = S_FINISHED;
          return { kind: 'done', next: i + 1 };
      }
    }
    this.#state = state;
    return MORE;
  }

  #fail(reason: string, at: number): HttpError {
    this.#state = S_FINISHED;
    return httpError(400, 'E_HTTP_CHUNKED', reason, at);
  }
}
