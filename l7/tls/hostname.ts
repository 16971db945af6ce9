/**
 * The host name of an SNI extension, checked as a DNS name and lower-cased, since yoke routes on it:
 * a name that a route could never match, or that two routers might read differently, is refused rather than
 * passed to a server that may read it another way.
 */

export type HostNameCheck = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly reason: string };

const MAX_NAME = 253; // RFC 1035: 255 octets on the wire, 253 characters as text
const MAX_LABEL = 63;

/**
 * Validates `length` bytes at `offset` as an ASCII DNS name (RFC 6066 3: no IP literals) and lower-cases it.
 * Letters, digits, '-' and '_' (seen in real internal names) are allowed; labels 1–63 characters, not
 * starting or ending with '-'. One trailing dot is dropped: "a.example." names the same host as "a.example".
 */
export function checkHostName(bytes: Uint8Array, offset: number, length: number): HostNameCheck {
  let end = offset + length;
  if (length > 1 && bytes[end - 1] === 0x2e) end--;
  if (end - offset === 0) return { ok: false, reason: 'an empty host name' };
  if (end - offset > MAX_NAME) return { ok: false, reason: `a host name of ${end - offset} characters, over ${MAX_NAME}` };
  let name = '';
  let labelStart = offset;
  let allDigits = true; // of the current label: a name whose last label is numeric is an IPv4 literal
  for (let i = offset; i <= end; i++) {
    const c = i < end ? (bytes[i] as number) : 0x2e;
    if (c === 0x2e) {
      const label = i - labelStart;
      if (label === 0) return { ok: false, reason: 'a host name with an empty label' };
      if (label > MAX_LABEL) return { ok: false, reason: `a host name label of ${label} characters, over ${MAX_LABEL}` };
      if (bytes[labelStart] === 0x2d || bytes[i - 1] === 0x2d) return { ok: false, reason: 'a host name label that starts or ends with "-"' };
      if (i === end && allDigits) return { ok: false, reason: 'an IP address where a host name belongs (RFC 6066 3)' };
      labelStart = i + 1;
      allDigits = true;
      if (i < end) name += '.';
      continue;
    }
    const lower = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
    const digit = lower >= 0x30 && lower <= 0x39;
    if (!digit && !(lower >= 0x61 && lower <= 0x7a) && lower !== 0x2d && lower !== 0x5f) {
      return { ok: false, reason: `byte 0x${c.toString(16).padStart(2, '0')} in a host name` };
    }
    if (!digit) allDigits = false;
    name += String.fromCharCode(lower);
  }
  return { ok: true, name };
}
