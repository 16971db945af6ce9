/**
 * The front half of POP3 (RFC 1939, CAPA and response codes RFC 2449, AUTH RFC 5034, STLS RFC 2595, [SYS/TEMP]
 * and [AUTH] RFC 3206) as a pure dialogue: yoke greets, answers the AUTHORIZATION state, asks the router where the
 * user lives, replays USER/PASS or AUTH PLAIN at that backend, relays the backend's answer, then hands over to
 * piping. The password is kept as in imap.ts: from PASS/AUTH until the replay is written, nowhere else.
 */
import { backToCommands, closeDialogue, frontStep, type FrontProtocol, type Mutable, type Phase } from './front.ts';
import { readLine, type LineOptions } from './lines.ts';
import { checkCredentials, encodePlain, saslContinue, saslStart, type SaslPending, type SaslStep } from './sasl.ts';
import {
  EMPTY, ascii, concat, isWord, splitFirst, startsWithWord,
  type CommonLimits, type Credentials, type LookupAnswer, type MailAction, type MailEvent, type Step, type TlsPolicy,
} from './types.ts';

export interface Pop3Config extends CommonLimits {
  readonly tls: TlsPolicy;
}

export const POP3_DEFAULTS: Pop3Config = Object.freeze({
  tls: 'starttls',
  // RFC 2449 allows 255 octets per command; AUTH PLAIN with a long password needs more (RFC 5034 4 lets a
  // server take longer lines), so one limit covers both
  maxLine: 2048,
  maxCommands: 20,
  maxAuthFailures: 3,
  maxUser: 255,
  maxPassword: 1024,
  maxPending: 65536,
});

/** One POP3 front connection; treat as opaque outside tests. */
export interface Pop3State {
  readonly config: Pop3Config;
  readonly phase: Phase;
  readonly tls: boolean;
  readonly buf: Uint8Array;
  readonly commands: number;
  readonly failures: number;
  /** the name given by USER, waiting for PASS */
  readonly user: Uint8Array | undefined;
  readonly sasl: SaslPending | undefined;
  readonly credentials: Credentials | undefined;
  readonly backendBuf: Uint8Array;
  /** replay lines still to write, each after the backend's `+OK` */
  readonly replay: readonly Uint8Array[];
  readonly backendGreeted: boolean;
}

const BACKEND_LINES: LineOptions = { maxLine: 65536, bareLf: true };

/** The first state and the greeting. */
export function pop3Start(config: Pop3Config = POP3_DEFAULTS): Step<Pop3State> {
  const state: Pop3State = {
    config, phase: 'command', tls: config.tls === 'implicit', buf: EMPTY, commands: 0, failures: 0, user: undefined,
    sasl: undefined, credentials: undefined, backendBuf: EMPTY, replay: [], backendGreeted: false,
  };
  return { state, actions: [send('+OK yoke ready')] };
}

/** The CAPA list for the client's present state (RFC 2449 6). */
export function pop3Capabilities(s: Pick<Pop3State, 'config' | 'tls'>): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE'];
  if (loginAllowed(s)) caps.push('USER', 'SASL PLAIN');
  if ((s.config.tls === 'starttls' || s.config.tls === 'required') && !s.tls) caps.push('STLS');
  return caps;
}

function loginAllowed(s: Pick<Pop3State, 'config' | 'tls'>): boolean {
  return s.tls || s.config.tls !== 'required';
}

function send(text: string): MailAction {
  return { type: 'send-to-client', bytes: ascii(`${text}\r\n`) };
}

const PROTOCOL: FrontProtocol<Pop3State> = {
  pump,
  lookupResult,
  backendOpen: (s) => s.phase === 'backend',
  backend,
  backendFailed: (s, out) => {
    if (s.phase === 'backend') tempFailure(s, out, true);
  },
  name: 'pop3',
  tooMuchInput: send('-ERR Too much input'),
  timeoutReply: '-ERR Login timeout\r\n',
  close: closeWith,
};

/** Advances the dialogue by one event. */
export function pop3Step(state: Pop3State, event: MailEvent): Step<Pop3State> {
  return frontStep(PROTOCOL, state, event);
}

