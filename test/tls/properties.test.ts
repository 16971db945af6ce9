// Properties (fast-check, bounded runs): the readers are total on any bytes, mutated captures never throw,
// and hellos built from random values read back the same however they are cut into records and segments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseClientHello, readClientHello } from '../../l7/tls/client-hello.ts';
import { readHandshake } from '../../l7/tls/records.ts';
import { parseServerHello, readServerHello } from '../../l7/tls/server-hello.ts';
import { clientHelloKeys, serverHelloKeys } from '../../l7/tls/ticket.ts';
import { EXTENSION_TYPE as X } from '../../l7/tls/types.ts';
import { alpnData, capture, captureNames, clientHelloBody, ext, handshake, okClient, pskData, records, sniData, toHex, versionsData } from './helpers.ts';

const RUNS = { numRuns: 500 };
const KINDS = new Set(['need-more', 'ok', 'alert', 'error']);
const CODES = new Set(['E_TLS_NOT_TLS', 'E_TLS_MALFORMED', 'E_TLS_TOO_LARGE']);

/** Every reader and parser on `bytes`: none throws, each answers one of its kinds, need-more asks for more. */
function total(bytes: Uint8Array): void {
  for (const r of [readHandshake(bytes), readClientHello(bytes), readServerHello(bytes), parseClientHello(bytes), parseServerHello(bytes)]) {
    assert.ok(KINDS.has(r.kind), r.kind);
    if (r.kind === 'error') assert.ok(CODES.has(r.code) && r.reason.length > 0, JSON.stringify(r));
    if (r.kind === 'need-more') assert.ok(r.atLeast > bytes.length, `atLeast ${r.atLeast} for ${bytes.length} bytes`);
  }
  const c = readClientHello(bytes);
  if (c.kind === 'ok') clientHelloKeys(c.hello);
  const s = readServerHello(bytes);
  if (c.kind === 'ok' && s.kind === 'ok') serverHelloKeys(c.hello, s.hello);
}

const CAPTURES = [
  ...captureNames('clienthello').map((n) => capture(`${n}.clienthello.bin`)),
  ...captureNames('s2c').map((n) => capture(`${n}.s2c.bin`).subarray(0, 300)),
];

test('property: random bytes never throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => total(b)), RUNS);
});

test('property: random bytes behind a valid record and handshake header never throw (reaching the parsers)', () => {
  fc.assert(fc.property(fc.constantFrom(1, 2), fc.uint8Array({ maxLength: 600 }), (type, body) => {
    total(records(handshake(type, body)));
    total(body);
  }), RUNS);
});

test('property: random data in every extension yoke decodes never throws, in a ClientHello and a ServerHello', () => {
  const types = fc.constantFrom(X.SERVER_NAME, X.ALPN, X.SUPPORTED_VERSIONS, X.SESSION_TICKET, X.PRE_SHARED_KEY, X.EARLY_DATA);
  const extension = fc.tuple(types, fc.uint8Array({ maxLength: 80 })).map(([t, d]) => ext(t, d));
  fc.assert(fc.property(fc.array(extension, { maxLength: 4 }), fc.uint8Array({ maxLength: 32 }), (extensions, sessionId) => {
    const body = clientHelloBody({ sessionId, extensions });
    total(body);
    total(records(handshake(1, body)));
    total(records(handshake(2, body)));
  }), RUNS);
});

test('property: single-byte mutations of the captures never throw', () => {
  const mutation = fc.record({ which: fc.nat({ max: CAPTURES.length - 1 }), at: fc.nat(), to: fc.integer({ min: 0, max: 255 }) });
  fc.assert(fc.property(mutation, ({ which, at, to }) => {
    const b = Buffer.from(CAPTURES[which] as Buffer);
    b[at % b.length] = to;
    total(b);
  }), { numRuns: 3000 });
});

