import { CONTENT_TYPE } from './types.ts';

/** What the server's clear-text handshake flight says about a TLS 1.2 ticket. */
export type TicketSearch =
  | { readonly kind: 'ticket'; readonly ticket: Uint8Array }
  /** The server sent its ChangeCipherSpec (or anything but handshake records) first: no ticket in clear. */
  | { readonly kind: 'none' }
  | { readonly kind: 'need-more' };

const NEW_SESSION_TICKET = 4;
const RECORD_HEADER = 5;

/**
 * In a TLS 1.2 full handshake whose ServerHello promised a ticket (an empty session_ticket extension), the server's
 * NewSessionTicket travels in clear just before its ChangeCipherSpec (RFC 5077 3.3). Reads the server's stream from
 * its first byte, record by record, up to `maxBytes`: the ticket, 'none' when something other than a handshake
 * record comes first (or the limit passes), or need-more. Pure and total, like the hello readers.
 */
export function findNewSessionTicket(bytes: Uint8Array, maxBytes: number): TicketSearch {
  const handshake: Uint8Array[] = [];
  let pos = 0;
  for (;;) {
    if (pos >= maxBytes) return { kind: 'none' };
    if (bytes.length < pos + RECORD_HEADER) return scanMessages(handshake, true);
    if (bytes[pos] !== CONTENT_TYPE.HANDSHAKE) return scanMessages(handshake, false);
    const length = ((bytes[pos + 3] as number) << 8) | (bytes[pos + 4] as number);
    const end = pos + RECORD_HEADER + length;
    handshake.push(bytes.subarray(pos + RECORD_HEADER, Math.min(end, bytes.length)));
    if (bytes.length < end) return scanMessages(handshake, true);
    pos = end;
  }
}

/** Walks the handshake messages carried so far; `more` = the stream may still bring further handshake bytes. */
function scanMessages(parts: readonly Uint8Array[], more: boolean): TicketSearch {
  const stream = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
  let i = 0;
  while (i + 4 <= stream.length) {
    const type = stream[i] as number;
    const length = ((stream[i + 1] as number) << 16) | ((stream[i + 2] as number) << 8) | (stream[i + 3] as number);
    const body = i + 4;
    if (body + length > stream.length) break;
    if (type === NEW_SESSION_TICKET) {
      // lifetime_hint (4 bytes), then the ticket as an opaque vector with a 2-byte length
      if (length < 6) return { kind: 'none' };
      const size = ((stream[body + 4] as number) << 8) | (stream[body + 5] as number);
      if (6 + size > length || size === 0) return { kind: 'none' };
      return { kind: 'ticket', ticket: stream.subarray(body + 6, body + 6 + size) };
    }
    i = body + length;
  }
  return more ? { kind: 'need-more' } : { kind: 'none' };
}
