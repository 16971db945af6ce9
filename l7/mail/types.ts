/**
 * What the three mail front dialogues (IMAP, POP3, SMTP) share: the events the socket code feeds them, the actions
 * they ask of it, the login they extract, and a few byte helpers. Each dialogue is `step(state, event) →
 * { state, actions }`, pure: the socket code performs the actions in order and feeds back what happened.
 */

/** How a service treats TLS toward its clients. */
export type TlsPolicy =
  /** no STARTTLS offered; logins in clear allowed */
  | 'off'
  /** STARTTLS offered; logins in clear still allowed */
  | 'starttls'
  /** STARTTLS offered and no login (nor SMTP mail) before it: never a plaintext password */
  | 'required'
  /** the connection is TLS from its first byte (993, 995, 465): nothing to offer */
  | 'implicit';

/** The router's answer to a `lookup`: the user's server (an id the router understands), or why there is none. */
export type LookupAnswer =
  | { readonly kind: 'server'; readonly server: string }
  | { readonly kind: 'unknown-user' }
  | { readonly kind: 'temp-failure'; readonly reason: string };

/** What the socket code reports to a dialogue. */
export type MailEvent =
  /** bytes from the client, as read (any split) */
  | { readonly type: 'client-bytes'; readonly bytes: Uint8Array }
  /** the TLS handshake asked for by `start-tls` finished; from now on client-bytes are the decrypted stream */
  | { readonly type: 'tls-started' }
  | { readonly type: 'lookup-result'; readonly answer: LookupAnswer }
  /** bytes from the backend asked for by `connect-backend` (its greeting comes this way; after a STARTTLS upgrade of
   * the hop, the greeting it gave in clear, once TLS is up) */
  | { readonly type: 'backend-bytes'; readonly bytes: Uint8Array }
  /** the backend could not be reached, closed, or its TLS failed: a temporary failure for the client */
  | { readonly type: 'backend-failed'; readonly reason: string }
  /** the login deadline (the socket code's clock) passed */
  | { readonly type: 'timeout' };

/** What a dialogue asks the socket code to do, in order. */
export type MailAction =
  | { readonly type: 'send-to-client'; readonly bytes: Uint8Array }
  /** answer already queued: flush it, then run the TLS handshake and report `tls-started` (or close on failure) */
  | { readonly type: 'start-tls' }
  /** ask the router where this user lives; the exact bytes the client sent, never a password */
  | { readonly type: 'lookup'; readonly user: Uint8Array }
  | { readonly type: 'connect-backend'; readonly server: string }
  | { readonly type: 'send-to-backend'; readonly bytes: Uint8Array }
  /** message bytes (SMTP delivery, between 354 and the end of data): written with backpressure (the client is
   * paused while the backend's buffer is full) and counted as the session's traffic; the first one establishes the
   * session (from then on the idle timeout applies, not the login deadline) */
  | { readonly type: 'stream-to-backend'; readonly bytes: Uint8Array }
  /** drop the backend connection (its login failed, or it broke; or, with `farewell`, the protocol's goodbye written
   * first, its answer not awaited); the client stays */
  | { readonly type: 'close-backend'; readonly farewell?: Uint8Array }
  /** the login is replayed: write these leftovers each way, then copy bytes both ways until either side closes */
  | { readonly type: 'start-piping'; readonly toBackend: Uint8Array; readonly toClient: Uint8Array }
  /** answer already queued: flush it and close both sides; `reason` is for the log and never holds a secret */
  | { readonly type: 'close'; readonly reason: string };

/** A login the client gave: exact bytes, no trimming, no case folding. */
export interface Credentials {
  /** how the client logged in, and so how the replay logs in: SASL PLAIN, SASL LOGIN, or the protocol's own
   * login command (IMAP LOGIN, POP3 USER/PASS) */
  readonly mechanism: 'plain' | 'login' | 'command';
  /** SASL authorization identity; empty when none was given */
  readonly authzid: Uint8Array;
  readonly user: Uint8Array;
  readonly password: Uint8Array;
}

export interface Step<S> {
  readonly state: S;
  readonly actions: MailAction[];
}

/** Limits every dialogue has; each protocol file gives its defaults. */
export interface CommonLimits {
  /** longest command line, octets with CRLF */
  readonly maxLine: number;
  /** commands before the login (or, in SMTP delivery, before the first routed RCPT) */
  readonly maxCommands: number;
  /** failed logins before the connection is closed */
  readonly maxAuthFailures: number;
  readonly maxUser: number;
  readonly maxPassword: number;
  /** client bytes held while yoke waits on the router or backend (pipelined commands), before it gives up */
  readonly maxPending: number;
}

const EMPTY = new Uint8Array(0);
export { EMPTY };

/** ASCII text to bytes (the protocol's own words; never user data). */
export function ascii(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

/** Joins byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** Whether `bytes` equals the ASCII word `word` ignoring ASCII case (`word` given in upper case). */
export function isWord(bytes: Uint8Array, word: string): boolean {
  if (bytes.length !== word.length) return false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if ((b >= 0x61 && b <= 0x7a ? b - 0x20 : b) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** Splits a line at its first SP: the keyword and the rest (undefined when there is no SP). */
export function splitFirst(line: Uint8Array): { head: Uint8Array; rest: Uint8Array | undefined } {
  const sp = line.indexOf(0x20);
  return sp < 0 ? { head: line, rest: undefined } : { head: line.subarray(0, sp), rest: line.subarray(sp + 1) };
}

/** Whether the line starts with the ASCII `prefix`, ignoring case (`prefix` in upper case). */
export function startsWithWord(line: Uint8Array, prefix: string): boolean {
  return line.length >= prefix.length && isWord(line.subarray(0, prefix.length), prefix);
}
