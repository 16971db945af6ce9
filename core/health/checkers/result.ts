/*
 * What every checker shares: building results, turning socket errors into words an operator reads in `yoke ctl`,
 * and settling a socket-shaped check exactly once with its resources released.
 */
import type { CheckResult } from '../checker.ts';

/** A passing result. */
export function pass(detail: string, weight?: number): CheckResult {
  return weight === undefined ? { ok: true, detail } : { ok: true, detail, weight };
}

/** A failing result. */
export function fail(detail: string): CheckResult {
  return { ok: false, detail };
}

/** The result of a check whose signal aborted: the prober aborts at the check's timeout. */
export function timedOut(timeoutMs: number, where = ''): CheckResult {
  return fail(`timeout after ${timeoutMs}ms${where}`);
}

const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connect refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ETIMEDOUT: 'connect timed out',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
  HPE_INVALID_CONSTANT: 'malformed HTTP response',
};

/** Words for an error from a socket, TLS or undici, short enough for one line of `yoke ctl`. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  // undici wraps the socket's own error as `cause` (UND_ERR_SOCKET "other side closed" says less than ECONNRESET).
  const cause = err.cause instanceof Error ? (err.cause as NodeJS.ErrnoException).code : undefined;
  for (const c of [cause, code]) if (c !== undefined && ERRNO_WORDS[c] !== undefined) return ERRNO_WORDS[c];
  // TLS verification failures carry OpenSSL's codes (DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE,
  // ERR_TLS_CERT_ALTNAME_INVALID…); Node's advice after ';' (--use-system-ca) is for its own users, not operators.
  if (code !== undefined && /CERT|SIGNATURE|ISSUER|SELF_SIGNED|ALTNAME/.test(code)) return `certificate rejected: ${err.message.split(';')[0]}`;
  if (code?.startsWith('HPE_')) return 'malformed HTTP response';
  return code !== undefined ? `${code}: ${err.message}` : err.message;
}

/**
 * Runs a callback-style check and resolves with its first result. `start` opens its resources, calls `done`
 * (as often as it likes; the first call wins) and returns a cleanup that releases them. Cleanup runs exactly
 * once, before the promise resolves; when `signal` aborts first the result is a timeout. Never rejects: a throw
 * from `start` becomes a failure.
 */
export function settleOnce(
  signal: AbortSignal,
  timeoutMs: number,
  start: (done: (result: CheckResult) => void) => () => void,
): Promise<CheckResult> {
  if (signal.aborted) return Promise.resolve(timedOut(timeoutMs));
  return new Promise((resolve) => {
    let settled = false;
    let cleanup: (() => void) | undefined;
    const done = (result: CheckResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      try { cleanup?.(); } catch { /* releasing must not turn a result into an exception */ }
      resolve(result);
    };
    const onAbort = (): void => done(timedOut(timeoutMs));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const release = start(done);
      // `done` may already have been called synchronously by start; release now in that case.
      if (settled) release();
      else cleanup = release;
    } catch (err) {
      done(fail(describeError(err)));
    }
  });
}

/** Whether `data` begins with `prefix` (both as bytes). */
export function startsWith(data: Uint8Array, prefix: readonly number[]): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** Whether `data` still could begin with `prefix` once more bytes arrive (it agrees on every byte it has). */
export function couldStartWith(data: Uint8Array, prefix: readonly number[]): boolean {
  const n = Math.min(data.length, prefix.length);
  for (let i = 0; i < n; i++) if (data[i] !== prefix[i]) return false;
  return true;
}
