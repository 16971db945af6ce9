/**
 * The front half of IMAP (RFC 9051 / 3501) as a pure dialogue: yoke greets, answers the not-authenticated state
 * (CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN, AUTHENTICATE PLAIN/LOGIN with SASL-IR and literals incl.
 * LITERAL+), asks the router where the user lives, replays the login at that backend with base IMAP4rev1 forms,
 * gives the client the backend's tagged answer under the client's tag, and then hands over to byte piping.
 *
 * The password lives in the state from the login command until the last replay segment is sent to the backend,
 * and nowhere else (not in `lookup`, not in a `close` reason); a failed or abandoned login drops it.
 */
import { Args, writeAstring } from './imap-args.ts';
import { backToCommands, closeDialogue, frontStep, type FrontProtocol, type Mutable, type Phase } from './front.ts';
import { readLine, readLiteral, type Frame, type LineOptions } from './lines.ts';
import { checkCredentials, encodeBase64, encodePlain, saslContinue, saslStart, type SaslPending, type SaslStep } from './sasl.ts';
import {
  EMPTY, ascii, concat, isWord, startsWithWord,
  type CommonLimits, type Credentials, type LookupAnswer, type MailAction, type MailEvent, type Step, type TlsPolicy,
} from './types.ts';

export interface ImapConfig extends CommonLimits {
  readonly tls: TlsPolicy;
  /** largest literal a client may send (RFC 7888 asks for a limit; LOGIN needs a few hundred octets) */
  readonly maxLiteral: number;
  /** literals in one command */
  readonly maxLiterals: number;
}

export const IMAP_DEFAULTS: ImapConfig = Object.freeze({
  tls: 'starttls',
  maxLine: 8192, // RFC 9051 4: servers should take lines of at least 8192 octets
  maxLiteral: 4096,
  maxLiterals: 8,
  maxCommands: 20,
  maxAuthFailures: 3,
  maxUser: 255,
  maxPassword: 1024,
  maxPending: 65536,
});

/** One IMAP front connection; treat as opaque outside tests. */
export interface ImapState {
  readonly config: ImapConfig;
  readonly phase: Phase;
  /** TLS is on toward the client */
  readonly tls: boolean;
  /** client bytes not yet read */
  readonly buf: Uint8Array;
  /** the command being collected: text, literal, text, … */
  readonly parts: readonly Uint8Array[];
  /** octets of the literal being read, or -1 while reading a line */
  readonly literal: number;
  readonly commands: number;
  readonly failures: number;
  /** the client's tag of the login in flight */
  readonly tag: Uint8Array;
  readonly sasl: SaslPending | undefined;
  /** the login being routed and replayed; dropped once the replay is written */
  readonly credentials: Credentials | undefined;
  readonly backendBuf: Uint8Array;
  /** replay segments still to write, each after the backend's `+` continuation */
  readonly replay: readonly Uint8Array[];
  readonly backendGreeted: boolean;
  /** numbers the backend tags (Y1, Y2, …) across retries */
  readonly attempt: number;
}

const BACKEND_LINES: LineOptions = { maxLine: 65536, bareLf: true };

/** The first state and the greeting. */
export function imapStart(config: ImapConfig = IMAP_DEFAULTS): Step<ImapState> {
  const state: ImapState = {
    config, phase: 'command', tls: config.tls === 'implicit', buf: EMPTY, parts: [], literal: -1, commands: 0, failures: 0,
    tag: EMPTY, sasl: undefined, credentials: undefined, backendBuf: EMPTY, replay: [], backendGreeted: false, attempt: 0,
  };
  return { state, actions: [send(`* OK [CAPABILITY ${capabilities(state)}] yoke ready\r\n`)] };
}

/** The capability list for the client's present state. */
export function capabilities(s: Pick<ImapState, 'config' | 'tls'>): string {
  const caps = ['IMAP4rev1', 'SASL-IR', 'LITERAL+', 'ID'];
  const offer = s.config.tls === 'starttls' || s.config.tls === 'required';
  if (offer && !s.tls) caps.push('STARTTLS');
  if (loginAllowed(s)) caps.push('AUTH=PLAIN', 'AUTH=LOGIN');
  else caps.push('LOGINDISABLED');
  return caps.join(' ');
}

function loginAllowed(s: Pick<ImapState, 'config' | 'tls'>): boolean {
  return s.tls || s.config.tls !== 'required';
}