test('every byte of every ClientHello capture flipped (x ^ 0xff, 0x00): never throws', () => {
  for (const original of CAPTURES.slice(0, captureNames('clienthello').length)) {
    for (let i = 0; i < original.length; i++) {
      for (const f of [(x: number) => x ^ 0xff, () => 0]) {
        const b = Buffer.from(original);
        b[i] = f(b[i] as number);
        const r = readClientHello(b);
        assert.ok(KINDS.has(r.kind));
      }
    }
  }
});

/** A ClientHello as random values, and its bytes. */
const helloValues = fc.record({
  sessionId: fc.uint8Array({ maxLength: 32 }),
  host: fc.option(fc.domain(), { nil: undefined }),
  alpn: fc.option(fc.array(fc.string({ minLength: 1, maxLength: 12, unit: 'binary-ascii' }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
  versions: fc.option(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 6 }), { nil: undefined }),
  ticket: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: undefined }),
  psk: fc.option(fc.array(fc.uint8Array({ minLength: 1, maxLength: 120 }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  padding: fc.nat({ max: 3000 }),
});

type Values = typeof helloValues extends fc.Arbitrary<infer T> ? T : never;

function encode(v: Values): Buffer {
  const extensions = [
    ...(v.host === undefined ? [] : [ext(X.SERVER_NAME, sniData(v.host))]),
    ...(v.alpn === undefined ? [] : [ext(X.ALPN, alpnData(...v.alpn))]),
    ...(v.versions === undefined ? [] : [ext(X.SUPPORTED_VERSIONS, versionsData(...v.versions))]),
    ...(v.ticket === undefined ? [] : [ext(X.SESSION_TICKET, v.ticket)]),
    ext(0x15, Buffer.alloc(v.padding)),
    ...(v.psk === undefined ? [] : [ext(X.PRE_SHARED_KEY, pskData(v.psk))]),
  ];
  return handshake(1, clientHelloBody({ sessionId: v.sessionId, extensions }));
}

test('property: a hello built from random values reads them back, in any record cut and TCP cut', () => {
  const cuts = fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 6 });
  fc.assert(fc.property(helloValues, cuts, fc.nat(), (v, sizes, tcp) => {
    const stream = records(encode(v), sizes);
    const h = okClient(readClientHello(stream));
    assert.equal(toHex(h.sessionId), toHex(v.sessionId));
    assert.equal(h.serverName, v.host?.toLowerCase());
    assert.deepEqual(h.alpn, v.alpn);
    assert.deepEqual(h.supportedVersions, v.versions);
    assert.equal(h.offersTls13, v.versions?.includes(0x0304) ?? false);
    assert.equal(h.sessionTicket === undefined ? undefined : toHex(h.sessionTicket), v.ticket === undefined ? undefined : toHex(v.ticket));
    assert.deepEqual(h.pskIdentities?.map((p) => toHex(p.identity)), v.psk?.map(toHex));
    const cut = tcp % stream.length;
    const partial = readClientHello(stream.subarray(0, cut));
    assert.equal(partial.kind, 'need-more');
    assert.ok(partial.kind === 'need-more' && partial.atLeast > cut && partial.atLeast <= stream.length);
  }), RUNS);
});

test('property: a TLS 1.2 server assigning an id teaches exactly that id; echoing it means resumed', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.uint8Array({ minLength: 1, maxLength: 32 }), (clientSid, serverSid) => {
    const client = okClient(readClientHello(records(handshake(1, clientHelloBody({ sessionId: clientSid })))));
    const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32), Buffer.from([serverSid.length]), serverSid, Buffer.from([0xc0, 0x2c, 0])]);
    const server = parseServerHello(body);
    assert.ok(server.kind === 'ok');
    const learnt = serverHelloKeys(client, server.hello);
    assert.equal(learnt.resumed, toHex(clientSid) === toHex(serverSid));
    assert.deepEqual(learnt.keys, [{ kind: 'session-id', key: `session-id:${toHex(serverSid)}` }]);
  }), RUNS);
});
