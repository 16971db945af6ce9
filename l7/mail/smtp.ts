/**
 * The front half of SMTP (RFC 5321, AUTH RFC 4954, STARTTLS RFC 3207, PIPELINING RFC 2920, enhanced codes RFC
 * 3463) as a pure dialogue, for submission and for delivery:
 * - submission: EHLO, (STARTTLS, EHLO,) AUTH PLAIN/LOGIN → lookup → the backend gets EHLO and the same AUTH; its
 *   answer goes to the client; on 235 the bytes are piped.
 * - delivery: EHLO/HELO, MAIL FROM, RCPT TO → lookup of the recipient (local part or whole address) → the first
 *   routed RCPT opens the backend (EHLO, MAIL, RCPT replayed as the client wrote them); each further RCPT is taken
 *   only when it routes to that same server, else 451 4.3.0 so that the sending MTA retries it in a transaction of
 *   its own; the backend's RCPT answers go to the client; DATA is forwarded and, after its 354, the message is
 *   streamed to the backend until its end (smtp-data.ts); the backend's answer to it goes to the client, and the
 *   next MAIL starts a transaction routed afresh. The backend connection stays open between transactions and is
 *   reused when the next one's first recipient routes to the same server; otherwise it gets QUIT.
 * The password is kept as in imap.ts.
 */
import { closeDialogue, frontStep, type FrontProtocol, type Mutable, type Phase } from './front.ts';
import { readLine, type LineOptions } from './lines.ts';
import { encodeBase64, encodePlain, saslContinue, saslStart, checkCredentials, type SaslPending, type SaslStep } from './sasl.ts';
import { parsePath, readReply } from './smtp-codec.ts';
import { DATA_START, scanData, type DataScan } from './smtp-data.ts';
import {
  EMPTY, ascii, concat, isWord, splitFirst, startsWithWord,
  type CommonLimits, type Credentials, type LookupAnswer, type MailAction, type MailEvent, type Step, type TlsPolicy,
} from './types.ts';

export interface SmtpConfig extends CommonLimits {
  readonly tls: TlsPolicy;
  /** the name in the greeting and the EHLO answer */
  readonly hostname: string;
  /** offer AUTH (submission) */
  readonly auth: boolean;
  /** take MAIL without AUTH (delivery) */
  readonly delivery: boolean;
  /** what of a recipient is the user to look up */
  readonly rcptKey: 'local-part' | 'address';
  /** the longest AUTH command or SASL answer line (RFC 4954 4: 12288) */
  readonly maxAuthLine: number;
  readonly maxRecipients: number;
  /** the SIZE to announce (RFC 1870); 0 announces SIZE without a limit, undefined not at all */
  readonly size: number | undefined;
  /** announce 8BITMIME (RFC 6152): only when every backend takes it, as yoke passes BODY= through unchanged */
  readonly eightBitMime: boolean;
}

export const SMTP_DEFAULTS: SmtpConfig = Object.freeze({
  tls: 'starttls',
  hostname: 'yoke',
  auth: true,
  delivery: true,
  rcptKey: 'local-part',
  maxLine: 2048, // RFC 5321 4.5.3.1.4 says 512 but extensions (SIZE, DSN, long paths) lengthen MAIL/RCPT
  maxAuthLine: 12288,
  maxRecipients: 100, // RFC 5321 4.5.3.1.8
  size: 0,
  eightBitMime: true,
  maxCommands: 20,
  maxAuthFailures: 3,
  maxUser: 255,
  maxPassword: 1024,
  maxPending: 65536,
});

