/**
 * The PROXY protocol decoder for both versions. It is pure and total: for any bytes it answers ok (with the
 * header and how many bytes it took), need-more (every prefix of a valid header), or malformed with a reason,
 * and never throws, because it reads bytes from the network on the data plane.
 */
import { decodeV2 } from './decode-v2.ts';
import { formatIPv6, writeIPv4, writeIPv6 } from './ip.ts';
import { V1_MAX_LENGTH, type ProxyDecodeResult, type ProxyHeader, type ProxyTlv } from './types.ts';

export type { ProxyAddress, ProxyDecodeResult, ProxyHeader, ProxyTlv, ProxyTransport, UnixAddress } from './types.ts';

const CR = 0x0d;
const LF = 0x0a;
const V1_PREFIX = 'PROXY ';
const PORT = /^(?:0|[1-9][0-9]{0,4})$/;
const NEED_MORE: ProxyDecodeResult = Object.freeze({ kind: 'need-more' });
const NO_TLVS: readonly ProxyTlv[] = Object.freeze([]);
const V1_LOCAL: ProxyHeader = Object.freeze({ version: 1, command: 'local', transport: 'unspec', tlvs: NO_TLVS });
const NOT_PROXY = 'not a PROXY protocol header: it starts with neither "PROXY " nor the v2 signature';

/** Room to parse IPv6 text; decoding is synchronous, so one buffer serves every call. */
const scratch = new Uint8Array(16);

/** Decodes a v1 or v2 header at the start of `bytes` (the bytes after it are payload, left to the caller). */
export function decodeProxy(bytes: Buffer): ProxyDecodeResult {
  if (bytes.length === 0) return NEED_MORE;
  if (bytes[0] === CR) return decodeV2(bytes);
  if (bytes[0] === V1_PREFIX.charCodeAt(0)) return decodeV1(bytes);
  return { kind: 'malformed', reason: NOT_PROXY };
}

function decodeV1(b: Buffer): ProxyDecodeResult {
  for (let i = 0; i < V1_PREFIX.length && i < b.length; i++) {
    if (b[i] !== V1_PREFIX.charCodeAt(i)) return { kind: 'malformed', reason: NOT_PROXY };
  }
  // The CR may stand at most at index 105, so that the line with its LF fits in V1_MAX_LENGTH bytes.
  const limit = Math.min(b.length, V1_MAX_LENGTH - 1);
  for (let i = V1_PREFIX.length; i < limit; i++) {
    if (b[i] === LF) return { kind: 'malformed', reason: 'v1 line ends with a bare LF; it must end with CRLF' };
    if (b[i] !== CR) continue;
    if (i + 1 === b.length) return NEED_MORE;
    if (b[i + 1] !== LF) return { kind: 'malformed', reason: 'v1 line has a CR not followed by LF' };
    return parseV1Line(b.toString('latin1', V1_PREFIX.length, i), i + 2);
  }
  if (b.length < V1_MAX_LENGTH - 1) return NEED_MORE;
  return { kind: 'malformed', reason: `v1 line has no CRLF within ${V1_MAX_LENGTH} bytes` };
}

/** Parses what stands between "PROXY " and CRLF: "UNKNOWN[ anything]" or "TCPn src dst sport dport". */
function parseV1Line(text: string, length: number): ProxyDecodeResult {
  const parts = text.split(' ');
  const proto = parts[0] as string;
  // The spec tells receivers to ignore whatever follows UNKNOWN.
  if (proto === 'UNKNOWN') return { kind: 'ok', header: V1_LOCAL, length };
  if (proto !== 'TCP4' && proto !== 'TCP6') return malformed(`v1 protocol ${quote(proto)} is not TCP4, TCP6 or UNKNOWN`);
  if (parts.length !== 5) {
    return malformed(`v1 ${proto} line has ${parts.length - 1} fields after the protocol; it needs 4, one space apart`);
  }
  const family = proto === 'TCP4' ? 4 : 6;
  const [, srcHost = '', dstHost = '', srcPort = '', dstPort = ''] = parts;
  const src = v1Host(srcHost, family);
  if (src === undefined) return malformed(`v1 source ${quote(srcHost)} is not an IPv${family} address`);
  const dst = v1Host(dstHost, family);
  if (dst === undefined) return malformed(`v1 destination ${quote(dstHost)} is not an IPv${family} address`);
  const sport = v1Port(srcPort);
  if (sport < 0) return malformed(`v1 source port ${quote(srcPort)} is not a number from 0 to 65535 without leading zeros`);
  const dport = v1Port(dstPort);
  if (dport < 0) return malformed(`v1 destination port ${quote(dstPort)} is not a number from 0 to 65535 without leading zeros`);
  const header: ProxyHeader = {
    version: 1,
    command: 'proxy',
    transport: 'stream',
    src: { host: src, port: sport, family },
    dst: { host: dst, port: dport, family },
    tlvs: NO_TLVS,
  };
  return { kind: 'ok', header, length };
}

/** The host as yoke writes it (IPv6 canonical, as Node reports peers), or undefined if it is not of `family`. */
function v1Host(text: string, family: 4 | 6): string | undefined {
  if (family === 4) return writeIPv4(text, 0, text.length, scratch, 0) ? text : undefined;
  return writeIPv6(text, 0, text.length, scratch, 0) ? formatIPv6(scratch, 0) : undefined;
}

function v1Port(text: string): number {
  if (!PORT.test(text)) return -1;
  const port = Number(text);
  return port <= 0xffff ? port : -1;
}

function malformed(reason: string): ProxyDecodeResult {
  return { kind: 'malformed', reason };
}

/** Peer bytes shown in a reason: escaped and cut short, since reasons end up in logs. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}
