/** The v2 (binary) half of decodeProxy; see decode.ts for the contract. */
import { crc32c } from './crc32c.ts';
import { formatIPv4, formatIPv6 } from './ip.ts';
import { PP2_TYPE, V2_SIGNATURE, type ProxyAddress, type ProxyDecodeResult, type ProxyTlv, type ProxyTransport } from './types.ts';

const NEED_MORE: ProxyDecodeResult = Object.freeze({ kind: 'need-more' });
/** Address block bytes by family nibble: AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX. */
const ADDRESS_LENGTH = [0, 12, 36, 216] as const;
const TRANSPORT: readonly ProxyTransport[] = ['unspec', 'stream', 'dgram'];
const UNIX_PATH = 108;

/**
 * Decodes a v2 header. Each byte is judged as soon as it arrives (signature, version, command, family), so
 * garbage is refused early while every prefix of a valid header stays need-more.
 */
export function decodeV2(b: Buffer): ProxyDecodeResult {
  for (let i = 0; i < V2_SIGNATURE.length && i < b.length; i++) {
    if (b[i] !== V2_SIGNATURE[i]) return malformed('not a PROXY protocol header: the v2 signature does not match');
  }
  if (b.length < 13) return NEED_MORE;
  const verCmd = b[12] as number;
  if (verCmd >> 4 !== 2) return malformed(`v2 header has version ${verCmd >> 4}; only 2 is defined`);
  const command = verCmd & 0x0f;
  if (command > 1) return malformed(`v2 command ${command} is neither LOCAL (0) nor PROXY (1)`);
  if (b.length < 14) return NEED_MORE;
  const family = (b[13] as number) >> 4;
  const proto = (b[13] as number) & 0x0f;
  if (family > 3) return malformed(`v2 address family ${family} is not UNSPEC, INET, INET6 or UNIX`);
  if (proto > 2) return malformed(`v2 transport ${proto} is not UNSPEC, STREAM or DGRAM`);
  if (b.length < 16) return NEED_MORE;
  const total = 16 + b.readUInt16BE(14);
  if (b.length < total) return NEED_MORE;
  const addrLength = ADDRESS_LENGTH[family as 0 | 1 | 2 | 3];
  if (total - 16 < addrLength) {
    return malformed(`v2 address block has ${total - 16} bytes; family ${family} needs ${addrLength}`);
  }
  const tlvs = parseTlvs(b, 16 + addrLength, total);
  if (typeof tlvs === 'string') return malformed(tlvs);
  // LOCAL tells the receiver to ignore the family and addresses; TLVs still count (a health check may send some).
  if (command === 0) return { kind: 'ok', header: { version: 2, command: 'local', transport: 'unspec', tlvs }, length: total };
  const transport = TRANSPORT[proto] as ProxyTransport;
  if (family === 0 || proto === 0) return { kind: 'ok', header: { version: 2, command: 'proxy', transport, tlvs }, length: total };
  const [src, dst] = addresses(b, family);
  return { kind: 'ok', header: { version: 2, command: 'proxy', transport, src, dst, tlvs }, length: total };
}

function addresses(b: Buffer, family: number): [ProxyAddress, ProxyAddress] {
  if (family === 1) {
    return [
      { host: formatIPv4(b, 16), port: b.readUInt16BE(24), family: 4 },
      { host: formatIPv4(b, 20), port: b.readUInt16BE(26), family: 4 },
    ];
  }
  if (family === 2) {
    return [
      { host: formatIPv6(b, 16), port: b.readUInt16BE(48), family: 6 },
      { host: formatIPv6(b, 32), port: b.readUInt16BE(50), family: 6 },
    ];
  }
  return [
    { family: 'unix', path: unixPath(b, 16) },
    { family: 'unix', path: unixPath(b, 16 + UNIX_PATH) },
  ];
}

/**
 * A sun_path field: a file path ends at its first NUL (senders may leave junk after it); an abstract name (first
 * byte NUL) has no terminator, so its trailing NULs are dropped; all zeros is an unnamed socket, ''.
 */
function unixPath(b: Buffer, off: number): string {
  const end = off + UNIX_PATH;
  if (b[off] !== 0) {
    const nul = b.indexOf(0, off);
    return b.toString('utf8', off, nul < 0 || nul > end ? end : nul);
  }
  let last = end;
  while (last > off && b[last - 1] === 0) last--;
  return b.toString('utf8', off, last);
}

/** The TLVs in `b[at..end)`, copied so that a kept header does not pin the socket's read buffer; or a reason. */
function parseTlvs(b: Buffer, at: number, end: number): ProxyTlv[] | string {
  const tlvs: ProxyTlv[] = [];
  while (at < end) {
    if (end - at < 3) return `v2 TLV at byte ${at} is cut short: ${end - at} bytes left, a TLV takes at least 3`;
    const type = b[at] as number;
    const length = b.readUInt16BE(at + 1);
    if (at + 3 + length > end) return `v2 TLV type ${type} at byte ${at} says ${length} bytes; the header has ${end - at - 3} left`;
    if (type === PP2_TYPE.CRC32C) {
      if (length !== 4) return `v2 CRC32C TLV has ${length} bytes; it needs 4`;
      // The spec requires a receiver that knows the checksum to drop a header whose checksum is wrong.
      if (crc32c(b.subarray(0, end), at + 3) !== b.readUInt32BE(at + 3)) return 'v2 CRC32C checksum does not match the header';
    }
    tlvs.push({ type, value: Buffer.from(b.subarray(at + 3, at + 3 + length)) });
    at += 3 + length;
  }
  return tlvs;
}

function malformed(reason: string): ProxyDecodeResult {
  return { kind: 'malformed', reason };
}
