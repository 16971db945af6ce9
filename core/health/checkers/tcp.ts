import { connect } from 'node:net';
import type { Endpoint } from '../../address.ts';
import type { Checker, CheckResult } from '../checker.ts';
import type { TcpCheckSpec } from '../spec.ts';
import { couldStartWith, describeError, fail, pass, settleOnce, startsWith } from './result.ts';

/** Most bytes kept while waiting for `expect`: a banner longer than this without the expected start is wrong anyway. */
const MAX_READ = 64 * 1024;

/**
 * Keepalived TCP_CHECK: passes when a connection opens. With `send`, the bytes are written once connected; with
 * `expect`, the reply must begin with those bytes. "Begins with" rather than "contains" (as the config manual
 * says, and as the udp checker does) because it lets a wrong reply fail as soon as its first wrong byte arrives,
 * instead of waiting out the timeout for bytes that might still come; banners and ping/pong replies put what
 * matters first.
 */
export class TcpChecker implements Checker {
  readonly #spec: TcpCheckSpec;

  constructor(spec: TcpCheckSpec) {
    this.#spec = spec;
  }

  check(target: Endpoint, signal: AbortSignal): Promise<CheckResult> {
    const { send, timeoutMs } = this.#spec;
    // An empty `expect` asks for nothing beyond the connection.
    const expect = this.#spec.expect?.length ? this.#spec.expect : undefined;
    return settleOnce(signal, timeoutMs, (done) => {
      const socket = connect({ host: target.host, port: target.port });
      let received = Buffer.alloc(0);
      socket.on('error', (err) => done(fail(describeError(err))));
      socket.on('connect', () => {
        if (send !== undefined && send.length > 0) {
          // Without `expect` the check passes once the payload has left, as Keepalived's does.
          socket.write(Uint8Array.from(send), () => { if (expect === undefined) done(pass('sent')); });
        } else if (expect === undefined) {
          done(pass('connected'));
        }
      });
      if (expect !== undefined) {
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]).subarray(0, MAX_READ);
          if (startsWith(received, expect)) done(pass('expected reply'));
          else if (!couldStartWith(received, expect)) done(fail(`unexpected reply ${preview(received)}`));
        });
        socket.on('end', () => done(fail(received.length === 0 ? 'closed without reply' : `closed after short reply ${preview(received)}`)));
      }
      return () => socket.destroy();
    });
  }
}

/** The first bytes of a reply, printable, for `detail`. */
function preview(data: Buffer): string {
  return JSON.stringify(data.subarray(0, 24).toString('latin1'));
}
