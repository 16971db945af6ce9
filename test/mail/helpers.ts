// Script runner for the mail dialogues: feed events, collect actions as readable records, and re-run a script with
// each client-bytes event split at every offset to check the dialogue does not depend on how reads were cut.
import assert from 'node:assert/strict';
import type { LookupAnswer, MailAction, MailEvent, Step } from '../../l7/mail/types.ts';

export interface Machine<S> {
  start(): Step<S>;
  step(state: S, event: MailEvent): Step<S>;
}

/** An action as a test reads it: bytes as latin1 text; consecutive sends to one side merged. */
export type Said = { readonly type: string; readonly text?: string; readonly user?: string; readonly server?: string; readonly toBackend?: string; readonly toClient?: string };

const t = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

export function said(actions: readonly MailAction[]): Said[] {
  const out: Said[] = [];
  for (const a of actions) {
    const last = out[out.length - 1];
    if ((a.type === 'send-to-client' || a.type === 'send-to-backend' || a.type === 'stream-to-backend') && last?.type === a.type) {
      out[out.length - 1] = { type: a.type, text: (last.text ?? '') + t(a.bytes) };
      continue;
    }
    switch (a.type) {
      case 'send-to-client': case 'send-to-backend': case 'stream-to-backend': out.push({ type: a.type, text: t(a.bytes) }); break;
      case 'close-backend': out.push(a.farewell === undefined ? { type: a.type } : { type: a.type, text: t(a.farewell) }); break;
      case 'lookup': out.push({ type: a.type, user: t(a.user) }); break;
      case 'connect-backend': out.push({ type: a.type, server: a.server }); break;
      case 'start-piping': out.push({ type: a.type, toBackend: t(a.toBackend), toClient: t(a.toClient) }); break;
      case 'close': out.push({ type: a.type }); break;
      default: out.push({ type: a.type });
    }
  }
  return out;
}

/** Event shorthands. */
export const c = (text: string | Uint8Array): MailEvent => ({ type: 'client-bytes', bytes: typeof text === 'string' ? Buffer.from(text, 'latin1') : text });
export const b = (text: string): MailEvent => ({ type: 'backend-bytes', bytes: Buffer.from(text, 'latin1') });
export const found = (server: string): MailEvent => ({ type: 'lookup-result', answer: { kind: 'server', server } });
export const answer = (a: LookupAnswer): MailEvent => ({ type: 'lookup-result', answer: a });
export const tlsUp: MailEvent = { type: 'tls-started' };

/** Runs a script from the start; returns the final state and all actions (greeting included). */
export function run<S>(m: Machine<S>, events: readonly MailEvent[]): { state: S; actions: MailAction[] } {
  let { state, actions } = m.start();
  const all = [...actions];
  for (const e of events) {
    const r = m.step(state, e);
    state = r.state;
    all.push(...r.actions);
  }
  return { state, actions: all };
}

/** What the dialogue did after its greeting, as one readable trace. */
export function trace<S>(m: Machine<S>, events: readonly MailEvent[]): Said[] {
  return said(run(m, events).actions.slice(m.start().actions.length));
}

/** The greeting's text. */
export function greeting<S>(m: Machine<S>): string {
  return said(m.start().actions)[0]?.text ?? '';
}

/** Checks that splitting every client-bytes event at every offset (and byte by byte) leaves the trace as it was. */
export function assertSplitSafe<S>(m: Machine<S>, events: readonly MailEvent[]): void {
  const whole = trace(m, events);
  events.forEach((e, i) => {
    if (e.type !== 'client-bytes') return;
    for (let k = 1; k < e.bytes.length; k++) {
      const split: MailEvent[] = [...events.slice(0, i), c(e.bytes.subarray(0, k)), c(e.bytes.subarray(k)), ...events.slice(i + 1)];
      assert.deepEqual(trace(m, split), whole, `split at ${k} of event ${i}`);
    }
    const bytes = [...e.bytes].map((x) => c(Uint8Array.of(x)));
    assert.deepEqual(trace(m, [...events.slice(0, i), ...bytes, ...events.slice(i + 1)]), whole, `event ${i} byte by byte`);
  });
}

export function b64(text: string | Uint8Array): string {
  return Buffer.from(typeof text === 'string' ? Buffer.from(text, 'latin1') : text).toString('base64');
}
