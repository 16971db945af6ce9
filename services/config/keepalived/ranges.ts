/*
 * The address forms of a virtual_server_group member, expanded to the addresses they cover: one IP, a range of the
 * last part (`192.168.200.1-3`, `ae00::2-9`), a full range (`10.0.0.250-10.0.1.5`) or a prefix (`10.0.0.8/29`).
 */
import { isIP } from 'node:net';

/** More addresses than this from one member is refused: each becomes a service with its own listener. */
export const MAX_RANGE = 256;

/** The addresses a member covers, or a message saying why it is not an address form. Pure. */
export function expandRange(text: string): string[] | string {
  if (isIP(text) !== 0) return [text];
  const slash = /^(.+)\/(\d{1,3})$/.exec(text);
  if (slash) return prefix(slash[1]!, Number(slash[2]));
  const dash = /^(.+)-([0-9a-fA-F.:]+)$/.exec(text);
  if (!dash) return `"${text}" is not an IP address, range (a.b.c.d-e) or prefix (a.b.c.d/nn)`;
  const [, first, last] = dash as unknown as [string, string, string];
  const family = isIP(first);
  if (family === 0) return `"${first}" is not an IP address`;
  const start = toBig(first);
  let end: bigint;
  if (isIP(last) === family) {
    end = toBig(last);
  } else if (family === 4 && /^\d{1,3}$/.test(last) && Number(last) <= 255) {
    end = (start & ~0xffn) | BigInt(last);
  } else if (family === 6 && /^[0-9a-fA-F]{1,4}$/.test(last)) {
    end = (start & ~0xffffn) | BigInt(`0x${last}`);
  } else {
    return `"${text}": the end of the range "${last}" is not the last part of an address nor a whole address`;
  }
  return span(start, end, family);
}

function prefix(ip: string, bits: number): string[] | string {
  const family = isIP(ip);
  const width = family === 6 ? 128 : 32;
  if (family === 0 || bits > width) return `"${ip}/${bits}" is not an address prefix`;
  const host = BigInt(width - bits);
  const start = (toBig(ip) >> host) << host;
  return span(start, start + (1n << host) - 1n, family);
}

function span(start: bigint, end: bigint, family: number): string[] | string {
  if (end < start) return 'the range ends before it starts';
  if (end - start + 1n > BigInt(MAX_RANGE)) return `the range covers ${end - start + 1n} addresses; yoke expands at most ${MAX_RANGE} (each is a service of its own)`;
  const out: string[] = [];
  for (let n = start; n <= end; n++) out.push(fromBig(n, family));
  return out;
}

function toBig(ip: string): bigint {
  if (isIP(ip) === 4) return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
  // The URL parser rewrites an embedded IPv4 tail (::ffff:1.2.3.4) as hex groups.
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::') as [string, string | undefined];
  const groups = (s: string): string[] => (s ? s.split(':') : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n);
}

function fromBig(n: bigint, family: number): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // The URL parser writes an IPv6 address in its short canonical form.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
