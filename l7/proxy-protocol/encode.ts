/**
 * PROXY protocol encoders. They run once per proxied connection, so each makes exactly one Buffer and writes
 * address bytes straight into it. The data plane never throws: an endpoint that cannot be described (host text
 * that is not an IP literal, a port outside 0..65535 — socket fields can be undefined once a peer has gone) yields
 * the "use the real endpoints" header instead (v1 UNKNOWN, v2 LOCAL), which receivers must accept.
 * TLVs come from yoke's own code, not from peers, so a TLV that cannot be encoded is a bug and throws RangeError.
 */
import type { Endpoint } from '../../core/address.ts';
import { crc32c } from './crc32c.ts';
import { writeIPv4, writeIPv6 } from './ip.ts';
import { PP2_TYPE, V2_SIGNATURE, type ProxyTlv } from './types.ts';

const V1_UNKNOWN = 'PROXY UNKNOWN\r\n';
const CMD_LOCAL = 0x20; // version 2 in the high nibble
const CMD_PROXY = 0x21;

/** Room to validate v1 hosts, which are copied as text and so need no buffer of their own. */
const scratch = new Uint8Array(16);

/**
 * The v1 text line for a TCP connection from `src` to `dst`: TCP4 when both are IPv4, else TCP6 with an IPv4 side
 * written IPv4-mapped (::ffff:a.b.c.d) so both addresses share one family. A zone id (%eth0) is dropped.
 */
export function encodeProxyV1(src: Endpoint, dst: Endpoint): Buffer {
  const sf = checkFamily(src);
  const df = checkFamily(dst);
  if (sf === 0 || df === 0) return Buffer.from(V1_UNKNOWN, 'latin1');
  const v6 = sf === 6 || df === 6;
  const line = `PROXY ${v6 ? 'TCP6' : 'TCP4'} ${v1Host(src.host, sf, v6)} ${v1Host(dst.host, df, v6)} ${src.port} ${dst.port}\r\n`;
  return Buffer.from(line, 'latin1');
}

/**
 * The v2 binary header for a connection from `src` to `dst` over `transport`, then `tlvs` in order. Mixed
 * families are sent as IPv6 with the IPv4 side mapped. A CRC32C TLV's value (4 bytes) is replaced by the checksum
 * of the whole header, as the spec asks of a sender.
 */
export function encodeProxyV2(src: Endpoint, dst: Endpoint, transport: 'stream' | 'dgram', tlvs: readonly ProxyTlv[] = []): Buffer {
  if (!describable(src) || !describable(dst)) return encodeProxyLocal(2, tlvs);
  const sf = textFamily(src.host);
  const df = textFamily(dst.host);
  const v6 = sf === 6 || df === 6;
  const addrLength = v6 ? 36 : 12;
  const famProto = (v6 ? 0x20 : 0x10) | (transport === 'dgram' ? 0x02 : 0x01);
  const buf = startV2(CMD_PROXY, famProto, addrLength, tlvs);
  const ok = v6
    ? writeAsIPv6(src.host, sf, buf, 16) && writeAsIPv6(dst.host, df, buf, 32)
    : writeIPv4(src.host, 0, src.host.length, buf, 16) && writeIPv4(dst.host, 0, dst.host.length, buf, 20);
  if (!ok) return encodeProxyLocal(2, tlvs);
  buf.writeUInt16BE(src.port, 16 + addrLength - 4);
  buf.writeUInt16BE(dst.port, 16 + addrLength - 2);
  finishV2(buf, 16 + addrLength, tlvs);
  return buf;
}

/**
 * The header that tells the receiver to use the real connection's endpoints, as for a health check:
 * v2 LOCAL with family UNSPEC and any `tlvs`, or the v1 line "PROXY UNKNOWN\r\n" (which has no TLVs).
 */
