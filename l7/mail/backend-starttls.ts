/**
 * STARTTLS toward a mail server, as a pure machine: yoke has connected to the server in clear and reads its greeting,
 * asks for TLS in the protocol's own words (IMAP: STARTTLS once CAPABILITY lists it, RFC 9051 6.2.1; POP3: STLS,
 * RFC 2595 4; SMTP: EHLO, then STARTTLS once the EHLO answer lists it, RFC 3207 4), and says when to run the TLS
 * handshake. The login is replayed only after it (the front dialogue's replay, fed the greeting read here), so no
 * login byte ever crosses in clear: a server that does not offer STARTTLS, refuses it or answers out of turn is a
 * failure, never a reason to log in without TLS.
 *
 * Bytes the server sends after its go-ahead and before the handshake were not protected by the TLS to come and may
 * be a man in the middle's (the response injection of "NO STARTTLS", USENIX Security 2021): their presence is a
 * failure, never data for after the handshake.
 */
import type { Mutable } from './front.ts';
import { readLine, type LineOptions } from './lines.ts';
import { readReply } from './smtp-codec.ts';
import { EMPTY, ascii, concat, isWord, startsWithWord } from './types.ts';

export type UpgradeProtocol = 'imap' | 'pop3' | 'smtp';

/** Where an upgrade stands; treat as opaque outside tests. */
export interface UpgradeState {
  readonly proto: UpgradeProtocol;
  /** the name yoke gives in its SMTP EHLO */
  readonly hostname: string;
  /** the server reply awaited: its greeting, IMAP's CAPABILITY, SMTP's EHLO answer, the answer to STARTTLS/STLS */
  readonly stage: 'greeting' | 'capability' | 'ehlo' | 'starttls' | 'done';
  /** server bytes not yet read */
  readonly buf: Uint8Array;
  /** the greeting as the server sent it (with its CRLFs), for the front dialogue once TLS is up */
  readonly greeting: Uint8Array;
  /** IMAP: a CAPABILITY response listed STARTTLS */
  readonly offered: boolean;
  /** lines read so far, bounded so that a server cannot keep yoke reading forever */
  readonly lines: number;
}

/** What the socket code does, in order. */
export type UpgradeAction =
  /** write these bytes to the server */
  | { readonly type: 'send'; readonly bytes: Uint8Array }
  /** the server said go: run the TLS handshake over this connection now; `greeting` goes to the front dialogue,
   * as the server's first bytes, once the handshake (and the certificate check) passed */
  | { readonly type: 'handshake'; readonly greeting: Uint8Array }
  /** no TLS with this server: drop the connection; `reason` is for the log */
  | { readonly type: 'fail'; readonly reason: string };

export interface UpgradeStep {
  readonly state: UpgradeState;
  readonly actions: UpgradeAction[];
}

/** The longest server line taken (a greeting or capability list is a few hundred octets) and the lines in all. */
export const UPGRADE_LIMITS = Object.freeze({ maxLine: 8192, maxLines: 256 });

const LINES: LineOptions = { maxLine: UPGRADE_LIMITS.maxLine, bareLf: true };
/** The tags of yoke's own IMAP commands here; the login's replay uses Y1, Y2, … */
const CAPABILITY_TAG = 'S1';
const STARTTLS_TAG = 'S2';

/** The first state: nothing to send, the server speaks first. */
export function upgradeStart(proto: UpgradeProtocol, hostname: string): UpgradeState {
  return { proto, hostname, stage: 'greeting', buf: EMPTY, greeting: EMPTY, offered: false, lines: 0 };
}

/** Reads what the server sent (any split) and says what to do. */
export function upgradeStep(state: UpgradeState, bytes: Uint8Array): UpgradeStep {
  if (state.stage === 'done') return { state, actions: [] };
  const s: State = { ...state, buf: concat(state.buf, bytes) };
  const out: UpgradeAction[] = [];
  if (s.proto === 'smtp') smtp(s, out);
  else lines(s, out);
  return { state: s, actions: out };
}

/** The copy of the state one step changes. */
type State = Mutable<UpgradeState>;

function fail(s: State, out: UpgradeAction[], reason: string): void {
  s.stage = 'done';
  s.buf = EMPTY;
  out.push({ type: 'fail', reason });
}

function send(out: UpgradeAction[], text: string): void {
  out.push({ type: 'send', bytes: ascii(text) });
}

/** The go-ahead was read: the handshake, unless the server already sent more (nothing may precede TLS). */
function go(s: State, out: UpgradeAction[]): void {
  if (s.buf.length > 0) return fail(s, out, `${s.proto} server: bytes after its STARTTLS answer, before TLS`);
  s.stage = 'done';
  out.push({ type: 'handshake', greeting: s.greeting });
}

/** IMAP and POP3: one line at a time. */
function lines(s: State, out: UpgradeAction[]): void {
  while (s.stage !== 'done') {
    const f = readLine(s.buf, 0, LINES);
    if (f.kind === 'need-more') return;
    if (f.kind !== 'line') return fail(s, out, `${s.proto} server: ${f.kind === 'error' ? f.reason : 'unframed'}`);
    if (++s.lines > UPGRADE_LIMITS.maxLines) return fail(s, out, `${s.proto} server: more than ${UPGRADE_LIMITS.maxLines} lines before TLS`);
    const raw = s.buf.subarray(0, f.next);
    s.buf = s.buf.subarray(f.next);
    if (s.proto === 'imap') imapLine(s, out, f.line, raw);
    else pop3Line(s, out, f.line, raw);
  }
}