const PROTOCOL: FrontProtocol<ImapState> = {
  pump,
  lookupResult,
  backendOpen: (s) => s.phase === 'backend',
  backend,
  backendFailed: (s, out) => {
    if (s.phase === 'backend') tempFailure(s, out, true);
  },
  name: 'imap',
  tooMuchInput: send('* BYE Too much input\r\n'),
  timeoutReply: '* BYE Login timeout\r\n',
  close: closeWith,
};

/** Advances the dialogue by one event. */
export function imapStep(state: ImapState, event: MailEvent): Step<ImapState> {
  return frontStep(PROTOCOL, state, event);
}

function send(text: string): MailAction {
  return { type: 'send-to-client', bytes: ascii(text) };
}

function tagged(tag: Uint8Array, text: string): MailAction {
  return { type: 'send-to-client', bytes: concat(tag, ascii(` ${text}\r\n`)) };
}

function closeWith(s: Mutable<ImapState>, out: MailAction[], reason: string): Step<ImapState> {
  return closeDialogue(s, out, reason, s.phase === 'backend');
}

/** Reads client frames while the dialogue is taking commands or SASL answers. */
function pump(s: Mutable<ImapState>, out: MailAction[]): void {
  while (s.phase === 'command' || s.phase === 'sasl') {
    const opts: LineOptions = s.phase === 'sasl'
      ? { maxLine: s.config.maxLine, bareLf: true }
      : { maxLine: s.config.maxLine, bareLf: true, maxLiteral: s.config.maxLiteral };
    const frame: Frame = s.literal >= 0 ? readLiteral(s.buf, 0, s.literal) : readLine(s.buf, 0, opts);
    if (frame.kind === 'need-more') break;
    if (frame.kind === 'error') {
      out.push(send(`* BYE ${frame.code === 'line-too-long' ? 'Line too long' : 'Literal too large'}\r\n`));
      closeWith(s, out, `imap client: ${frame.reason}`);
      return;
    }
    s.buf = s.buf.subarray(frame.next);
    if (frame.kind === 'literal') {
      s.parts = [...s.parts, frame.bytes.slice()];
      s.literal = -1;
      continue;
    }
    if (s.phase === 'sasl') {
      saslAnswer(s, out, frame.line);
      continue;
    }
    const head = frame.literal;
    if (head === undefined) {
      const parts = [...s.parts, frame.line.slice()];
      s.parts = [];
      command(s, out, parts);
      continue;
    }
    const text = frame.line.slice(0, head.textEnd);
    if (head.tooLarge) {
      const parts = [...s.parts, text];
      s.parts = [];
      reject(s, out, parts, 'BAD Literal too large');
      continue;
    }
    if (s.parts.length / 2 >= s.config.maxLiterals) {
      out.push(send('* BYE Too many literals\r\n'));
      closeWith(s, out, 'imap client: too many literals in one command');
      return;
    }
    s.parts = [...s.parts, text];
    s.literal = head.size;
    if (head.sync) out.push(send('+ Ready for literal data\r\n'));
  }
}

/** Answers a command that cannot run: under its tag when one can be read, else untagged. */
function reject(s: Mutable<ImapState>, out: MailAction[], parts: Uint8Array[], text: string): void {
  const tag = new Args(parts).tag();
  out.push(tag === undefined ? send(`* ${text}\r\n`) : tagged(tag, text));
  counted(s, out);
}

/** Counts a command toward the limit before login; at the limit the connection closes. */
function counted(s: Mutable<ImapState>, out: MailAction[]): void {
  s.commands++;
  if (s.commands >= s.config.maxCommands && s.phase === 'command') {
    out.push(send('* BYE Too many commands before login\r\n'));
    closeWith(s, out, 'imap client: too many commands before login');
  }
}

