import { createSocket } from 'node:dgram';
import type { Endpoint } from '../../address.ts';
import type { Checker, CheckResult } from '../checker.ts';
import type { UdpCheckSpec } from '../spec.ts';
import { describeError, fail, pass, settleOnce, startsWith } from './result.ts';

/** Sent when the spec gives no payload: one zero byte, which any UDP service can receive (and most ignore). */
const DEFAULT_PAYLOAD: readonly number[] = [0];

/** Longest wait for an ICMP error when no reply is required; it comes back within one round trip. */
const MAX_QUIET_MS = 500;

/**
 * How long silence must last before a check that needs no reply passes: half the timeout, at most 500ms. An ICMP
 * port unreachable arrives within one round trip, far below 500ms to any server a director balances; half the
 * timeout keeps the other half as margin, so the check passes before the prober's abort at the timeout would make
 * it a failure.
 */
export function quietPeriodMs(timeoutMs: number): number {
  return Math.max(1, Math.min(Math.floor(timeoutMs / 2), MAX_QUIET_MS));
}

/**
 * Keepalived UDP_CHECK over a connected socket (so the kernel reports an ICMP port unreachable to it as
 * ECONNREFUSED). With `expect`: passes when a reply beginning with those bytes arrives, fails on any other reply.
 * With `requireReply` and no `expect`: any reply passes. With neither: passes after a quiet period (quietPeriodMs)
 * without an ICMP error, or at once on any reply.
 */
export class UdpChecker implements Checker {
  readonly #spec: UdpCheckSpec;

  constructor(spec: UdpCheckSpec) {
    this.#spec = spec;
  }

  check(target: Endpoint, signal: AbortSignal): Promise<CheckResult> {
    const { timeoutMs, requireReply } = this.#spec;
    const expect = this.#spec.expect?.length ? this.#spec.expect : undefined;
    const payload = Uint8Array.from(this.#spec.send ?? DEFAULT_PAYLOAD);
    return settleOnce(signal, timeoutMs, (done) => {
      const socket = createSocket(target.family === 6 ? 'udp6' : 'udp4');
      let quiet: NodeJS.Timeout | undefined;
      // Callbacks still queued when the check ends must not touch the closed socket (send would throw).
      let closed = false;
      socket.on('error', (err: NodeJS.ErrnoException) =>
        done(fail(err.code === 'ECONNREFUSED' ? 'ICMP port unreachable' : describeError(err))));
      socket.on('message', (msg: Buffer) => {
        if (expect === undefined) done(pass('reply'));
        else if (startsWith(msg, expect)) done(pass('expected reply'));
        else done(fail(`unexpected reply of ${msg.length} bytes`));
      });
      socket.connect(target.port, target.host, () => {
        if (closed) return;
        socket.send(payload, (err) => {
          if (closed) return;
          if (err) return done(fail(describeError(err)));
          if (expect === undefined && !requireReply) quiet = setTimeout(() => done(pass('no ICMP error')), quietPeriodMs(timeoutMs));
        });
      });
      return () => {
        closed = true;
        clearTimeout(quiet);
        socket.close();
      };
    });
  }
}
