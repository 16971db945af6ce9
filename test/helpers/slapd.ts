// A real OpenLDAP slapd for the directory tests: Debian's slapd run in the foreground from a temp dir on a loopback
// port, configured by a slapd.conf (-f) with an mdb database, the core, cosine, inetorgperson and misc schemas
// (misc defines mailHost and the inetLocalMailRecipient class), loaded by slapadd from an LDIF before it starts.
// No slapd means the test fails, never skips: scripts/apt-deps test installs it.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SUFFIX = 'dc=example,dc=org';
export const PEOPLE = `ou=people,${SUFFIX}`;
export const ADMIN_DN = `cn=admin,${SUFFIX}`;
export const ADMIN_PASSWORD = 'test-admin-secret';

/** One person: the uid users log in with, and their mailHost if they have one. */
export interface Person {
  readonly uid: string;
  readonly mailHost?: string;
}

export interface SlapdOptions {
  readonly people: readonly Person[];
  /** PEM paths: adds an ldaps:// listener and StartTLS on the ldap:// one. */
  readonly tls?: { readonly certPath: string; readonly keyPath: string; readonly caPath: string };
}

export interface Slapd {
  readonly dir: string;
  /** ldap://127.0.0.1:PORT */
  readonly url: string;
  /** ldaps://127.0.0.1:PORT when tls was given. */
  readonly ldapsUrl: string | undefined;
  readonly pid: number | undefined;
  /** Stops slapd (SIGTERM to its pid, SIGKILL after 5 s); the database stays. */
  stop(): Promise<void>;
  /** Starts it again on the same ports with the same data. */
  restart(): Promise<void>;
  /** Stops it and removes the temp dir. */
  remove(): Promise<void>;
}

const SCHEMAS = ['core', 'cosine', 'inetorgperson', 'misc'];

/** The slapd and slapadd binaries: Debian puts them in /usr/sbin, which a non-root PATH may lack. */
function sbin(name: string): string {
  for (const dir of ['/usr/sbin', '/usr/local/sbin', ...(process.env['PATH'] ?? '').split(':')]) {
    const p = join(dir, name);
    if (dir !== '' && existsSync(p)) return p;
  }
  throw new Error(`${name} not found: install Debian's slapd (scripts/apt-deps test)`);
}

/** An LDIF line `attr: value`, base64 (`attr:: …`) when the value is not a SAFE-STRING (RFC 2849). */
function ldifLine(attr: string, value: string): string {
  const safe = /^[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value) && !value.endsWith(' ');
  return safe ? `${attr}: ${value}` : `${attr}:: ${Buffer.from(value, 'utf8').toString('base64')}`;
}

/** The directory's LDIF: the suffix, ou=people and one entry per person (DN by index, so any uid is fine). */
export function peopleLdif(people: readonly Person[]): string {
  const out = [
    `dn: ${SUFFIX}`, 'objectClass: dcObject', 'objectClass: organization', 'dc: example', 'o: yoke test', '',
    `dn: ${PEOPLE}`, 'objectClass: organizationalUnit', 'ou: people', '',
  ];
  people.forEach((p, i) => {
    out.push(`dn: cn=person${i},${PEOPLE}`, 'objectClass: inetOrgPerson');
    if (p.mailHost !== undefined) out.push('objectClass: inetLocalMailRecipient');
    out.push(`cn: person${i}`, 'sn: test', ldifLine('uid', p.uid));
    if (p.mailHost !== undefined) out.push(ldifLine('mailHost', p.mailHost));
    out.push('');
  });
  return out.join('\n');
}

function slapdConf(dir: string, tls: SlapdOptions['tls']): string {
  return [
    ...SCHEMAS.map((s) => `include /etc/ldap/schema/${s}.schema`),
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    ...(tls ? [`TLSCACertificateFile ${tls.caPath}`, `TLSCertificateFile ${tls.certPath}`, `TLSCertificateKeyFile ${tls.keyPath}`] : []),
    'database mdb',
    'maxsize 16777216',
    `suffix "${SUFFIX}"`,
    `rootdn "${ADMIN_DN}"`,
    `rootpw ${ADMIN_PASSWORD}`,
    `directory ${join(dir, 'db')}`,
    'index uid eq',
    // Anonymous binds see nothing, so a test that forgets to bind finds no one rather than passing by accident.
    'access to * by dn.exact="' + ADMIN_DN + '" read by anonymous auth by * none',
    '',
  ].join('\n');
}

/** A free loopback port, found by binding port 0 and closing it (slapd takes it a moment later). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Creates the temp dir, writes the config, loads the LDIF with slapadd and starts slapd in the foreground. */
export async function startSlapd(opts: SlapdOptions): Promise<Slapd> {
  const slapd = sbin('slapd');
  const slapadd = sbin('slapadd');
  const dir = mkdtempSync(join(tmpdir(), 'yoke-slapd-'));
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, slapdConf(dir, opts.tls));
  writeFileSync(join(dir, 'data.ldif'), peopleLdif(opts.people));
  execFileSync(slapadd, ['-q', '-f', conf, '-l', join(dir, 'data.ldif')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const urls = [`ldap://127.0.0.1:${port}/`, ...(tlsPort !== undefined ? [`ldaps://127.0.0.1:${tlsPort}/`] : [])];

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';

  const start = async (): Promise<void> => {
    stderr = '';
    // -d 0: stay in the foreground (any -d does) and log nothing but fatal startup errors to stderr.
    const c = spawn(slapd, ['-d', '0', '-f', conf, '-h', urls.join(' ')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    // A test process that ends without remove() (a failed assertion before `after`, a crash) still ends its slapd.
    const reap = (): void => { if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL'); };
    process.once('exit', reap);
    c.once('exit', () => process.removeListener('exit', reap));
    c.stderr?.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 8192) stderr += d; });
    let gone = false;
    exited = new Promise((resolve) => c.once('exit', () => { gone = true; resolve(); }));
    c.once('error', () => { gone = true; });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (gone) throw new Error(`slapd exited at start: ${stderr.trim() || 'no message'}`);
      if (await canConnect(port) && (tlsPort === undefined || await canConnect(tlsPort))) return;
      if (Date.now() > deadline) { c.kill('SIGKILL'); throw new Error(`slapd did not listen on ${urls.join(' ')} within 10 s: ${stderr.trim()}`); }
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    process.kill(c.pid, 'SIGTERM');
    const timer = setTimeout(() => { if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL'); }, 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    dir,
    url: `ldap://127.0.0.1:${port}`,
    ldapsUrl: tlsPort !== undefined ? `ldaps://127.0.0.1:${tlsPort}` : undefined,
    get pid() { return child?.pid; },
    stop,
    restart: async () => { await stop(); await start(); },
    remove: async () => { await stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}
