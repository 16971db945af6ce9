import { isIP } from 'node:net';
import { YokeError } from './errors.ts';

/** A transport endpoint: an IP literal and a port. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** Parses `1.2.3.4:80` or `[::1]:80` into an Endpoint; throws E_ADDRESS otherwise. Host names are refused: a director must not depend on DNS. */
export function parseEndpoint(text: string): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) throw new YokeError('E_ADDRESS', `"${text}" is not host:port`);
  const host = (m[1] ?? m[2]) as string;
  const port = Number(m[3]);
  const family = isIP(host);
  if (family === 0) throw new YokeError('E_ADDRESS', `"${host}" is not an IP address`);
  if (family === 6 && m[1] === undefined) throw new YokeError('E_ADDRESS', `IPv6 "${host}" must be in brackets`);
  if (family === 4 && m[1] !== undefined) throw new YokeError('E_ADDRESS', `IPv4 "${host}" must not be in brackets`);
  if (port < 1 || port > 65535) throw new YokeError('E_ADDRESS', `port ${port} is out of range 1..65535`);
  return { host, port, family: family as 4 | 6 };
}

/** Formats an endpoint the way it is written in config and shown by `yoke ctl`. */
export function formatEndpoint(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
