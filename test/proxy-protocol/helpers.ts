/** Small helpers shared by the PROXY protocol tests. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Endpoint } from '../../core/address.ts';
import type { ProxyDecodeResult, ProxyHeader } from '../../l7/proxy-protocol/types.ts';

/** Bytes from hex written with any spacing, as golden vectors are laid out in the tests. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** An endpoint literal; the family follows the text, as the encoder itself decides. */
export function ep(host: string, port: number): Endpoint {
  return { host, port, family: host.includes(':') ? 6 : 4 };
}

/** A file from test/fixtures/proxy-protocol. */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/proxy-protocol/${name}`, import.meta.url));
}

/** The header of an ok result; fails the test with the reason otherwise. */
export function okHeader(result: ProxyDecodeResult, length?: number): ProxyHeader {
  if (result.kind !== 'ok') assert.fail(`expected ok, got ${JSON.stringify(result)}`);
  if (length !== undefined) assert.equal(result.length, length);
  return result.header;
}
