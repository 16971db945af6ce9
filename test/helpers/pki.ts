// A throwaway PKI for tests that speak TLS (https checks, TLS passthrough): made with the openssl CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  /** PEM of the test CA, and its path (for `ca`). */
  readonly caPath: string;
  /** Server certificate (for check.example, *.test and 127.0.0.1, signed by the test CA) and key, PEM. */
  readonly cert: string;
  readonly key: string;
  remove(): void;
}

/**
 * Makes a CA and a server certificate with the openssl CLI in a temp dir. No openssl means the test fails (execFileSync
 * throws ENOENT): scripts/apt-deps installs it for the test suite.
 */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'yoke-pki-'));
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=yoke test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=check.example');
  writeFileSync(at('server.ext'), 'subjectAltName=DNS:check.example,DNS:*.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  const read = (name: string): string => readFileSync(at(name), 'utf8');
  return { dir, caPath: at('ca.pem'), cert: read('server.pem'), key: read('server.key'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
