// A real Dovecot for the mail farm tests: Debian's dovecot (dovecot-imapd, dovecot-pop3d) run in the foreground
// (`dovecot -F`) from a temp dir with its own config only: IMAP and POP3 on loopback ports, no TLS, plaintext logins
// allowed, a static passdb (every user, one password) and maildirs in the temp dir. Its log says who logged in.
// With `tls` it has `ssl = required` instead: STARTTLS/STLS with that certificate, and no login before it. Dovecot
// counts a connection whose two ends have one address as secured (so loopback to 127.0.0.1 could log in in clear),
// so that one listens on 127.0.0.2, which clients reach from 127.0.0.1.
// No dovecot means the test fails, never skips: scripts/apt-deps test installs it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './daemon.ts';

export interface Dovecot {
  /** The address it listens on: 127.0.0.1, or 127.0.0.2 with TLS. */
  readonly host: string;
  readonly imapPort: number;
  readonly pop3Port: number;
  /** The log so far (logins are `imap-login: Info: Login: user=<…>` lines). */
  log(): string;
  stop(): Promise<void>;
}

function binary(): string {
  for (const p of ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot']) if (existsSync(p)) return p;
  throw new Error('dovecot not found: install dovecot-imapd and dovecot-pop3d (scripts/apt-deps test)');
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** The uid and gid of a system user (dovecot's own, to own the maildirs when the tests run as root). */
function ids(user: string): { uid: number; gid: number } | undefined {
  try {
    return { uid: Number(execFileSync('id', ['-u', user]).toString().trim()), gid: Number(execFileSync('id', ['-g', user]).toString().trim()) };
  } catch {
    return undefined;
  }
}

/** Starts Dovecot; every user's password is `password`; with `tls`, TLS (STARTTLS) is required before a login. */
export async function startDovecot(password: string, tls?: { cert: string; key: string }): Promise<Dovecot> {
  const bin = binary();
  const dir = mkdtempSync(join(tmpdir(), 'yoke-dovecot-'));
  chmodSync(dir, 0o755);
  const mail = join(dir, 'mail');
  mkdirSync(mail);
  mkdirSync(join(dir, 'run'));
  const root = process.getuid?.() === 0;
  const self = root ? ids('dovecot') : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  if (self === undefined) throw new Error('no dovecot system user: install dovecot-core');
  if (root) chownSync(mail, self.uid, self.gid);
  const [imapPort, pop3Port] = (await freePorts(2)) as [number, number];
  const user = root ? '' : execFileSync('id', ['-un']).toString().trim();
  const logPath = join(dir, 'dovecot.log');
  const host = tls === undefined ? '127.0.0.1' : '127.0.0.2';
  if (tls !== undefined) {
    writeFileSync(join(dir, 'cert.pem'), tls.cert);
    writeFileSync(join(dir, 'key.pem'), tls.key, { mode: 0o600 });
  }
  writeFileSync(join(dir, 'dovecot.conf'), [
    'protocols = imap pop3',
    `listen = ${host}`,
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `log_path = ${logPath}`,
    `info_log_path = ${logPath}`,
    'auth_verbose = yes',
    ...(tls === undefined
      ? ['ssl = no', 'disable_plaintext_auth = no']
      : ['ssl = required', `ssl_cert = <${join(dir, 'cert.pem')}`, `ssl_key = <${join(dir, 'key.pem')}`, 'disable_plaintext_auth = yes']),
    'auth_mechanisms = plain login',
    'auth_failure_delay = 0',
    `mail_location = maildir:${mail}/%u`,
    'pop3_uidl_format = %08Xu%08Xv',
    ...(root ? [] : [`default_internal_user = ${user}`, `default_login_user = ${user}`]),
    `first_valid_uid = ${self.uid}`,
    'passdb {', '  driver = static', `  args = password=${password}`, '}',
    'userdb {', '  driver = static', `  args = uid=${self.uid} gid=${self.gid} home=${mail}/%u`, '}',
    'service imap-login {', `  inet_listener imap {`, `    port = ${imapPort}`, '  }', '  inet_listener imaps {', '    port = 0', '  }', '}',
    'service pop3-login {', `  inet_listener pop3 {`, `    port = ${pop3Port}`, '  }', '  inet_listener pop3s {', '    port = 0', '  }', '}',
    '',
  ].join('\n'));
  let stderr = '';
  const child: ChildProcess = spawn(bin, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => { stderr += d; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const log = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  for (let i = 0; ; i++) {
    if (await canConnect(host, imapPort) && await canConnect(host, pop3Port)) break;
    if (child.exitCode !== null || i > 100) {
      child.kill('SIGKILL');
      throw new Error(`dovecot did not start: ${stderr}\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host, imapPort, pop3Port, log,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
