import type { Checker } from '../checker.ts';
import type { CheckSpec } from '../spec.ts';
import { ExecChecker } from './exec.ts';
import { HttpChecker } from './http.ts';
import { SmtpChecker } from './smtp.ts';
import { TcpChecker } from './tcp.ts';
import { UdpChecker } from './udp.ts';

/** The checker for a check's settings, by `type` (one Keepalived checker each). */
export function createChecker(spec: CheckSpec): Checker {
  switch (spec.type) {
    case 'tcp': return new TcpChecker(spec);
    case 'http':
    case 'https': return new HttpChecker(spec);
    case 'smtp': return new SmtpChecker(spec);
    case 'udp': return new UdpChecker(spec);
    case 'exec': return new ExecChecker(spec);
  }
}
