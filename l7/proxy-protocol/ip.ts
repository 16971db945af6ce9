/**
 * IP address text <-> network-order bytes, written straight into a caller's buffer. The PROXY encoder runs once
 * per proxied connection, so parsing allocates nothing: no regex, no split, no intermediate arrays.
 * Text is read the way inet_pton reads it: IPv4 as exactly four decimal octets without leading zeros (the PROXY
 * spec forbids them to avoid octal confusion); IPv6 as up to eight hex groups of 1-4 digits, one `::` standing
 * for one or more zero groups, and an optional dotted IPv4 tail (::ffff:1.2.3.4).
 */

const COLON = 58;
const DOT = 46;

/** Writes the 4 bytes of dotted IPv4 text `s[start..end)` at `buf[off]`; false (bytes undefined) if it is not IPv4. */
export function writeIPv4(s: string, start: number, end: number, buf: Uint8Array, off: number): boolean {
  let octet = 0;
  let digits = 0;
  let n = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? DOT : s.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || octet > 255 || n === 4) return false;
      buf[off + n++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return false; // a leading zero
      octet = octet * 10 + (c - 48);
      digits++;
    } else return false;
  }
  return n === 4;
}

/** Writes the 16 bytes of IPv6 text `s[start..end)` at `buf[off]`; false (bytes undefined) if it is not IPv6. */
export function writeIPv6(s: string, start: number, end: number, buf: Uint8Array, off: number): boolean {
  let groups = 0;
  let gap = -1; // the group index where `::` stands
  let i = start;
  if (end - start >= 2 && s.charCodeAt(i) === COLON) {
    if (s.charCodeAt(i + 1) !== COLON) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    if (groups === 8) return false;
    let value = 0;
    let j = i;
    for (; j < end && j - i < 4; j++) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
    }
    if (j < end && s.charCodeAt(j) === DOT) {
      // The digits read as hex were the first octet of an IPv4 tail: it ends the text and fills two groups.
      if (groups > 6 || !writeIPv4(s, i, end, buf, off + groups * 2)) return false;
      groups += 2;
      break;
    }
    if (j === i) return false;
    buf[off + groups * 2] = value >> 8;
    buf[off + groups * 2 + 1] = value & 0xff;
    groups++;
    if (j === end) break;
    if (s.charCodeAt(j) !== COLON || j + 1 === end) return false;
    i = j + 1;
    if (s.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = groups;
      i++;
    }
  }
  if (gap < 0) return groups === 8;
  if (groups === 8) return false; // `::` must stand for at least one group, as inet_pton requires
  const tail = (groups - gap) * 2;
  buf.copyWithin(off + 16 - tail, off + gap * 2, off + groups * 2);
  buf.fill(0, off + gap * 2, off + 16 - tail);
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** Dotted text of the 4 IPv4 bytes at `buf[off]`. */
export function formatIPv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/**
 * Canonical text (RFC 5952) of the 16 IPv6 bytes at `buf[off]`: lower case, no leading zeros, the longest run of
 * two or more zero groups (the first of equals) as `::`, and IPv4-mapped addresses as ::ffff:a.b.c.d, which is
 * how Node reports such peers, so decoded addresses compare equal to socket addresses.
 */
export function formatIPv6(buf: Uint8Array, off: number): string {
  let bestAt = -1;
  let bestLen = 1;
  for (let g = 0; g < 8; ) {
    let len = 0;
    while (g + len < 8 && group(buf, off, g + len) === 0) len++;
    if (len > bestLen) {
      bestAt = g;
      bestLen = len;
    }
    g += len + 1;
  }
  if (bestAt === 0 && bestLen === 5 && group(buf, off, 5) === 0xffff) return `::ffff:${formatIPv4(buf, off + 12)}`;
  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestAt) {
      text += '::';
      g += bestLen - 1;
    } else {
      if (text !== '' && !text.endsWith(':')) text += ':';
      text += group(buf, off, g).toString(16);
    }
  }
  return text;
}

function group(buf: Uint8Array, off: number, g: number): number {
  return ((buf[off + g * 2] ?? 0) << 8) | (buf[off + g * 2 + 1] ?? 0);
}
