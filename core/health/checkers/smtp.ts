import { connect } from 'node:net';
import { hostname } from 'node:os';
import type { Endpoint } from '../../address.ts';
import type { Checker, CheckResult } from '../checker.ts';
import type { SmtpCheckSpec } from '../spec.ts';
import { describeError, fail, pass, settleOnce } from './result.ts';

/** Longest reply (all its lines) accepted; a greeting or HELO answer is a few lines, anything longer is not SMTP. */
export const MAX_REPLY = 8 * 1024;

/** One SMTP reply decoded from the front of the received text, or why not yet. */
export type DecodedReply =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'malformed'; readonly why: string }
  | { readonly kind: 'reply'; readonly code: number; readonly text: string; readonly rest: string };

/**
 * Decodes one reply (RFC 5321 4.2) from text received so far: lines of `ddd-text` continue, a line of `ddd text`
 * or `ddd` ends it; every line must carry the same code. Accepts bare LF as well as CRLF, as lenient clients do.
 */
export function decodeReply(received: string): DecodedReply {
  let at = 0;
  let code: number | undefined;
  const lines: string[] = [];
  for (;;) {
    const nl = received.indexOf('\n', at);
    if (nl < 0) return received.length > MAX_REPLY ? { kind: 'malformed', why: 'reply too long' } : { kind: 'need-more' };
    if (nl > MAX_REPLY) return { kind: 'malformed', why: 'reply too long' };
    const line = received.slice(at, received[nl - 1] === '\r' ? nl - 1 : nl);
    at = nl + 1;
    const m = /^([2-5]\d\d)([ -]|$)(.*)$/.exec(line);
    if (!m) return { kind: 'malformed', why: `malformed reply ${JSON.stringify(line.slice(0, 24))}` };
    const lineCode = Number(m[1]);
    if (code !== undefined && lineCode !== code) return { kind: 'malformed', why: `reply code changed from ${code} to ${lineCode}` };
    code = lineCode;
    lines.push(m[3] ?? '');
    if (m[2] !== '-') return { kind: 'reply', code, text: lines.join('\n'), rest: received.slice(at) };
  }
}

/** Where the dialogue is: waiting for the greeting, or for the answer to HELO. */
export type SmtpState = 'greeting' | 'helo';

/** What to do after a reply: write `send` (if any), then end with `result` (if any) or wait in `state`. */
export interface SmtpStep {
  readonly state: SmtpState;
  readonly send?: string;
  readonly result?: CheckResult;
}

/** Keepalived SMTP_CHECK as a pure step: 220 greeting → HELO → 250 passes; any other code fails; QUIT either way. */
export function smtpStep(state: SmtpState, code: number, helo: string): SmtpStep {
  if (state === 'greeting') {
    return code === 220 ? { state: 'helo', send: `HELO ${helo}\r\n` } : { state, send: 'QUIT\r\n', result: fail(`greeting ${code}`) };
  }
  return { state, send: 'QUIT\r\n', result: code === 250 ? pass('HELO accepted') : fail(`HELO answered ${code}`) };
}

/** Keepalived SMTP_CHECK: reads the 220 greeting, says HELO (the configured name or this host's), expects 250, QUITs. */
export class SmtpChecker implements Checker {
  readonly #spec: SmtpCheckSpec;

  constructor(spec: SmtpCheckSpec) {
    this.#spec = spec;
  }

  check(target: Endpoint, signal: AbortSignal): Promise<CheckResult> {
    const helo = this.#spec.helo ?? hostname();
    return settleOnce(signal, this.#spec.timeoutMs, (done) => {
      const socket = connect({ host: target.host, port: target.port });
      let state: SmtpState = 'greeting';
      let received = '';
      /** Set once the dialogue has decided: whatever the socket does while QUIT goes out no longer matters. */
      let verdict: CheckResult | undefined;
      socket.setEncoding('latin1');
      socket.on('error', (err) => done(verdict ?? fail(describeError(err))));
      socket.on('end', () => done(verdict ?? fail(state === 'greeting' ? 'closed before greeting' : 'closed after HELO')));
      socket.on('data', (chunk: string) => {
        if (verdict !== undefined) return;
        received += chunk;
        for (;;) {
          const decoded = decodeReply(received);
          if (decoded.kind === 'need-more') return;
          if (decoded.kind === 'malformed') return done(fail(decoded.why));
          received = decoded.rest;
          const next = smtpStep(state, decoded.code, helo);
          state = next.state;
          if (next.result !== undefined) {
            const result = next.result;
            verdict = result;
            // Resolve once QUIT has been handed to the kernel, so the server sees a polite goodbye.
            socket.end(next.send ?? '', () => done(result));
            return;
          }
          if (next.send !== undefined) socket.write(next.send);
        }
      });
      return () => socket.destroy();
    });
  }
}