/** One SMTP front connection; treat as opaque outside tests. */
export interface SmtpState {
  readonly config: SmtpConfig;
  readonly phase: Phase;
  readonly tls: boolean;
  readonly buf: Uint8Array;
  readonly commands: number;
  readonly failures: number;
  /** the client's EHLO/HELO line, replayed to the backend */
  readonly helo: Uint8Array | undefined;
  /** the client's MAIL line of the open transaction */
  readonly mail: Uint8Array | undefined;
  /** the RCPT line being routed or replayed */
  readonly rcpt: Uint8Array | undefined;
  readonly accepted: number;
  readonly recipients: number;
  /** the server of the open backend connection (or of the one that broke with recipients taken) */
  readonly server: string | undefined;
  /** a backend connection is open (delivery keeps it across RCPTs, and idle between transactions) */
  readonly open: boolean;
  /** the backend holds this transaction's MAIL: every RCPT must route to `server` */
  readonly bound: boolean;
  /** the backend broke after taking recipients: DATA gets 451, the MTA retries */
  readonly lost: boolean;
  /** what the backend's next reply answers */
  readonly purpose: 'auth' | 'rcpt' | 'data' | 'message';
  /** where the end-of-data scan stands (phase 'data') */
  readonly scan: DataScan;
  /** phase 'data': the message goes to the backend, or is thrown away (the backend broke, or a bare CR/LF) and
   * `discardReply` answers its end */
  readonly sink: 'backend' | 'discard';
  readonly discardReply: string;
  readonly sasl: SaslPending | undefined;
  readonly credentials: Credentials | undefined;
  readonly backendBuf: Uint8Array;
  /** backend replies still to come before a failure is the client's answer (greeting, EHLO): else 4xx */
  readonly setup: number;
  readonly replay: readonly Uint8Array[];
}

/** The first state and the greeting. */
export function smtpStart(config: SmtpConfig = SMTP_DEFAULTS): Step<SmtpState> {
  const state: SmtpState = {
    config, phase: 'command', tls: config.tls === 'implicit', buf: EMPTY, commands: 0, failures: 0, helo: undefined,
    mail: undefined, rcpt: undefined, accepted: 0, recipients: 0, server: undefined, open: false, bound: false,
    lost: false, purpose: 'auth', scan: DATA_START, sink: 'backend', discardReply: '', sasl: undefined,
    credentials: undefined, backendBuf: EMPTY, setup: 0, replay: [],
  };
  return { state, actions: [send(`220 ${config.hostname} ESMTP yoke ready`)] };
}

/** The EHLO answer's keywords for the client's present state. */
export function smtpExtensions(s: Pick<SmtpState, 'config' | 'tls'>): string[] {
  const ext = ['PIPELINING'];
  if (s.config.size !== undefined) ext.push(s.config.size > 0 ? `SIZE ${s.config.size}` : 'SIZE');
  if (s.config.eightBitMime) ext.push('8BITMIME');
  ext.push('ENHANCEDSTATUSCODES');
  if (offered(s)) ext.push('STARTTLS');
  if (s.config.auth && clearOk(s)) ext.push('AUTH PLAIN LOGIN');
  return ext;
}

function offered(s: Pick<SmtpState, 'config' | 'tls'>): boolean {
  return (s.config.tls === 'starttls' || s.config.tls === 'required') && !s.tls;
}
function clearOk(s: Pick<SmtpState, 'config' | 'tls'>): boolean {
  return s.tls || s.config.tls !== 'required';
}

function send(text: string): MailAction {
  return { type: 'send-to-client', bytes: ascii(`${text}\r\n`) };
}
function line(bytes: Uint8Array): Uint8Array {
  return concat(bytes, ascii('\r\n'));
}
const QUIT = ascii('QUIT\r\n');

const PROTOCOL: FrontProtocol<SmtpState> = {
  pump,
  stream,
  lookupResult,
  backendOpen: (s) => s.open,
  backend,
  backendFailed,
  name: 'smtp',
  tooMuchInput: send('421 4.7.0 Too much input, closing connection'),
  timeoutReply: '421 4.4.2 Timeout, closing connection\r\n',
  close: closeWith,
};

/** Advances the dialogue by one event. */
export function smtpStep(state: SmtpState, event: MailEvent): Step<SmtpState> {
  return frontStep(PROTOCOL, state, event);
}

