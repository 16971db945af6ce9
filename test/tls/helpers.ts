/** Helpers shared by the TLS codec tests: the captures, and a small encoder to build hellos byte by byte. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import type { ClientHello, ClientHelloRead } from '../../l7/tls/client-hello.ts';
import type { ServerHello, ServerHelloRead } from '../../l7/tls/server-hello.ts';
import { TLS_FIXTURES_DIR } from '../helpers/shared.ts';

/** A capture from the TLS fixtures (the shared folder when present, else the copies in test/fixtures/tls). */
export function capture(name: string): Buffer {
  return readFileSync(TLS_FIXTURES_DIR + name);
}

/** The capture names of one kind: 'clienthello' or 's2c' (each without its suffix). */
export function captureNames(kind: 'clienthello' | 's2c'): string[] {
  const suffix = `.${kind}.bin`;
  return readdirSync(TLS_FIXTURES_DIR).filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length)).sort();
}

/** Bytes from hex written with any spacing. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** The hello of an ok read; fails the test with the result otherwise. */
export function okClient(result: ClientHelloRead): ClientHello {
  if (result.kind !== 'ok') assert.fail(`expected a ClientHello, got ${JSON.stringify(result)}`);
  return result.hello;
}

export function okServer(result: ServerHelloRead): ServerHello {
  if (result.kind !== 'ok') assert.fail(`expected a ServerHello, got ${JSON.stringify(result)}`);
  return result.hello;
}

/** Asserts an error result with `code`, and a reason matching `reason` when given. */
export function assertError(result: { kind: string }, code: string, reason?: RegExp): void {
  const r = result as { kind: string; code?: string; reason?: string };
  assert.equal(r.kind, 'error', `expected ${code}, got ${JSON.stringify(result)}`);
  assert.equal(r.code, code, r.reason);
  if (reason !== undefined) assert.match(r.reason ?? '', reason);
}

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
/** A vector with a 1- or 2-byte length prefix. */
export const vec8 = (b: Uint8Array): Buffer => Buffer.concat([Buffer.from([b.length]), b]);
export const vec16 = (b: Uint8Array): Buffer => Buffer.concat([u16(b.length), b]);

/** One extension: type, 2-byte length, data. */
export function ext(type: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.concat([u16(type), vec16(data)]);
}

export const sniData = (...names: (string | [number, string])[]): Buffer =>
  vec16(Buffer.concat(names.map((n) => (typeof n === 'string' ? [0, n] as const : n)).map(([t, s]) => Buffer.concat([Buffer.from([t]), vec16(Buffer.from(s, 'latin1'))]))));
export const alpnData = (...names: string[]): Buffer => vec16(Buffer.concat(names.map((s) => vec8(Buffer.from(s, 'latin1')))));
export const versionsData = (...v: number[]): Buffer => vec8(Buffer.concat(v.map(u16)));
/** pre_shared_key offer with one 32-byte binder per identity unless `binders` says otherwise. */
export function pskData(identities: Uint8Array[], binders: number = identities.length): Buffer {
  const ids = Buffer.concat(identities.map((id) => Buffer.concat([vec16(id), Buffer.from([0, 0, 0x12, 0x34])])));
  const bs = Buffer.concat(Array.from({ length: binders }, () => vec8(Buffer.alloc(32, 0xbb))));
  return Buffer.concat([vec16(ids), vec16(bs)]);
}

export interface HelloSpec {
  readonly version?: number;
  readonly random?: Uint8Array;
  readonly sessionId?: Uint8Array;
  readonly suites?: readonly number[];
  readonly compression?: readonly number[];
  /** Encoded extensions (ext(...)); undefined leaves the block out entirely. */
  readonly extensions?: readonly Uint8Array[];
}

/** A ClientHello body as a client would write it. */
export function clientHelloBody(spec: HelloSpec = {}): Buffer {
  return Buffer.concat([
    u16(spec.version ?? 0x0303),
    spec.random ?? Buffer.alloc(32, 0x11),
    vec8(spec.sessionId ?? Buffer.alloc(0)),
    vec16(Buffer.concat((spec.suites ?? [0x1301, 0xc02c]).map(u16))),
    vec8(Buffer.from(spec.compression ?? [0])),
    ...(spec.extensions === undefined ? [] : [vec16(Buffer.concat(spec.extensions))]),
  ]);
}

/** A ServerHello body: version, random, session id, suite, compression, extensions. */
export function serverHelloBody(spec: Omit<HelloSpec, 'suites' | 'compression'> & { suite?: number } = {}): Buffer {
  return Buffer.concat([
    u16(spec.version ?? 0x0303),
    spec.random ?? Buffer.alloc(32, 0x22),
    vec8(spec.sessionId ?? Buffer.alloc(0)),
    u16(spec.suite ?? 0x1302),
    Buffer.from([0]),
    ...(spec.extensions === undefined ? [] : [vec16(Buffer.concat(spec.extensions))]),
  ]);
}

/** A handshake message: type, 3-byte length, body. */
export function handshake(type: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}

/**
 * `data` cut into handshake records of the given fragment sizes (the last record takes what is left), each
 * with a 5-byte header: content type, version, length.
 */
export function records(data: Uint8Array, sizes: readonly number[] = [], version = 0x0301, contentType = 22): Buffer {
  const out: Uint8Array[] = [];
  let pos = 0;
  for (const size of sizes) {
    if (pos >= data.length) break;
    const take = Math.min(size, data.length - pos);
    out.push(Buffer.from([contentType]), u16(version), u16(take), data.subarray(pos, pos + take));
    pos += take;
  }
  if (pos < data.length || out.length === 0) out.push(Buffer.from([contentType]), u16(version), u16(data.length - pos), data.subarray(pos));
  return Buffer.concat(out);
}

/** A whole ClientHello stream in one record. */
export function clientHelloStream(spec: HelloSpec = {}, sizes: readonly number[] = []): Buffer {
  return records(handshake(1, clientHelloBody(spec)), sizes);
}

/**
 * The handshake message bytes (header included) of a capture that holds exactly one message, re-cut into
 * records: how the tests make a ClientHello span records where the real clients sent one.
 */
export function messageOf(stream: Uint8Array): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos + 5 <= stream.length) {
    const len = ((stream[pos + 3] as number) << 8) | (stream[pos + 4] as number);
    out.push(Buffer.from(stream.subarray(pos + 5, pos + 5 + len)));
    pos += 5 + len;
  }
  return Buffer.concat(out);
}
