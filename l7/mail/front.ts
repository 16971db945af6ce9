/**
 * The event dispatch the three front dialogues share: which events count in which phase, TLS start, and the
 * rules every protocol keeps the same (nothing after close or piping; bytes during a TLS handshake are never
 * commands). Each protocol supplies its own reading, routing and replay through FrontProtocol.
 */
import { concat, EMPTY, type Credentials, type LookupAnswer, type MailAction, type MailEvent, type Step } from './types.ts';

/** `data`: SMTP message content streamed to the backend (the protocol's `stream` reads it, never held whole). */
export type Phase = 'command' | 'sasl' | 'starting-tls' | 'lookup' | 'backend' | 'data' | 'piping' | 'closed';

/** The fields the dispatch reads and writes in every protocol's state. */
export interface FrontState {
  readonly phase: Phase;
  /** TLS is on toward the client */
  readonly tls: boolean;
  /** client bytes not yet read */
  readonly buf: Uint8Array;
  /** backend bytes not yet read */
  readonly backendBuf: Uint8Array;
  readonly config: { readonly maxPending: number };
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The login a dialogue holds until the backend has it: what every protocol forgets when the login ends. */
export interface LoginState extends FrontState {
  readonly credentials: Credentials | undefined;
  readonly replay: readonly Uint8Array[];
}

/** The login ends here (answered with a temporary failure): back to commands, the backend (when open) dropped. */
export function backToCommands<S extends LoginState>(s: Mutable<S>, out: MailAction[], backendOpen: boolean): void {
  if (backendOpen) out.push({ type: 'close-backend' });
  s.phase = 'command';
  s.credentials = undefined;
  s.replay = [];
  s.backendBuf = EMPTY;
}

/** Ends the dialogue: the backend (when open) and the client are closed, and no credentials outlive it. */
export function closeDialogue<S extends LoginState>(s: Mutable<S>, out: MailAction[], reason: string, backendOpen: boolean): Step<S> {
  if (backendOpen) out.push({ type: 'close-backend' });
  s.phase = 'closed';
  s.credentials = undefined;
  s.replay = [];
  s.buf = EMPTY;
  out.push({ type: 'close', reason });
  return { state: s, actions: out };
}

/** One protocol's part of the dispatch; each hook may push actions and change the (copied) state. */
export interface FrontProtocol<S extends FrontState> {
  /** reads client commands while the phase takes them */
  pump(s: Mutable<S>, out: MailAction[]): void;
  /** takes client bytes in the 'data' phase as they come (the protocols with such a phase have it) */
  stream?(s: Mutable<S>, out: MailAction[], bytes: Uint8Array): void;
  lookupResult(s: Mutable<S>, out: MailAction[], answer: LookupAnswer): void;
  /** a backend connection is open, so its bytes are kept */
  backendOpen(s: S): boolean;
  /** reads backend replies while the phase is 'backend' */
  backend(s: Mutable<S>, out: MailAction[]): void;
  backendFailed(s: Mutable<S>, out: MailAction[]): void;
  /** the protocol's words for a login timeout, with CRLF */
  readonly timeoutReply: string;
  /** 'imap', 'pop3' or 'smtp', for close reasons */
  readonly name: string;
  /** the protocol's answer before closing a client that sent more than maxPending bytes it has not read yet */
  readonly tooMuchInput: MailAction;
  close(s: Mutable<S>, out: MailAction[], reason: string): Step<S>;
}

/** Advances a front dialogue by one event. */
export function frontStep<S extends FrontState>(p: FrontProtocol<S>, state: S, event: MailEvent): Step<S> {
  if (state.phase === 'closed' || state.phase === 'piping') return { state, actions: [] };
  const s = { ...state } as Mutable<S>;
  const out: MailAction[] = [];
  switch (event.type) {
    case 'client-bytes':
      if (s.phase === 'starting-tls') break; // handshake bytes belong to the TLS layer, never to commands
      if (s.phase === 'data' && p.stream !== undefined) {
        p.stream(s, out, event.bytes);
      } else {
        s.buf = concat(s.buf, event.bytes);
        p.pump(s, out);
      }
      // Input held while yoke waits on the router or the backend (pipelined commands) is bounded.
      if (s.phase !== 'closed' && s.buf.length > s.config.maxPending) {
        out.push(p.tooMuchInput);
        return p.close(s, out, `${p.name} client: pending input over the limit`);
      }
      break;
    case 'tls-started':
      if (s.phase !== 'starting-tls') return p.close(s, out, 'tls-started without start-tls');
      s.tls = true;
      s.phase = 'command';
      break;
    case 'lookup-result':
      if (s.phase === 'lookup') p.lookupResult(s, out, event.answer);
      break;
    case 'backend-bytes':
      if (!p.backendOpen(s)) break;
      s.backendBuf = concat(s.backendBuf, event.bytes);
      if (s.phase === 'backend') p.backend(s, out);
      break;
    case 'backend-failed':
      p.backendFailed(s, out);
      break;
    case 'timeout':
      out.push({ type: 'send-to-client', bytes: Buffer.from(p.timeoutReply, 'latin1') });
      return p.close(s, out, 'login timeout');
  }
  return { state: s, actions: out };
}