/**
 * The backend broke: mid-exchange a temporary failure; with recipients taken, DATA will say 451; mid-message, the
 * rest of the message is read and thrown away and its end answered 451 (the MTA keeps it and tries again).
 */
function backendFailed(s: Mutable<SmtpState>, out: MailAction[]): void {
  if (!s.open) return;
  s.open = false;
  s.backendBuf = EMPTY;
  out.push({ type: 'close-backend' });
  if (s.phase === 'backend') tempFailure(s, out);
  else if (s.phase === 'data') discard(s, '451 4.3.0 Connection to the mail server lost, try again later');
  else if (s.bound && s.accepted > 0) s.lost = true;
  else { s.server = undefined; s.bound = false; }
}

function closeWith(s: Mutable<SmtpState>, out: MailAction[], reason: string): Step<SmtpState> {
  const open = s.open;
  s.open = false;
  return closeDialogue(s, out, reason, open);
}

function pump(s: Mutable<SmtpState>, out: MailAction[]): void {
  const opts: LineOptions = { maxLine: Math.max(s.config.maxAuthLine, s.config.maxLine), bareLf: false };
  while (s.phase === 'command' || s.phase === 'sasl') {
    const frame = readLine(s.buf, 0, opts);
    if (frame.kind === 'need-more') break;
    if (frame.kind !== 'line') {
      const bare = frame.kind === 'error' && frame.code === 'bare-lf';
      out.push(send(bare ? '500 5.5.2 Line ended in bare LF, closing connection' : '500 5.5.6 Line too long, closing connection'));
      closeWith(s, out, `smtp client: ${frame.kind === 'error' ? frame.reason : 'unframed'}`);
      return;
    }
    s.buf = s.buf.subarray(frame.next);
    if (s.phase === 'sasl') saslMove(s, out, saslContinue(s.sasl as SaslPending, frame.line, s.config));
    else if (frame.next > s.config.maxLine && !startsWithWord(frame.line, 'AUTH ')) answer(s, out, '500 5.5.6 Line too long');
    else command(s, out, frame.line);
  }
}

/** Answers and counts a command; at the limit the connection closes (RFC 5321 4.2.2 421). */
function answer(s: Mutable<SmtpState>, out: MailAction[], text: string): void {
  out.push(send(text));
  s.commands++;
  if (s.commands >= s.config.maxCommands && s.phase === 'command') {
    out.push(send('421 4.7.0 Too many commands, closing connection'));
    closeWith(s, out, 'smtp client: too many commands');
  }
}

/**
 * Ends the transaction (RFC 5321 4.1.1.5, 4.1.4: EHLO and RSET reset). A backend that holds it gets QUIT (a new
 * transaction routes afresh); an idle one (between transactions) is kept when `keepIdle` (RSET), since it holds
 * nothing to reset.
 */
function reset(s: Mutable<SmtpState>, out: MailAction[], keepIdle: boolean): void {
  if (s.open && (s.bound || !keepIdle)) quitBackend(s, out);
  if (!s.open) s.server = undefined;
  s.mail = undefined;
  s.rcpt = undefined;
  s.bound = false;
  s.accepted = 0;
  s.recipients = 0;
  s.lost = false;
}

/** Leaves the backend politely: QUIT, its answer not awaited. */
function quitBackend(s: Mutable<SmtpState>, out: MailAction[]): void {
  out.push({ type: 'close-backend', farewell: QUIT });
  s.open = false;
  s.server = undefined;
  s.bound = false;
  s.backendBuf = EMPTY;
}