function closeWith(s: Mutable<Pop3State>, out: MailAction[], reason: string): Step<Pop3State> {
  s.user = undefined;
  return closeDialogue(s, out, reason, s.phase === 'backend');
}

function pump(s: Mutable<Pop3State>, out: MailAction[]): void {
  const opts: LineOptions = { maxLine: s.config.maxLine, bareLf: true };
  while (s.phase === 'command' || s.phase === 'sasl') {
    const frame = readLine(s.buf, 0, opts);
    if (frame.kind === 'need-more') break;
    if (frame.kind !== 'line') {
      out.push(send('-ERR Line too long'));
      closeWith(s, out, `pop3 client: ${frame.kind === 'error' ? frame.reason : 'unframed'}`);
      return;
    }
    s.buf = s.buf.subarray(frame.next);
    if (s.phase === 'sasl') saslMove(s, out, saslContinue(s.sasl as SaslPending, frame.line, s.config));
    else command(s, out, frame.line);
  }
}

/** Answers and counts a command; at the limit before login the connection closes. */
function answer(s: Mutable<Pop3State>, out: MailAction[], text: string): void {
  out.push(send(text));
  s.commands++;
  if (s.commands >= s.config.maxCommands && s.phase === 'command') {
    out.push(send('-ERR Too many commands before login'));
    closeWith(s, out, 'pop3 client: too many commands before login');
  }
}

function command(s: Mutable<Pop3State>, out: MailAction[], line: Uint8Array): void {
  const { head, rest } = splitFirst(line);
  if (isWord(head, 'CAPA') && rest === undefined) {
    return answer(s, out, `+OK Capability list follows\r\n${pop3Capabilities(s).join('\r\n')}\r\n.`);
  }
  if (isWord(head, 'QUIT') && rest === undefined) {
    out.push(send('+OK Bye'));
    closeWith(s, out, 'pop3 client: quit');
    return;
  }
  if (isWord(head, 'STLS') && rest === undefined) {
    if (!((s.config.tls === 'starttls' || s.config.tls === 'required') && !s.tls)) {
      return answer(s, out, s.tls ? '-ERR TLS is already active' : '-ERR STLS is not offered');
    }
    out.push(send('+OK Begin TLS negotiation'), { type: 'start-tls' });
    s.phase = 'starting-tls';
    s.buf = EMPTY; // bytes sent after STLS in clear must never count as commands (CVE-2011-0411)
    s.user = undefined;
    return;
  }
  if (isWord(head, 'USER') || isWord(head, 'PASS') || isWord(head, 'AUTH')) {
    if (!loginAllowed(s)) return answer(s, out, '-ERR Use STLS before logging in');
  }
  if (isWord(head, 'USER') && rest !== undefined) {
    // the name is every octet after the first SP, exactly: no trimming, spaces kept
    if (checkCredentials(rest, ascii('x'), s.config) !== 'ok') return answer(s, out, '-ERR [AUTH] Invalid user name');
    s.user = rest.slice();
    return answer(s, out, '+OK');
  }
  if (isWord(head, 'PASS') && rest !== undefined) {
    const user = s.user;
    s.user = undefined;
    if (user === undefined) return answer(s, out, '-ERR USER first');
    if (checkCredentials(user, rest, s.config) !== 'ok') return failed(s, out);
    return login(s, out, { mechanism: 'command', authzid: EMPTY, user, password: rest.slice() });
  }
  if (isWord(head, 'AUTH')) {
    if (rest === undefined) return answer(s, out, '+OK\r\nPLAIN\r\n.');
    const m = splitFirst(rest);
    if (!isWord(m.head, 'PLAIN')) return answer(s, out, '-ERR Unsupported authentication mechanism');
    return saslMove(s, out, saslStart('plain', m.rest, s.config));
  }
  answer(s, out, '-ERR Unknown command or not valid before login');
}

