/** The shapes and constants of HAProxy's PROXY protocol, versions 1 (text) and 2 (binary). */
import type { Endpoint } from '../../core/address.ts';

/** The 12 bytes that open every v2 header; chosen by the spec to be rejected by common protocols' parsers. */
export const V2_SIGNATURE: Buffer = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** The longest v1 line a receiver must accept, CRLF included ("PROXY UNKNOWN" with two full IPv6 addresses). */
export const V1_MAX_LENGTH = 107;

/** Registered v2 TLV types (the spec's PP2_TYPE_*). */
export const PP2_TYPE = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
} as const;

/** The socket type of the proxied connection: TCP or UNIX stream, UDP or UNIX datagram, or not said. */
export type ProxyTransport = 'stream' | 'dgram' | 'unspec';

/** An AF_UNIX endpoint from a v2 header; an abstract socket's path starts with a NUL character. */
export interface UnixAddress {
  readonly family: 'unix';
  readonly path: string;
}

/** Either side of a proxied connection. */
export type ProxyAddress = Endpoint | UnixAddress;

/** One v2 type-length-value extension; `value` is at most 65535 bytes. */
export interface ProxyTlv {
  readonly type: number;
  readonly value: Buffer;
}

/**
 * A decoded header. `local` means "use the real connection's endpoints": v2 LOCAL, or v1 UNKNOWN, which the spec
 * gives the same meaning. `src`/`dst` are present only for `proxy` with a known family and transport.
 */
export interface ProxyHeader {
  readonly version: 1 | 2;
  readonly command: 'proxy' | 'local';
  readonly transport: ProxyTransport;
  readonly src?: ProxyAddress;
  readonly dst?: ProxyAddress;
  readonly tlvs: readonly ProxyTlv[];
}

/** What decodeProxy makes of the bytes so far; `length` is how many bytes the header took (the rest is payload). */
export type ProxyDecodeResult =
  | { readonly kind: 'ok'; readonly header: ProxyHeader; readonly length: number }
  | { readonly kind: 'need-more' }
  | { readonly kind: 'malformed'; readonly reason: string };