function command(s: Mutable<SmtpState>, out: MailAction[], l: Uint8Array): void {
  const { head, rest } = splitFirst(l);
  if ((isWord(head, 'EHLO') || isWord(head, 'HELO')) && rest !== undefined && rest.length > 0) {
    reset(s, out, false);
    s.helo = l.slice();
    if (isWord(head, 'HELO')) return answer(s, out, `250 ${s.config.hostname}`);
    const ext = [s.config.hostname, ...smtpExtensions(s)];
    return answer(s, out, ext.map((e, i) => `250${i === ext.length - 1 ? ' ' : '-'}${e}`).join('\r\n'));
  }
  if (isWord(head, 'EHLO') || isWord(head, 'HELO')) return answer(s, out, '501 5.5.4 Syntax: EHLO hostname');
  if (isWord(head, 'QUIT') && rest === undefined) {
    if (s.open) quitBackend(s, out);
    out.push(send('221 2.0.0 Bye'));
    closeWith(s, out, 'smtp client: quit');
    return;
  }
  if (isWord(head, 'NOOP')) return answer(s, out, '250 2.0.0 Ok');
  if (isWord(head, 'RSET') && rest === undefined) {
    reset(s, out, true);
    return answer(s, out, '250 2.0.0 Ok');
  }
  if (isWord(head, 'STARTTLS') && rest === undefined) {
    if (!offered(s)) return answer(s, out, s.tls ? '503 5.5.1 TLS already active' : '502 5.5.1 STARTTLS not offered');
    reset(s, out, false);
    out.push(send('220 2.0.0 Ready to start TLS'), { type: 'start-tls' });
    s.phase = 'starting-tls';
    s.buf = EMPTY; // bytes sent after STARTTLS in clear must never count as commands (CVE-2011-0411)
    s.helo = undefined; // RFC 3207 4.2: the client starts over with EHLO
    return;
  }
  if (isWord(head, 'AUTH')) return auth(s, out, rest);
  if (startsWithWord(l, 'MAIL FROM:')) return mail(s, out, l);
  if (startsWithWord(l, 'RCPT TO:')) return rcpt(s, out, l);
  if (isWord(head, 'DATA') && rest === undefined) return data(s, out, l);
  if (isWord(head, 'VRFY')) return answer(s, out, '252 2.5.2 Cannot VRFY user');
  if (isWord(head, 'MAIL') || isWord(head, 'RCPT') || isWord(head, 'DATA')) return answer(s, out, '501 5.5.4 Syntax error in parameters');
  answer(s, out, '500 5.5.2 Command not recognized');
}

function auth(s: Mutable<SmtpState>, out: MailAction[], rest: Uint8Array | undefined): void {
  if (!s.config.auth) return answer(s, out, '502 5.5.1 AUTH not available');
  if (!clearOk(s)) return answer(s, out, '530 5.7.0 Must issue a STARTTLS command first');
  if (s.helo === undefined || !isWord(splitFirst(s.helo).head, 'EHLO')) return answer(s, out, '503 5.5.1 Send EHLO first');
  if (s.mail !== undefined) return answer(s, out, '503 5.5.1 AUTH not allowed during a mail transaction');
  if (rest === undefined) return answer(s, out, '501 5.5.4 Syntax: AUTH mechanism');
  const m = splitFirst(rest);
  const mech = isWord(m.head, 'PLAIN') ? 'plain' : isWord(m.head, 'LOGIN') ? 'login' : undefined;
  if (mech === undefined) return answer(s, out, '504 5.5.4 Unrecognized authentication type');
  saslMove(s, out, saslStart(mech, m.rest, s.config));
}

function saslMove(s: Mutable<SmtpState>, out: MailAction[], step: SaslStep): void {
  s.sasl = undefined;
  s.phase = 'command';
  switch (step.kind) {
    case 'challenge':
      s.sasl = step.pending;
      s.phase = 'sasl';
      out.push(send(`334 ${step.prompt}`));
      return;
    case 'done':
      s.credentials = step.credentials;
      return lookup(s, out, 'auth', step.credentials.user);
    case 'cancelled':
      return answer(s, out, '501 5.0.0 Authentication cancelled');
    case 'bad-base64':
      return answer(s, out, '501 5.5.2 Cannot decode response');
    case 'malformed':
      return failed(s, out);
  }
}