function saslMove(s: Mutable<Pop3State>, out: MailAction[], step: SaslStep): void {
  s.sasl = undefined;
  s.phase = 'command';
  switch (step.kind) {
    case 'challenge':
      s.sasl = step.pending;
      s.phase = 'sasl';
      out.push(send(`+ ${step.prompt}`));
      return;
    case 'done':
      return login(s, out, step.credentials);
    case 'cancelled':
      return answer(s, out, '-ERR Authentication cancelled');
    case 'bad-base64':
      return answer(s, out, '-ERR Invalid base64 data');
    case 'malformed':
      return failed(s, out);
  }
}

function failed(s: Mutable<Pop3State>, out: MailAction[], text = '-ERR [AUTH] Authentication failed'): void {
  s.failures++;
  s.credentials = undefined;
  if (s.failures >= s.config.maxAuthFailures) {
    out.push(send(text));
    closeWith(s, out, 'pop3 client: too many failed logins');
    return;
  }
  answer(s, out, text);
}

function login(s: Mutable<Pop3State>, out: MailAction[], c: Credentials): void {
  s.credentials = c;
  s.phase = 'lookup';
  out.push({ type: 'lookup', user: c.user.slice() });
}

function lookupResult(s: Mutable<Pop3State>, out: MailAction[], a: LookupAnswer): void {
  if (a.kind === 'server') {
    s.phase = 'backend';
    s.backendBuf = EMPTY;
    s.backendGreeted = false;
    s.replay = pop3Replay(s.credentials as Credentials);
    out.push({ type: 'connect-backend', server: a.server });
    return;
  }
  s.phase = 'command';
  if (a.kind === 'unknown-user') failed(s, out);
  else tempFailure(s, out, false);
  pump(s, out);
}

function tempFailure(s: Mutable<Pop3State>, out: MailAction[], connected: boolean): void {
  backToCommands(s, out, connected);
  answer(s, out, '-ERR [SYS/TEMP] Temporary failure, try again later');
  if (connected) pump(s, out);
}

/** The login as the backend will see it: one line per backend `+OK` (the greeting's first). */
export function pop3Replay(c: Credentials): Uint8Array[] {
  if (c.mechanism === 'plain') return [concat(ascii('AUTH PLAIN '), encodePlain(c), ascii('\r\n'))];
  return [concat(ascii('USER '), c.user, ascii('\r\n')), concat(ascii('PASS '), c.password, ascii('\r\n'))];
}

/** Reads backend lines: each `+OK` lets the next replay line go; after the last, the answer goes to the client. */
function backend(s: Mutable<Pop3State>, out: MailAction[]): void {
  while (s.phase === 'backend') {
    const frame = readLine(s.backendBuf, 0, BACKEND_LINES);
    if (frame.kind === 'need-more') return;
    if (frame.kind !== 'line') return tempFailure(s, out, true);
    s.backendBuf = s.backendBuf.subarray(frame.next);
    const ok = startsWithWord(frame.line, '+OK');
    const greeting = !s.backendGreeted;
    s.backendGreeted = true;
    if (s.replay.length > 0 && ok) {
      const [first, ...rest] = s.replay;
      out.push({ type: 'send-to-backend', bytes: first as Uint8Array });
      s.replay = rest;
      if (rest.length === 0) s.credentials = undefined;
      continue;
    }
    if (greeting || !(ok || startsWithWord(frame.line, '-ERR'))) return tempFailure(s, out, true);
    out.push({ type: 'send-to-client', bytes: concat(frame.line, ascii('\r\n')) });
    if (ok) {
      s.phase = 'piping';
      out.push({ type: 'start-piping', toBackend: s.buf.slice(), toClient: s.backendBuf.slice() });
      s.buf = EMPTY;
      s.backendBuf = EMPTY;
      return;
    }
    // a refused login is passed back unchanged, and the client may try again on a fresh route
    out.push({ type: 'close-backend' });
    s.phase = 'command';
    s.replay = [];
    s.credentials = undefined;
    s.failures++;
    if (s.failures >= s.config.maxAuthFailures) {
      closeWith(s, out, 'pop3 client: too many failed logins');
      return;
    }
    s.commands++;
    pump(s, out);
    return;
  }
}
