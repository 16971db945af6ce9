import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

/**
 * Runs `command` under /bin/sh -c in a process group of its own, so that killGroup ends the script and everything it
 * started: /bin/sh (dash) forks simple commands rather than exec'ing them, and a killed shell would leave its
 * children running. The group leader is still yoke's child: Node reaps it, nothing is left to init.
 */
export function spawnShell(command: string, env: NodeJS.ProcessEnv, stdio: StdioOptions): ChildProcess {
  return spawn('/bin/sh', ['-c', command], { env, stdio, detached: true });
}

/** SIGKILLs the command's whole process group if the shell is still running. */
export function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL'); // the group is gone already (ESRCH): the shell alone is left, if anything
  }
}
