/**
 * SASL for the mail front: strict base64 (RFC 4648 4, as RFC 4954/5034/9051 require), PLAIN (RFC 4616) and LOGIN
 * (draft-murchison-sasl-login) decoded and encoded, and the server side of both as one small pure dialogue that
 * IMAP, POP3 and SMTP wrap in their own words (`+ …`, `334 …`). Nothing here throws.
 */
import type { Credentials } from './types.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/**
 * Decodes strict base64: length a multiple of 4, padding only at the end, no whitespace, unused bits zero (one
 * spelling per value, so nothing can hide in the slack). `=` alone is the empty response of RFC 4954/4959/5034.
 */
export function decodeBase64(text: Uint8Array): Uint8Array | undefined {
  if (text.length === 1 && text[0] === 0x3d) return new Uint8Array(0);
  if (text.length % 4 !== 0) return undefined;
  let pad = 0;
  if (text.length > 0 && text[text.length - 1] === 0x3d) pad = text[text.length - 2] === 0x3d ? 2 : 1;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const a = VALUE[text[i] as number] as number;
    const b = VALUE[text[i + 1] as number] as number;
    const c = last && pad === 2 ? 0 : (VALUE[text[i + 2] as number] as number);
    const d = last && pad >= 1 ? 0 : (VALUE[text[i + 3] as number] as number);
    if ((a | b | c | d) < 0) return undefined;
    if (last && pad === 2 && (b & 0x0f) !== 0) return undefined;
    if (last && pad === 1 && (c & 0x03) !== 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

/** Encodes bytes as base64 (with padding), as ASCII bytes ready for a line. */
export function encodeBase64(bytes: Uint8Array): Uint8Array {
  return Buffer.from(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64'), 'latin1');
}

/** Limits on what a login may carry; RFC 4616 asks a server to take at least 255 octets of each. */
export interface SaslLimits {
  readonly maxUser: number;
  readonly maxPassword: number;
}

export type CredentialCheck = 'ok' | 'empty-user' | 'user-too-long' | 'bad-user-byte' | 'empty-password' | 'password-too-long' | 'bad-password-byte';

/**
 * The one rule for every identity yoke accepts, whatever the protocol: a user of 1..maxUser octets without NUL,
 * CR or LF (none of the three protocols could replay those on a line), a password of 1..maxPassword octets without
 * NUL (PLAIN could not carry it). Every other byte passes through exactly: the directory and the backend judge.
 */
export function checkCredentials(user: Uint8Array, password: Uint8Array, limits: SaslLimits): CredentialCheck {
  if (user.length === 0) return 'empty-user';
  if (user.length > limits.maxUser) return 'user-too-long';
  if (user.includes(0) || user.includes(0x0d) || user.includes(0x0a)) return 'bad-user-byte';
  if (password.length === 0) return 'empty-password';
  if (password.length > limits.maxPassword) return 'password-too-long';
  if (password.includes(0)) return 'bad-password-byte';
  return 'ok';
}

/** Splits a PLAIN message `authzid NUL authcid NUL passwd` (RFC 4616 2); undefined unless exactly two NULs. */
export function decodePlain(message: Uint8Array): { authzid: Uint8Array; user: Uint8Array; password: Uint8Array } | undefined {
  const first = message.indexOf(0);
  if (first < 0) return undefined;
  const second = message.indexOf(0, first + 1);
  if (second < 0 || message.indexOf(0, second + 1) >= 0) return undefined;
  return { authzid: message.subarray(0, first), user: message.subarray(first + 1, second), password: message.subarray(second + 1) };
}

/** Builds a PLAIN message for the backend, base64-encoded. */
export function encodePlain(c: Credentials): Uint8Array {
  const m = new Uint8Array(c.authzid.length + c.user.length + c.password.length + 2);
  m.set(c.authzid, 0);
  m.set(c.user, c.authzid.length + 1);
  m.set(c.password, c.authzid.length + c.user.length + 2);
  return encodeBase64(m);
}

/** The LOGIN mechanism's prompts, base64 of "Username:" and "Password:". */
export const LOGIN_USER_PROMPT = 'VXNlcm5hbWU6';
export const LOGIN_PASSWORD_PROMPT = 'UGFzc3dvcmQ6';

/** A SASL exchange in progress on the server side: which answer the client owes next. */
export type SaslPending =
  | { readonly mechanism: 'plain' }
  | { readonly mechanism: 'login'; readonly user: Uint8Array | undefined };

/** The next move of a SASL exchange: send a challenge (base64 text), done, or a refusal. */
export type SaslStep =
  | { readonly kind: 'challenge'; readonly prompt: string; readonly pending: SaslPending }
  | { readonly kind: 'done'; readonly credentials: Credentials }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'bad-base64' }
  | { readonly kind: 'malformed'; readonly check: CredentialCheck | 'not-plain' };

/** Starts PLAIN or LOGIN with an optional initial response (SASL-IR, RFC 4954 / 5034 / 4959). */
export function saslStart(mechanism: 'plain' | 'login', initial: Uint8Array | undefined, limits: SaslLimits): SaslStep {
  const pending: SaslPending = mechanism === 'plain' ? { mechanism } : { mechanism, user: undefined };
  if (initial === undefined) return { kind: 'challenge', prompt: mechanism === 'plain' ? '' : LOGIN_USER_PROMPT, pending };
  return saslContinue(pending, initial, limits);
}

/** Takes the client's answer line (base64, or `*` to cancel) and gives the next move. */
export function saslContinue(pending: SaslPending, line: Uint8Array, limits: SaslLimits): SaslStep {
  if (line.length === 1 && line[0] === 0x2a) return { kind: 'cancelled' };
  const bytes = decodeBase64(line);
  if (bytes === undefined) return { kind: 'bad-base64' };
  if (pending.mechanism === 'plain') {
    const m = decodePlain(bytes);
    if (m === undefined) return { kind: 'malformed', check: 'not-plain' };
    return finish('plain', m.authzid, m.user, m.password, limits);
  }
  if (pending.user === undefined) {
    return { kind: 'challenge', prompt: LOGIN_PASSWORD_PROMPT, pending: { mechanism: 'login', user: bytes } };
  }
  return finish('login', new Uint8Array(0), pending.user, bytes, limits);
}

function finish(mechanism: 'plain' | 'login', authzid: Uint8Array, user: Uint8Array, password: Uint8Array, limits: SaslLimits): SaslStep {
  const check = checkCredentials(user, password, limits);
  if (check !== 'ok') return { kind: 'malformed', check };
  if (authzid.length > limits.maxUser || authzid.includes(0x0d) || authzid.includes(0x0a)) return { kind: 'malformed', check: 'bad-user-byte' };
  return { kind: 'done', credentials: { mechanism, authzid: authzid.slice(), user: user.slice(), password: password.slice() } };
}