function failed(s: Mutable<SmtpState>, out: MailAction[]): void {
  s.failures++;
  s.credentials = undefined;
  if (s.failures >= s.config.maxAuthFailures) {
    out.push(send('535 5.7.8 Authentication credentials invalid'), send('421 4.7.0 Too many failed logins, closing connection'));
    closeWith(s, out, 'smtp client: too many failed logins');
    return;
  }
  answer(s, out, '535 5.7.8 Authentication credentials invalid');
}

function mail(s: Mutable<SmtpState>, out: MailAction[], l: Uint8Array): void {
  if (!s.config.delivery) return answer(s, out, '530 5.7.0 Authentication required');
  if (!clearOk(s)) return answer(s, out, '530 5.7.0 Must issue a STARTTLS command first');
  if (s.helo === undefined) return answer(s, out, '503 5.5.1 Send EHLO or HELO first');
  if (s.mail !== undefined) return answer(s, out, '503 5.5.1 Nested MAIL command');
  const path = l.subarray('MAIL FROM:'.length);
  let p = 0;
  while (path[p] === 0x20) p++;
  if (!(path[p] === 0x3c && path[p + 1] === 0x3e) && parsePath(path) === undefined) return answer(s, out, '501 5.1.7 Bad sender address syntax');
  s.mail = l.slice();
  answer(s, out, '250 2.1.0 Ok');
}

function rcpt(s: Mutable<SmtpState>, out: MailAction[], l: Uint8Array): void {
  if (s.mail === undefined) return answer(s, out, '503 5.5.1 Need MAIL command');
  if (s.recipients >= s.config.maxRecipients) return void out.push(send('452 4.5.3 Too many recipients'));
  const box = parsePath(l.subarray('RCPT TO:'.length));
  if (box === undefined) return answer(s, out, '501 5.1.3 Bad recipient address syntax');
  const key = s.config.rcptKey === 'local-part' || box.domain.length === 0 ? box.local : concat(box.local, ascii('@'), box.domain);
  if (checkCredentials(key, ascii('x'), s.config) !== 'ok') return answer(s, out, '501 5.1.3 Bad recipient address syntax');
  s.recipients++;
  s.rcpt = l.slice();
  lookup(s, out, 'rcpt', key);
}

function data(s: Mutable<SmtpState>, out: MailAction[], l: Uint8Array): void {
  if (s.mail === undefined) return answer(s, out, '503 5.5.1 Need MAIL command');
  if (s.lost) {
    reset(s, out, false);
    return answer(s, out, '451 4.3.0 Temporary failure, try again later');
  }
  if (s.accepted === 0 || !s.open) return answer(s, out, '554 5.5.1 No valid recipients');
  out.push({ type: 'send-to-backend', bytes: line(l) });
  s.phase = 'backend';
  s.purpose = 'data';
  s.setup = 0;
  s.replay = [];
}

/** The backend said 354: the message follows. A client that did not wait for it has its bytes streamed now. */
function startMessage(s: Mutable<SmtpState>, out: MailAction[]): void {
  s.phase = 'data';
  s.sink = 'backend';
  s.scan = DATA_START;
  const early = s.buf;
  s.buf = EMPTY;
  if (early.length > 0) stream(s, out, early);
}

/** The rest of this message is thrown away; its end gets `reply`. */
function discard(s: Mutable<SmtpState>, reply: string): void {
  s.sink = 'discard';
  s.discardReply = reply;
}

/**
 * Message bytes as they come: to the backend (or thrown away) up to the end of data, which goes too; the bytes
 * after it are the client's next commands, read once the backend has answered the message.
 */
