/**
 * Syntax of a Host field value and of the authority in an absolute-form or authority-form target
 * (RFC 9110 7.2, RFC 3986 3.2.2): uri-host [ ":" port ], with uri-host an IP-literal, an IPv4 address or a
 * reg-name. yoke routes by this value, so anything a backend might read differently is refused here.
 */
import { isIPv6 } from 'node:net';
import { CLASS, HEX, REG_NAME } from './chars.ts';

/** How an authority is judged: `needHost` (http URIs need a non-empty host), `needPort` (authority-form). */
export interface AuthorityRules {
  readonly needHost: boolean;
  readonly needPort: boolean;
}

/**
 * Null when buf[start, end) is a valid authority, else a short reason. Userinfo is refused (RFC 9110 4.2.4:
 * treat it as an error; it serves to disguise the host); IPvFuture is refused (nothing routes by it).
 */
export function authorityProblem(buf: Uint8Array, start: number, end: number, rules: AuthorityRules): string | null {
  let i = start;
  if (i < end && buf[i] === 0x5b) {
    let close = i + 1;
    while (close < end && buf[close] !== 0x5d) close++;
    if (close === end) return 'IP-literal without a closing bracket';
    // Rare path: a string for node:net's IPv6 check is acceptable here.
    if (!isIPv6(Buffer.from(buf.buffer, buf.byteOffset + i + 1, close - i - 1).toString('latin1'))) return 'IP-literal is not an IPv6 address';
    i = close + 1;
  } else {
    while (i < end) {
      const c = buf[i] as number;
      if (CLASS[c]! & REG_NAME) { i++; continue; }
      if (c === 0x25) {
        if (i + 2 >= end || !(CLASS[buf[i + 1] as number]! & HEX) || !(CLASS[buf[i + 2] as number]! & HEX)) return 'bad percent-encoding in host';
        i += 3;
        continue;
      }
      break;
    }
    if (i === start && rules.needHost) return 'empty host';
  }
  if (i === end) return rules.needPort ? 'port missing' : null;
  const c = buf[i] as number;
  if (c === 0x40) return 'userinfo (user@host) is not accepted';
  if (c !== 0x3a) return `byte 0x${c.toString(16).padStart(2, '0')} is not allowed in a host`;
  i++;
  if (i === end) return rules.needPort ? 'port missing' : null;
  if (end - i > 5) return 'port out of range';
  let port = 0;
  for (; i < end; i++) {
    const d = (buf[i] as number) - 0x30;
    if (d < 0 || d > 9) return buf[i] === 0x40 ? 'userinfo (user@host) is not accepted' : 'port is not a number';
    port = port * 10 + d;
  }
  return port > 65535 ? 'port out of range' : null;
}