function command(s: Mutable<ImapState>, out: MailAction[], parts: Uint8Array[]): void {
  const a = new Args(parts);
  const tag = a.tag();
  if (tag === undefined || !a.sp()) return reject(s, out, parts, 'BAD Missing tag or command');
  const name = a.atom();
  if (name === undefined) return reject(s, out, parts, 'BAD Missing command');
  const bare = a.atEnd();
  if (isWord(name, 'CAPABILITY') && bare) {
    out.push(send(`* CAPABILITY ${capabilities(s)}\r\n`), tagged(tag, 'OK CAPABILITY completed'));
  } else if (isWord(name, 'NOOP') && bare) {
    out.push(tagged(tag, 'OK NOOP completed'));
  } else if (isWord(name, 'LOGOUT') && bare) {
    out.push(send('* BYE Logging out\r\n'), tagged(tag, 'OK LOGOUT completed'));
    closeWith(s, out, 'imap client: logout');
    return;
  } else if (isWord(name, 'ID') && a.sp()) {
    out.push(send('* ID NIL\r\n'), tagged(tag, 'OK ID completed'));
  } else if (isWord(name, 'STARTTLS') && bare) {
    const offered = (s.config.tls === 'starttls' || s.config.tls === 'required') && !s.tls;
    if (!offered) return reject(s, out, parts, s.tls ? 'BAD TLS is already active' : 'BAD STARTTLS is not offered');
    out.push(tagged(tag, 'OK Begin TLS negotiation now'), { type: 'start-tls' });
    s.phase = 'starting-tls';
    s.buf = EMPTY; // bytes sent after STARTTLS in clear must never count as commands (CVE-2011-0411)
    s.parts = [];
    s.literal = -1;
  } else if (isWord(name, 'LOGIN')) {
    if (!loginAllowed(s)) return reject(s, out, parts, 'NO [PRIVACYREQUIRED] Use STARTTLS before LOGIN');
    const user = a.sp() ? a.astring() : undefined;
    const password = user !== undefined && a.sp() ? a.astring() : undefined;
    if (password === undefined || !a.atEnd()) return reject(s, out, parts, 'BAD Invalid arguments to LOGIN');
    const check = checkCredentials(user!, password, s.config);
    if (check !== 'ok') return failed(s, out, tag, 'NO [AUTHENTICATIONFAILED] Authentication failed');
    login(s, out, tag, { mechanism: 'command', authzid: EMPTY, user: user!.slice(), password: password.slice() });
    return;
  } else if (isWord(name, 'AUTHENTICATE')) {
    if (!loginAllowed(s)) return reject(s, out, parts, 'NO [PRIVACYREQUIRED] Use STARTTLS before AUTHENTICATE');
    const mech = a.sp() ? a.atom() : undefined;
    const initial = mech !== undefined && a.sp() ? a.restOfLine() : undefined;
    if (mech === undefined || !a.atEnd()) return reject(s, out, parts, 'BAD Invalid arguments to AUTHENTICATE');
    const m = isWord(mech, 'PLAIN') ? 'plain' : isWord(mech, 'LOGIN') ? 'login' : undefined;
    if (m === undefined) return reject(s, out, parts, 'NO Unsupported authentication mechanism');
    s.tag = tag.slice();
    saslMove(s, out, saslStart(m, initial, s.config));
    return;
  } else {
    return reject(s, out, parts, 'BAD Unknown command or not valid before login');
  }
  counted(s, out);
}

function saslAnswer(s: Mutable<ImapState>, out: MailAction[], line: Uint8Array): void {
  saslMove(s, out, saslContinue(s.sasl as SaslPending, line, s.config));
}

function saslMove(s: Mutable<ImapState>, out: MailAction[], step: SaslStep): void {
  s.sasl = undefined;
  s.phase = 'command';
  switch (step.kind) {
    case 'challenge':
      s.sasl = step.pending;
      s.phase = 'sasl';
      out.push(send(`+ ${step.prompt}\r\n`));
      return;
    case 'done':
      login(s, out, s.tag, step.credentials);
      return;
    case 'cancelled':
      out.push(tagged(s.tag, 'BAD AUTHENTICATE cancelled'));
      return counted(s, out);
    case 'bad-base64':
      out.push(tagged(s.tag, 'BAD Invalid base64 data'));
      return counted(s, out);
    case 'malformed':
      return failed(s, out, s.tag, 'NO [AUTHENTICATIONFAILED] Authentication failed');
  }
}

/** A refused login: counted, and at the limit the connection closes. */
function failed(s: Mutable<ImapState>, out: MailAction[], tag: Uint8Array, text: string): void {
  out.push(tagged(tag, text));
  s.failures++;
  s.credentials = undefined;
  if (s.failures >= s.config.maxAuthFailures) {
    out.push(send('* BYE Too many failed logins\r\n'));
    closeWith(s, out, 'imap client: too many failed logins');
    return;
  }
  counted(s, out);
}

function login(s: Mutable<ImapState>, out: MailAction[], tag: Uint8Array, c: Credentials): void {
  s.tag = tag.slice();
  s.credentials = c;
  s.phase = 'lookup';
  out.push({ type: 'lookup', user: c.user.slice() });
}