function stream(s: Mutable<SmtpState>, out: MailAction[], bytes: Uint8Array): void {
  let from = 0;
  for (;;) {
    const r = scanData(s.scan, bytes, from, s.sink === 'backend');
    if (r.kind === 'more') {
      s.scan = r.state;
      if (s.sink === 'backend' && from < bytes.length) out.push({ type: 'stream-to-backend', bytes: bytes.subarray(from) });
      return;
    }
    if (r.kind === 'bare') {
      // Cut before the byte that makes the end ambiguous: a server that reads LF or CR alone as a line end never
      // sees a terminator yoke did not see (SMTP smuggling). Without the end of data the server drops the message.
      if (r.at > from) out.push({ type: 'stream-to-backend', bytes: bytes.subarray(from, r.at) });
      out.push({ type: 'close-backend' });
      s.open = false;
      s.server = undefined;
      s.bound = false;
      s.backendBuf = EMPTY;
      discard(s, '554 5.6.0 Message contains a bare CR or LF, not delivered');
      s.scan = r.state;
      from = r.at;
      continue;
    }
    if (s.sink === 'backend') out.push({ type: 'stream-to-backend', bytes: bytes.subarray(from, r.next) });
    s.buf = bytes.subarray(r.next).slice();
    if (s.sink === 'backend') {
      s.phase = 'backend';
      s.purpose = 'message';
      backend(s, out); // a reply the server sent early is read now
      return;
    }
    s.phase = 'command';
    reset(s, out, false);
    s.commands = 0;
    out.push(send(s.discardReply));
    pump(s, out);
    return;
  }
}

function lookup(s: Mutable<SmtpState>, out: MailAction[], purpose: 'auth' | 'rcpt', user: Uint8Array): void {
  s.purpose = purpose;
  s.phase = 'lookup';
  out.push({ type: 'lookup', user: user.slice() });
}

function lookupResult(s: Mutable<SmtpState>, out: MailAction[], a: LookupAnswer): void {
  s.phase = 'command';
  if (a.kind === 'temp-failure') {
    tempFailure(s, out);
    return;
  }
  if (a.kind === 'unknown-user') {
    if (s.purpose === 'auth') failed(s, out);
    else answer(s, out, '550 5.1.1 Recipient address rejected: user unknown');
  } else if (s.purpose === 'rcpt' && s.bound && s.server !== a.server) {
    answer(s, out, '451 4.3.0 Recipient on another server, try again later');
  } else {
    s.phase = 'backend';
    if (s.purpose === 'rcpt' && s.open && s.server === a.server && (s.bound || s.backendBuf.length === 0)) {
      // The transaction's backend, or the idle one of the last transaction (MAIL first, as it has not had it) unless
      // it spoke while idle (a 421 before closing, say): its words would be read as the answer to MAIL.
      s.setup = 0;
      s.replay = s.bound ? [line(s.rcpt as Uint8Array)] : [line(s.mail as Uint8Array), line(s.rcpt as Uint8Array)];
      s.bound = true;
      next(s, out);
      return;
    }
    if (s.open) quitBackend(s, out); // idle on another server, or a login after mail
    s.open = true;
    s.bound = s.purpose === 'rcpt';
    s.server = a.server;
    s.backendBuf = EMPTY;
    s.setup = 2; // greeting and EHLO
    s.replay = s.purpose === 'rcpt'
      ? [line(s.helo as Uint8Array), line(s.mail as Uint8Array), line(s.rcpt as Uint8Array)]
      : [line(s.helo as Uint8Array), ...smtpAuthReplay(s.credentials as Credentials)];
    out.push({ type: 'connect-backend', server: a.server });
    return;
  }
  pump(s, out);
}

/** The AUTH lines for the backend after its EHLO answer: each next one after a 334. */
export function smtpAuthReplay(c: Credentials): Uint8Array[] {
  if (c.mechanism === 'plain') return [concat(ascii('AUTH PLAIN '), encodePlain(c), ascii('\r\n'))];
  return [ascii('AUTH LOGIN\r\n'), line(encodeBase64(c.user)), line(encodeBase64(c.password))];
}