function pop3Line(s: State, out: UpgradeAction[], line: Uint8Array, raw: Uint8Array): void {
  const ok = startsWithWord(line, '+OK');
  if (s.stage === 'greeting') {
    if (!ok) return fail(s, out, 'pop3 server: greeting is not +OK');
    s.greeting = raw.slice();
    s.stage = 'starttls';
    return send(out, 'STLS\r\n');
  }
  if (!ok) return fail(s, out, 'pop3 server: STLS refused');
  go(s, out);
}

function imapLine(s: State, out: UpgradeAction[], line: Uint8Array, raw: Uint8Array): void {
  if (s.stage === 'greeting') {
    // PREAUTH leaves no not-authenticated state to start TLS in (RFC 9051 6.2.1); BYE is a refusal
    if (!startsWithWord(line, '* OK')) return fail(s, out, 'imap server: greeting is not * OK');
    s.greeting = raw.slice();
    const caps = greetingCapabilities(line);
    // A greeting's capability list is the one CAPABILITY would give; without one (or without STARTTLS in it) ask.
    if (caps !== undefined && hasStarttls(caps)) { s.stage = 'starttls'; return send(out, `${STARTTLS_TAG} STARTTLS\r\n`); }
    s.stage = 'capability';
    return send(out, `${CAPABILITY_TAG} CAPABILITY\r\n`);
  }
  if (startsWithWord(line, '* BYE')) return fail(s, out, 'imap server: BYE before TLS');
  if (startsWithWord(line, '* ')) {
    if (s.stage === 'capability' && startsWithWord(line, '* CAPABILITY ') && hasStarttls(line.subarray('* CAPABILITY '.length))) s.offered = true;
    return; // other untagged data before TLS is not needed, and dropped
  }
  const tag = s.stage === 'capability' ? CAPABILITY_TAG : STARTTLS_TAG;
  const status = taggedStatus(line, tag);
  if (status === undefined) return fail(s, out, 'imap server: an answer out of turn before TLS');
  if (s.stage === 'capability') {
    if (status !== 'OK') return fail(s, out, `imap server: CAPABILITY answered ${status}`);
    if (!s.offered) return fail(s, out, 'imap server: STARTTLS is not offered');
    s.stage = 'starttls';
    return send(out, `${STARTTLS_TAG} STARTTLS\r\n`);
  }
  if (status !== 'OK') return fail(s, out, `imap server: STARTTLS answered ${status}`);
  go(s, out);
}

/** The capability list of a `* OK [CAPABILITY …] …` greeting, or undefined. */
function greetingCapabilities(line: Uint8Array): Uint8Array | undefined {
  const rest = line.subarray('* OK '.length);
  if (!startsWithWord(rest, '[CAPABILITY ')) return undefined;
  const end = rest.indexOf(0x5d); // ']'
  return end < 0 ? undefined : rest.subarray('[CAPABILITY '.length, end);
}

function hasStarttls(list: Uint8Array): boolean {
  return Buffer.from(list).toString('latin1').split(' ').some((w) => w.toUpperCase() === 'STARTTLS');
}

/** `OK`, `NO` or `BAD` of a line tagged `tag`, else undefined. */
function taggedStatus(line: Uint8Array, tag: string): 'OK' | 'NO' | 'BAD' | undefined {
  if (!startsWithWord(line, `${tag} `)) return undefined;
  const rest = line.subarray(tag.length + 1);
  for (const word of ['OK', 'NO', 'BAD'] as const) if (isWord(rest, word) || startsWithWord(rest, `${word} `)) return word;
  return undefined;
}

/** SMTP: whole (multi-line) replies. */
function smtp(s: State, out: UpgradeAction[]): void {
  while (s.stage !== 'done') {
    const r = readReply(s.buf, 0);
    if (r === 'need-more') {
      if (s.buf.length > UPGRADE_LIMITS.maxLine * 16) fail(s, out, 'smtp server: a reply too long before TLS');
      return;
    }
    if (r === 'malformed') return fail(s, out, 'smtp server: a malformed reply before TLS');
    const raw = s.buf.subarray(0, r.next);
    s.buf = s.buf.subarray(r.next);
    if (s.stage === 'greeting') {
      if (r.code !== 220) return fail(s, out, `smtp server: greeting ${r.code}`);
      s.greeting = raw.slice();
      s.stage = 'ehlo';
      send(out, `EHLO ${s.hostname}\r\n`);
    } else if (s.stage === 'ehlo') {
      if (r.code !== 250) return fail(s, out, `smtp server: EHLO answered ${r.code}`);
      // the first line names the server; each next one is a keyword and its parameters (RFC 5321 4.1.1.1)
      const offered = r.lines.slice(1).some((l) => { const kw = l.subarray(4); const sp = kw.indexOf(0x20); return isWord(sp < 0 ? kw : kw.subarray(0, sp), 'STARTTLS'); });
      if (!offered) return fail(s, out, 'smtp server: STARTTLS is not offered');
      s.stage = 'starttls';
      send(out, 'STARTTLS\r\n');
    } else {
      if (r.code !== 220) return fail(s, out, `smtp server: STARTTLS answered ${r.code}`);
      go(s, out);
    }
  }
}
