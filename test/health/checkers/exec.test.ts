// MISC_CHECK: real /bin/sh commands.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { ExecChecker } from '../../../core/health/checkers/exec.ts';
import { assertNoLeaks, common, local, runCheck } from './helpers.ts';

function exec(command: string, dynamic = false, timeoutMs = 1000): ExecChecker {
  return new ExecChecker({ ...common(timeoutMs), type: 'exec', command, dynamic });
}

const dir = mkdtempSync(join(tmpdir(), 'yoke-exec-'));
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(assertNoLeaks);

/** Whether a process by that id exists (kill 0 only asks). */
/** Running, not a zombie: a killed grandchild is reparented, and its zombie lingers until whoever adopted it reaps it. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

test('exit 0 passes, exit 1 fails with the last stderr line', async () => {
  assert.deepEqual(pick(await runCheck(exec('exit 0'), local(80), 1000)), [true, 'exit 0', undefined]);
  const r = await runCheck(exec('echo starting >&2; echo "db down" >&2; exit 1'), local(80), 1000);
  assert.deepEqual(pick(r), [false, 'exit 1: db down', undefined]);
});

test('the target is in YOKE_CHECK_HOST and YOKE_CHECK_PORT', async () => {
  const r = await runCheck(exec('test "$YOKE_CHECK_HOST:$YOKE_CHECK_PORT" = 127.0.0.1:8080'), local(8080), 1000);
  assert.equal(r.ok, true);
});

test('dynamic: exit 5 passes with weight 3, exit 2 with weight 0, exit 1 still fails', async () => {
  assert.deepEqual(pick(await runCheck(exec('exit 5', true), local(80), 1000)), [true, 'exit 5: weight 3', 3]);
  assert.deepEqual(pick(await runCheck(exec('exit 2', true), local(80), 1000)), [true, 'exit 2: weight 0', 0]);
  assert.deepEqual(pick(await runCheck(exec('exit 1', true), local(80), 1000)), [false, 'exit 1', undefined]);
  assert.deepEqual(pick(await runCheck(exec('exit 0', true), local(80), 1000)), [true, 'exit 0', undefined]);
});

test('without dynamic any non-zero status fails', async () => {
  assert.deepEqual(pick(await runCheck(exec('exit 5'), local(80), 1000)), [false, 'exit 5', undefined]);
});

test('a command killed by a signal fails and says so', async () => {
  assert.deepEqual(pick(await runCheck(exec('kill -TERM $$'), local(80), 1000)), [false, 'killed by SIGTERM', undefined]);
});

test('a hanging command (sleep 30) ends at the timeout and its process is gone', async () => {
  const pidFile = join(dir, 'sleep.pid');
  // $$ is the shell, which exec turns into sleep: the pid the checker kills is the sleeping process.
  const r = await runCheck(exec(`echo $$ > ${pidFile}; exec sleep 30`, false, 300), local(80), 300);
  assert.deepEqual([r.ok, r.detail], [false, 'timeout after 300ms']);
  assert.ok(r.elapsedMs < 500, `took ${r.elapsedMs}ms`);
  assert.ok(existsSync(pidFile));
  const pid = Number(readFileSync(pidFile, 'utf8'));
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(alive(pid), false, `sleep ${pid} still runs`);
});

test('a hanging script is killed with everything it started: its process group goes at the timeout', async () => {
  // dash forks `sleep 30` here (a compound command), so the sleep is a grandchild of yoke; killing the group ends it.
  const pidFile = join(dir, 'grandchild.pid');
  const r = await runCheck(exec(`sleep 30 & echo $! > ${pidFile}; wait`, false, 300), local(80), 300);
  assert.deepEqual([r.ok, r.detail], [false, 'timeout after 300ms']);
  assert.ok(r.elapsedMs < 500, `took ${r.elapsedMs}ms`);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(alive(pid), false, `sleep ${pid} still runs`);
});

test('a background grandchild holding stderr does not hold up the result', async () => {
  const r = await runCheck(exec('sleep 1 & echo oops >&2; exit 1', false, 3000), local(80), 3000);
  assert.deepEqual([r.ok, r.detail], [false, 'exit 1: oops']);
  assert.ok(r.elapsedMs < 600, `took ${r.elapsedMs}ms`);
});

test('lots of output does not fill a pipe and stall the command', async () => {
  const r = await runCheck(exec('head -c 2000000 /dev/zero; head -c 2000000 /dev/zero >&2; exit 0'), local(80), 3000);
  assert.deepEqual([r.ok, r.detail], [true, 'exit 0']);
});

function pick(r: { ok: boolean; detail: string; weight?: number | undefined }): [boolean, string, number | undefined] {
  return [r.ok, r.detail, r.weight];
}
