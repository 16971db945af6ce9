/** Results shared by the HTTP/1.1 request codecs (request-head, framing, chunked). */
import type { ErrorCode } from '../../core/errors.ts';

/** A refusal: the status to answer, a stable code, a short reason for the log, and the offending byte's offset. */
export interface HttpError {
  readonly kind: 'error';
  readonly status: 400 | 414 | 417 | 431 | 501 | 505;
  readonly code: ErrorCode;
  readonly reason: string;
  /** Offset in the buffer passed in (absolute) of the byte that decided, or -1 when no single byte did. */
  readonly at: number;
}

/** The caller should read more bytes and call again. One frozen instance: need-more allocates nothing. */
export interface NeedMore { readonly kind: 'need-more' }
export const NEED_MORE: NeedMore = Object.freeze({ kind: 'need-more' });

/** Builds an HttpError (cold path only). */
export function httpError(status: HttpError['status'], code: ErrorCode, reason: string, at: number): HttpError {
  return { kind: 'error', status, code, reason, at };
}

/** What a field line is, as the head parser classifies its name: framing and routing read only these. */
export const FIELD_OTHER = 0;
export const FIELD_HOST = 1;
export const FIELD_CONTENT_LENGTH = 2;
export const FIELD_TRANSFER_ENCODING = 3;
export const FIELD_CONNECTION = 4;
export const FIELD_UPGRADE = 5;
export const FIELD_EXPECT = 6;
