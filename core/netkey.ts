import { isIPv4 } from 'node:net';

/**
 * The key of a client's network under a persistence mask (IPVS -M netmask): a number for IPv4, a string for
 * IPv6. IPv4 is parsed by hand, without allocation, because this runs on every new connection of a persistent
 * service. IPv4-mapped IPv6 clients (::ffff:a.b.c.d, as a dual-stack listener reports them) count as IPv4.
 */
export function clientNetworkKey(ip: string, mask4: number, prefix6: number): number | string {
  const start = ip.startsWith('::ffff:') && ip.indexOf('.') > 0 ? 7 : 0;
  if (start !== 0 || ip.indexOf(':') < 0) {
    const v4 = parseIPv4At(ip, start);
    if (v4 >= 0) return (v4 & mask4) >>> 0;
  }
  return prefix6 >= 128 ? ip : maskIPv6(ip, prefix6);
}

/** Parses dotted-decimal IPv4 text (no leading zeros) from `start` to the end into an unsigned 32-bit number; -1 if it is not IPv4. */
export function parseIPv4At(s: string, start: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octet > 255) return -1;
      value = value * 256 + octet;
      octet = 0; digits = 0; dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1; // a leading zero (010): refused, as node:net isIPv4 and inet_pton do
      octet = octet * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || octet > 255) return -1;
  return value * 256 + octet;
}

/** Converts a contiguous dotted netmask (255.255.255.0) to its 32-bit value; throws on a non-mask. */
export function parseNetmask(mask: string): number {
  const v = isIPv4(mask) ? parseIPv4At(mask, 0) : -1;
  if (v < 0) throw new RangeError(`"${mask}" is not an IPv4 netmask`);
  const inverted = ~v >>> 0;
  if ((inverted & (inverted + 1)) !== 0) throw new RangeError(`"${mask}" is not a contiguous netmask`);
  return v >>> 0;
}

/** The /prefix network of an IPv6 address as a canonical string of 8 hex groups. */
function maskIPv6(ip: string, prefix: number): string {
  const groups = expandIPv6(ip);
  const out: string[] = [];
  for (let g = 0; g < 8; g++) {
    const bits = Math.max(0, Math.min(16, prefix - g * 16));
    const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    out.push(((groups[g] ?? 0) & mask).toString(16));
  }
  return out.join(':') + '/' + prefix;
}

function expandIPv6(ip: string): number[] {
  const zone = ip.indexOf('%');
  const text = zone >= 0 ? ip.slice(0, zone) : ip;
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIPv4At(g, 0);
        out.push((v4 >>> 16) & 0xffff, v4 & 0xffff);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  // Text with more than 8 groups is not IPv6; clamp rather than throw (a client key must never throw).
  return [...h, ...new Array<number>(Math.max(0, 8 - h.length - t.length)).fill(0), ...t];
}
