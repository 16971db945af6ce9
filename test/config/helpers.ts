import { formatProblem, parseConfig, type ConfigResult } from '../../services/config/load.ts';

/** The env the tests run with: the admin token the examples name is set. */
export const ENV = { YOKE_ADMIN_TOKEN: 's3cret', YOKE_LDAP_PASSWORD: 'ldap-s3cret' };

/** Joins lines (or texts ending in a newline) into a YAML text, so a test shows its file line by line. */
export function yaml(...lines: string[]): string {
  return `${lines.map((l) => l.replace(/\n$/, '')).join('\n')}\n`;
}

/** Parses a config as `t.yaml` with the test env and no secret files. */
export function check(text: string, env: NodeJS.ProcessEnv = ENV): ConfigResult {
  return parseConfig(text, 't.yaml', env, () => { throw new Error('ENOENT: no such file'); });
}

/** Each problem as `line:col CODE` (warnings marked), for asserting positions to the column. */
export function where(r: ConfigResult): string[] {
  return r.problems.map((p) => `${p.line}:${p.col} ${p.code}${p.severity === 'warning' ? ' warning' : ''}`);
}

/** Each problem as `yoke check` prints it. */
export function printed(r: ConfigResult): string[] {
  return r.problems.map(formatProblem);
}

/** A valid one-service config to build cases from. */
export const MINIMAL = yaml(
  'services:',
  '  - name: web',
  '    listen: 127.0.0.1:8080',
  '    servers:',
  '      - address: 127.0.0.1:9001',
);
