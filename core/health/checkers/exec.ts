import type { Endpoint } from '../../address.ts';
import type { Checker, CheckResult } from '../checker.ts';
import type { ExecCheckSpec } from '../spec.ts';
import { killGroup, spawnShell } from '../shell.ts';
import { describeError, fail, pass, settleOnce } from './result.ts';

/** Bytes of stderr kept: enough for the script's last message in `detail`, and the pipe never fills. */
const STDERR_TAIL = 512;

/** After the command exits, how long its last stderr bytes may take to arrive before the result is given without them. */
const STDERR_GRACE_MS = 100;

/**
 * Keepalived MISC_CHECK: runs `command` with /bin/sh -c, the target in YOKE_CHECK_HOST and YOKE_CHECK_PORT.
 * Exit 0 passes, any other status fails, except that with `dynamic` a status of 2..255 passes and sets the weight to
 * status - 2 (misc_dynamic). stdout is discarded; the end of stderr goes into `detail`.
 *
 * On abort the command's process group is killed with SIGKILL (core/health/shell.ts), so a hanging script and all
 * it started end at the timeout; the stderr pipe is closed on our side, so nothing still holding it delays the result.
 */
export class ExecChecker implements Checker {
  readonly #spec: ExecCheckSpec;

  constructor(spec: ExecCheckSpec) {
    this.#spec = spec;
  }

  check(target: Endpoint, signal: AbortSignal): Promise<CheckResult> {
    const { command, dynamic, timeoutMs } = this.#spec;
    return settleOnce(signal, timeoutMs, (done) => {
      const child = spawnShell(command, { ...process.env, YOKE_CHECK_HOST: target.host, YOKE_CHECK_PORT: String(target.port) }, ['ignore', 'ignore', 'pipe']);
      const stderr = child.stderr as NonNullable<typeof child.stderr>;
      let tail = '';
      let grace: NodeJS.Timeout | undefined;
      stderr.setEncoding('utf8');
      stderr.on('data', (chunk: string) => { tail = (tail + chunk).slice(-STDERR_TAIL); });
      stderr.on('error', () => {});
      child.on('error', (err) => done(fail(`cannot run /bin/sh: ${describeError(err)}`)));
      child.on('exit', (code, sig) => {
        const finish = (): void => done(verdict(code, sig, dynamic, tail));
        if (stderr.readableEnded) return finish();
        stderr.once('end', finish);
        grace = setTimeout(finish, STDERR_GRACE_MS);
      });
      return () => {
        clearTimeout(grace);
        killGroup(child);
        stderr.destroy();
      };
    });
  }
}

/** The result for an exit status (or the signal that ended the command). */
function verdict(code: number | null, sig: NodeJS.Signals | null, dynamic: boolean, stderr: string): CheckResult {
  if (code === null) return fail(`killed by ${sig ?? 'a signal'}${said(stderr)}`);
  if (code === 0) return pass('exit 0');
  if (dynamic && code >= 2) return pass(`exit ${code}: weight ${code - 2}`, code - 2);
  return fail(`exit ${code}${said(stderr)}`);
}

/** The last line the command wrote to stderr, as `: text`, or nothing. */
function said(stderr: string): string {
  const last = stderr.trimEnd().split('\n').pop()?.trim() ?? '';
  return last === '' ? '' : `: ${last.slice(0, 120)}`;
}