/**
 * The temporary failure for what was in flight: 454 for AUTH (RFC 4954 6), 451 4.3.0 for a recipient, DATA or a
 * message (whose transaction ends with the backend: RFC 5321 6.1, a message answered 4xx stays with the sender).
 */
function tempFailure(s: Mutable<SmtpState>, out: MailAction[]): void {
  const wasAuth = s.purpose === 'auth';
  s.phase = 'command';
  s.credentials = undefined;
  s.replay = [];
  if (s.purpose === 'data' || s.purpose === 'message') {
    if (s.open) out.push({ type: 'close-backend' });
    s.open = false;
    reset(s, out, false);
    s.commands = 0;
  } else if (wasAuth || s.accepted === 0) {
    // nothing taken yet: the transaction is unbound, the next RCPT routes afresh (the backend may have broken)
    if (s.open) out.push({ type: 'close-backend' });
    s.open = false;
    s.server = undefined;
    s.bound = false;
  }
  answer(s, out, wasAuth ? '454 4.7.0 Temporary authentication failure' : '451 4.3.0 Temporary failure, try again later');
  pump(s, out);
}

/** Reads backend replies while an exchange runs. */
function backend(s: Mutable<SmtpState>, out: MailAction[]): void {
  while (s.phase === 'backend') {
    const r = readReply(s.backendBuf, 0);
    if (r === 'need-more') return;
    if (r === 'malformed') return tempFailure(s, out);
    s.backendBuf = s.backendBuf.subarray(r.next);
    const positive = r.code >= 200 && r.code < 400;
    if (s.setup > 0) {
      s.setup--;
      if (!positive) return tempFailure(s, out);
      next(s, out);
      continue;
    }
    if (s.replay.length > 0 && positive) {
      next(s, out);
      continue;
    }
    finalReply(s, out, r.lines, r.code, s.replay.length > 0);
  }
}

function next(s: Mutable<SmtpState>, out: MailAction[]): void {
  const [first, ...rest] = s.replay;
  if (first === undefined) return;
  out.push({ type: 'send-to-backend', bytes: first });
  s.replay = rest;
  if (rest.length === 0) s.credentials = undefined;
}

/**
 * The backend's answer to the AUTH, RCPT (or to MAIL, when it refused the sender), DATA or message goes to the client
 * as is.
 */
function finalReply(s: Mutable<SmtpState>, out: MailAction[], lines: readonly Uint8Array[], code: number, early: boolean): void {
  out.push({ type: 'send-to-client', bytes: concat(...lines.map(line)) });
  s.phase = 'command';
  s.replay = [];
  s.credentials = undefined;
  if (s.purpose === 'data') {
    if (code >= 300 && code < 400) return startMessage(s, out);
    reset(s, out, false); // DATA refused: both sides start clean, the next MAIL routes afresh
  } else if (s.purpose === 'message') {
    // The transaction is over whatever the answer (RFC 5321 4.1.1.4); the backend stays for the next one.
    s.bound = false;
    reset(s, out, true);
    s.commands = 0;
  } else if (s.purpose === 'auth') {
    if (code >= 200 && code < 300) {
      s.phase = 'piping';
      out.push({ type: 'start-piping', toBackend: s.buf.slice(), toClient: s.backendBuf.slice() });
      s.buf = EMPTY;
      s.backendBuf = EMPTY;
      return;
    }
    out.push({ type: 'close-backend' });
    s.open = false;
    s.server = undefined;
    s.failures++;
    if (s.failures >= s.config.maxAuthFailures) {
      out.push(send('421 4.7.0 Too many failed logins, closing connection'));
      closeWith(s, out, 'smtp client: too many failed logins');
      return;
    }
  } else if (code >= 200 && code < 300) {
    s.accepted++;
  } else if (early) {
    // the backend refused the sender: this transaction has no backend yet, the next RCPT routes afresh
    quitBackend(s, out);
  }
  pump(s, out);
}