function lookupResult(s: Mutable<ImapState>, out: MailAction[], answer: LookupAnswer): void {
  if (answer.kind === 'unknown-user') {
    s.phase = 'command';
    failed(s, out, s.tag, 'NO [AUTHENTICATIONFAILED] Authentication failed');
  } else if (answer.kind === 'temp-failure') {
    tempFailure(s, out, false);
  } else {
    s.phase = 'backend';
    s.attempt++;
    s.backendBuf = EMPTY;
    s.backendGreeted = false;
    s.replay = imapReplay(s.credentials as Credentials, `Y${s.attempt}`);
    out.push({ type: 'connect-backend', server: answer.server });
    return;
  }
  pump(s, out);
}

/** Gives the client `NO [UNAVAILABLE]` and goes back to taking commands (RFC 5530). */
function tempFailure(s: Mutable<ImapState>, out: MailAction[], connected: boolean): void {
  backToCommands(s, out, connected);
  out.push(tagged(s.tag, 'NO [UNAVAILABLE] Temporary failure, try again later'));
  counted(s, out);
  pump(s, out);
}

/**
 * The login as the backend will see it, in segments: the first is written after the greeting, each next one
 * after a `+` continuation. LOGIN keeps the client's LOGIN (quoted, or sync literals for 8-bit or CR/LF bytes);
 * AUTHENTICATE keeps its mechanism, without SASL-IR so that no CAPABILITY round trip is needed.
 */
export function imapReplay(c: Credentials, tag: string): Uint8Array[] {
  if (c.mechanism === 'plain') return [ascii(`${tag} AUTHENTICATE PLAIN\r\n`), concat(encodePlain(c), ascii('\r\n'))];
  if (c.mechanism === 'login') {
    return [ascii(`${tag} AUTHENTICATE LOGIN\r\n`), concat(encodeBase64(c.user), ascii('\r\n')), concat(encodeBase64(c.password), ascii('\r\n'))];
  }
  const segments: Uint8Array[] = [];
  let cur = writeAstring(segments, ascii(`${tag} LOGIN `), c.user);
  cur = writeAstring(segments, concat(cur, ascii(' ')), c.password);
  segments.push(concat(cur, ascii('\r\n')));
  return segments;
}

/** Reads backend lines while the replay runs. */
function backend(s: Mutable<ImapState>, out: MailAction[]): void {
  const tag = ascii(`Y${s.attempt} `);
  const ours = (line: Uint8Array): boolean => line.length >= tag.length && Buffer.compare(line.subarray(0, tag.length), tag) === 0;
  while (s.phase === 'backend') {
    const frame = readLine(s.backendBuf, 0, BACKEND_LINES);
    if (frame.kind === 'need-more') return;
    if (frame.kind !== 'line') return tempFailure(s, out, true);
    const line = frame.line;
    s.backendBuf = s.backendBuf.subarray(frame.next);
    if (!s.backendGreeted) {
      if (!startsWithWord(line, '* OK')) return tempFailure(s, out, true);
      s.backendGreeted = true;
      next(s, out);
    } else if (ours(line)) {
      const answer = concat(s.tag, line.subarray(tag.length - 1), ascii('\r\n'));
      out.push({ type: 'send-to-client', bytes: answer });
      if (startsWithWord(line.subarray(tag.length), 'OK ') || isWord(line.subarray(tag.length), 'OK')) {
        s.phase = 'piping';
        s.credentials = undefined;
        out.push({ type: 'start-piping', toBackend: s.buf.slice(), toClient: s.backendBuf.slice() });
        s.buf = EMPTY;
        s.backendBuf = EMPTY;
        return;
      }
      out.push({ type: 'close-backend' });
      s.phase = 'command';
      s.replay = [];
      s.backendBuf = EMPTY;
      s.failures++;
      if (s.failures >= s.config.maxAuthFailures) {
        out.push(send('* BYE Too many failed logins\r\n'));
        closeWith(s, out, 'imap client: too many failed logins');
        return;
      }
      counted(s, out);
      pump(s, out);
      return;
    } else if (line[0] === 0x2b) {
      if (s.replay.length === 0) return tempFailure(s, out, true);
      next(s, out);
    } else {
      out.push({ type: 'send-to-client', bytes: concat(line, ascii('\r\n')) });
    }
  }
}

function next(s: Mutable<ImapState>, out: MailAction[]): void {
  const [first, ...rest] = s.replay;
  if (first === undefined) return;
  out.push({ type: 'send-to-backend', bytes: first });
  s.replay = rest;
  if (rest.length === 0) s.credentials = undefined;
}