export function encodeProxyLocal(version: 1 | 2 = 2, tlvs: readonly ProxyTlv[] = []): Buffer {
  if (version === 1) return Buffer.from(V1_UNKNOWN, 'latin1');
  const buf = startV2(CMD_LOCAL, 0x00, 0, tlvs);
  finishV2(buf, 16, tlvs);
  return buf;
}

/** Allocates the whole v2 header and writes its fixed 16 bytes; the caller fills addresses, then finishV2. */
function startV2(verCmd: number, famProto: number, addrLength: number, tlvs: readonly ProxyTlv[]): Buffer {
  let length = addrLength;
  for (const tlv of tlvs) length += 3 + checkTlv(tlv);
  if (length > 0xffff) throw new RangeError(`PROXY v2 addresses and TLVs take ${length} bytes; the length field holds at most 65535`);
  const buf = Buffer.allocUnsafe(16 + length); // every byte is written below or by the caller
  V2_SIGNATURE.copy(buf, 0);
  buf[12] = verCmd;
  buf[13] = famProto;
  buf.writeUInt16BE(length, 14);
  return buf;
}

/** Writes the TLVs from `at` on, then the checksum into the first CRC32C TLV, which must come last of all writes. */
function finishV2(buf: Buffer, at: number, tlvs: readonly ProxyTlv[]): void {
  let crcAt = -1;
  for (const tlv of tlvs) {
    buf[at] = tlv.type;
    buf.writeUInt16BE(tlv.value.length, at + 1);
    if (tlv.type === PP2_TYPE.CRC32C && crcAt < 0) crcAt = at + 3;
    tlv.value.copy(buf, at + 3);
    at += 3 + tlv.value.length;
  }
  if (crcAt >= 0) buf.writeUInt32BE(crc32c(buf, crcAt), crcAt);
}

function checkTlv(tlv: ProxyTlv): number {
  if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 0xff) throw new RangeError(`TLV type ${tlv.type} is not a byte`);
  if (tlv.value.length > 0xffff) throw new RangeError(`TLV ${tlv.type} value of ${tlv.value.length} bytes exceeds 65535`);
  if (tlv.type === PP2_TYPE.CRC32C && tlv.value.length !== 4) throw new RangeError('a CRC32C TLV value takes 4 bytes');
  return tlv.value.length;
}

/** Which family the host text claims; the parse that writes its bytes confirms it. */
function textFamily(host: string): 4 | 6 {
  return host.indexOf(':') >= 0 ? 6 : 4;
}

/** Where the address ends: a zone id (fe80::1%eth0) names a local interface and means nothing to the receiver. */
function zoneStart(host: string): number {
  const z = host.indexOf('%');
  return z < 0 ? host.length : z;
}

/** Whether the fields have the types a header needs; runtime values from sockets may not match their types. */
function describable(e: Endpoint): boolean {
  return typeof e.host === 'string' && Number.isInteger(e.port) && e.port >= 0 && e.port <= 0xffff;
}

/** 4 or 6 when the endpoint can be written in a v1 line, 0 when it cannot. */
function checkFamily(e: Endpoint): 0 | 4 | 6 {
  if (!describable(e)) return 0;
  if (textFamily(e.host) === 4) return writeIPv4(e.host, 0, e.host.length, scratch, 0) ? 4 : 0;
  return writeIPv6(e.host, 0, zoneStart(e.host), scratch, 0) ? 6 : 0;
}

function v1Host(host: string, family: 4 | 6, v6: boolean): string {
  if (family === 6) return host.slice(0, zoneStart(host));
  return v6 ? `::ffff:${host}` : host;
}

function writeAsIPv6(host: string, family: 4 | 6, buf: Buffer, off: number): boolean {
  if (family === 6) return writeIPv6(host, 0, zoneStart(host), buf, off);
  buf.fill(0, off, off + 10);
  buf[off + 10] = 0xff;
  buf[off + 11] = 0xff;
  return writeIPv4(host, 0, host.length, buf, off + 12);
}
