// Test-only driver: runs bytes received on one client connection through the codecs as a proxy would —
// head, framing, body, next request — and records what would have been forwarded and how it ended.
import { ChunkedDecoder } from '../../l7/http/chunked.ts';
import { requestFraming, type Framing } from '../../l7/http/framing.ts';
import { RequestHeadParser, type HeadLimits, type RequestHead } from '../../l7/http/request-head.ts';
import type { HttpError } from '../../l7/http/types.ts';

export interface DrivenRequest {
  readonly head: RequestHead;
  readonly framing: Framing;
  readonly body: Buffer;
}

export interface DriveOutcome {
  readonly requests: DrivenRequest[];
  /** clean: every byte used; need-more: waiting inside a message; error: refused; upgrade: rest is a tunnel. */
  readonly end: 'clean' | 'need-more' | 'error' | 'upgrade';
  /** Where the error came: before any head was forwarded, inside a body, or as bytes after a closing request. */
  readonly phase?: 'head' | 'body' | 'after-close';
  readonly error?: HttpError;
}

/** One client connection's bytes, fed in any pieces; the outcome must not depend on the pieces. */
export class Conversation {
  readonly #heads: RequestHeadParser;
  readonly #chunked = new ChunkedDecoder();
  #pending: Buffer = Buffer.alloc(0);
  #state: 'head' | 'length' | 'chunked' | 'stopped' = 'head';
  #remaining = 0;
  #closing = false;
  #head: RequestHead | undefined;
  #framing: Framing | undefined;
  #body: Buffer[] = [];
  #requests: DrivenRequest[] = [];
  #end: DriveOutcome['end'] = 'clean';
  #phase: DriveOutcome['phase'];
  #error: HttpError | undefined;

  constructor(limits?: HeadLimits) {
    this.#heads = new RequestHeadParser(limits);
  }

  feed(chunk: Buffer): void {
    if (this.#state === 'stopped') return;
    const data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = Buffer.alloc(0);
    let pos = 0;
    for (;;) {
      if (this.#stopped()) return;
      if (this.#state === 'head') {
        if (pos === data.length) return;
        if (this.#closing) return this.#stop('error', 'after-close', undefined);
        const r = this.#heads.parse(data, pos, data.length);
        if (r.kind === 'need-more') {
          this.#pending = Buffer.from(data.subarray(pos));
          return;
        }
        if (r.kind === 'error') return this.#stop('error', 'head', r);
        const framing = requestFraming(r.head);
        if (framing.kind === 'error') return this.#stop('error', 'head', framing);
        this.#heads.reset();
        pos += r.head.consumed;
        this.#head = r.head;
        this.#framing = framing;
        this.#body = [];
        if (framing.body === 'none') this.#complete();
        else if (framing.body === 'length') { this.#remaining = framing.length; this.#state = 'length'; }
        else { this.#chunked.reset(); this.#state = 'chunked'; }
      } else if (this.#state === 'length') {
        const n = Math.min(this.#remaining, data.length - pos);
        this.#body.push(Buffer.from(data.subarray(pos, pos + n)));
        pos += n;
        this.#remaining -= n;
        if (this.#remaining > 0) return;
        this.#complete();
      } else {
        const r = this.#chunked.decode(data, pos, data.length, (b, s, e) => { this.#body.push(Buffer.from(b.subarray(s, e))); });
        if (r.kind === 'more') return;
        if (r.kind === 'error') return this.#stop('error', 'body', r);
        pos = r.next;
        this.#complete();
      }
    }
  }

  outcome(): DriveOutcome {
    const end = this.#state === 'stopped' ? this.#end : this.#state === 'head' && this.#pending.length === 0 ? 'clean' : 'need-more';
    return { requests: this.#requests, end, ...(this.#phase ? { phase: this.#phase } : {}), ...(this.#error ? { error: this.#error } : {}) };
  }

  #stopped(): boolean {
    return this.#state === 'stopped';
  }

  #complete(): void {
    const framing = this.#framing as Framing;
    this.#requests.push({ head: this.#head as RequestHead, framing, body: Buffer.concat(this.#body) });
    this.#state = 'head';
    if (framing.upgrade !== undefined) this.#stop('upgrade', undefined, undefined);
    else if (!framing.keepAlive) this.#closing = true;
  }

  #stop(end: DriveOutcome['end'], phase: DriveOutcome['phase'], error: HttpError | undefined): void {
    this.#state = 'stopped';
    this.#end = end;
    this.#phase = phase;
    this.#error = error;
  }
}

/** Runs bytes through a fresh conversation, split at the given offsets. */
export function drive(bytes: Buffer, splits: readonly number[] = [], limits?: HeadLimits): DriveOutcome {
  const c = new Conversation(limits);
  let at = 0;
  for (const s of [...splits, bytes.length]) {
    c.feed(bytes.subarray(at, s));
    at = s;
  }
  return c.outcome();
}

export type Verdict = 'accept' | 'reject' | 'reject-body' | 'incomplete' | 'first-then-reject';

/** The corpus vocabulary's name for an outcome. */
export function verdictOf(o: DriveOutcome): Verdict {
  if (o.end === 'error') {
    if (o.requests.length > 0) return 'first-then-reject';
    return o.phase === 'body' ? 'reject-body' : 'reject';
  }
  return o.requests.length === 0 ? 'incomplete' : 'accept';
}
