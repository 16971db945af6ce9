// Stickiness keys: what a ClientHello is looked up by, what a ServerHello teaches, and the ticket key name
// checked against a real Node TLS server whose ticket keys the test chose.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { readClientHello } from '../../l7/tls/client-hello.ts';
import { readServerHello } from '../../l7/tls/server-hello.ts';
import { OPENSSL_KEY_NAME_LENGTH, clientHelloKeys, serverHelloKeys, ticketKeyName } from '../../l7/tls/ticket.ts';
import { EXTENSION_TYPE as X } from '../../l7/tls/types.ts';
import { capture, clientHelloStream, ext, handshake, hex, okClient, okServer, pskData, records, serverHelloBody } from './helpers.ts';

const KEY = 'ticket-key-name:f36e529f0526b398ac283729cb977b90'; // the s_server's key name in these captures
const hello = (name: string) => okClient(readClientHello(capture(`${name}.clienthello.bin`)));
const server = (name: string) => okServer(readServerHello(capture(`${name}.s2c.bin`)));
const keysOf = (name: string) => clientHelloKeys(hello(name)).map((k) => k.key);
const learned = (name: string) => serverHelloKeys(hello(name), server(name));

describe('ticketKeyName', () => {
  it('the first 16 bytes as hex; a shorter prefix when configured; none when too short or switched off', () => {
    const ticket = hex('000102030405060708090a0b0c0d0e0f 1011');
    assert.equal(OPENSSL_KEY_NAME_LENGTH, 16);
    assert.equal(ticketKeyName(ticket), '000102030405060708090a0b0c0d0e0f');
    assert.equal(ticketKeyName(ticket, 4), '00010203');
    assert.equal(ticketKeyName(ticket.subarray(0, 15)), undefined);
    assert.equal(ticketKeyName(ticket, 0), undefined);
  });
});

describe('clientHelloKeys: what a ClientHello is looked up by', () => {
  it('TLS 1.2 session-id resumption: the session id', () => {
    assert.deepEqual(keysOf('tls12-resume-sessionid'), ['session-id:4c2b71de74e0df6739441c60f2afa043a4400a4e07634366e5c7ff32bf57fa5b']);
  });

  it('TLS 1.2 ticket resumption: the ticket\'s key name, not the client-made session id beside it', () => {
    assert.deepEqual(keysOf('tls12-resume-ticket'), [KEY]);
  });

  it('TLS 1.3 PSK resumption: the identity\'s key name first — the same name as the TLS 1.2 ticket of the same server', () => {
    assert.equal(keysOf('tls13-resume-psk')[0], KEY);
  });

  it('fresh handshakes: nothing, or only a session id no server assigned (TLS 1.3\'s random one), which misses', () => {
    assert.deepEqual(keysOf('tls12-full-noticket'), []);
    assert.deepEqual(keysOf('tls12-full-ticket'), []);
    assert.deepEqual(keysOf('tls13-nomiddlebox'), []);
    assert.deepEqual(keysOf('tls13-full').map((k) => k.split(':')[0]), ['session-id']);
  });

  it('several PSK identities under one key name give one key; the prefix length is a setting', () => {
    const a = Buffer.concat([Buffer.alloc(16, 0xaa), hex('01')]);
    const b = Buffer.concat([Buffer.alloc(16, 0xaa), hex('02')]);
    const c = Buffer.concat([Buffer.alloc(16, 0xcc), hex('03')]);
    const h = okClient(readClientHello(clientHelloStream({ extensions: [ext(X.PRE_SHARED_KEY, pskData([a, b, c]))] })));
    assert.deepEqual(clientHelloKeys(h).map((k) => k.key), [`ticket-key-name:${'aa'.repeat(16)}`, `ticket-key-name:${'cc'.repeat(16)}`]);
    assert.deepEqual(clientHelloKeys(h, 2).map((k) => k.key), ['ticket-key-name:aaaa', 'ticket-key-name:cccc']);
  });
});

describe('serverHelloKeys: what a ServerHello teaches', () => {
  it('TLS 1.2 full handshake: the id the server assigned', () => {
    assert.deepEqual(learned('tls12-full-noticket'), { resumed: false, keys: [{ kind: 'session-id', key: 'session-id:4c2b71de74e0df6739441c60f2afa043a4400a4e07634366e5c7ff32bf57fa5b' }] });
    assert.equal(learned('tls12-sni').keys.length, 1);
  });

  it('TLS 1.2 session-id resumption: resumed, the id refreshed', () => {
    assert.deepEqual(learned('tls12-resume-sessionid'), { resumed: true, keys: learned('tls12-full-noticket').keys });
  });

  it('TLS 1.2 ticket issued (empty session id): nothing; ticket resumption: the key name', () => {
    assert.deepEqual(learned('tls12-full-ticket'), { resumed: false, keys: [] });
    assert.deepEqual(learned('tls12-resume-ticket'), { resumed: true, keys: [{ kind: 'ticket-key-name', key: KEY }] });
  });

  it('TLS 1.3: a fresh handshake teaches nothing (the echoed id is the client\'s); an accepted PSK teaches its key name', () => {
    assert.deepEqual(learned('tls13-full'), { resumed: false, keys: [] });
    assert.deepEqual(learned('default-offer'), { resumed: false, keys: [] });
    assert.deepEqual(learned('tls13-resume-psk'), { resumed: true, keys: [{ kind: 'ticket-key-name', key: KEY }] });
  });

  it('a HelloRetryRequest, or a PSK index the client never offered, teaches nothing', () => {
    const client = hello('tls13-resume-psk');
    const sh = (random: Buffer | undefined, index: string) => okServer(readServerHello(records(handshake(2, serverHelloBody({
      ...(random === undefined ? {} : { random }),
      sessionId: client.sessionId,
      extensions: [ext(X.SUPPORTED_VERSIONS, hex('0304')), ...(random === undefined ? [ext(X.PRE_SHARED_KEY, hex(index))] : [])],
    })), [], 0x0303)));
    assert.deepEqual(serverHelloKeys(client, sh(undefined, '0001')), { resumed: false, keys: [] });
    assert.deepEqual(serverHelloKeys(client, sh(undefined, '0000')).resumed, true);
    const hrrRandom = hex('CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C');
    assert.deepEqual(serverHelloKeys(client, sh(hrrRandom, '')), { resumed: false, keys: [] });
  });
});

/** Both directions of one connection through the recording relay. */
interface Recorded { c2s: Buffer[]; s2c: Buffer[] }

describe('a real Node TLS server writes its ticketKeys\' first 16 bytes as the key name', () => {
  let dir = '';
  let key = Buffer.alloc(0);
  let cert = Buffer.alloc(0);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'yoke-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem',
      '-days', '1', '-subj', '/CN=ticket.yoke.test'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    key = readFileSync(join(dir, 'k.pem'));
    cert = readFileSync(join(dir, 'c.pem'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Two connections through a recording relay: a fresh one that keeps its session, then one resuming it. */
  async function twoConnections(version: 'TLSv1.2' | 'TLSv1.3', ticketKeys: Buffer): Promise<Recorded[]> {
    const backend = tls.createServer({ key, cert, ticketKeys, minVersion: version, maxVersion: version }, (s) => s.end('hi'));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const seen: Recorded[] = [];
    const relay = net.createServer((c) => {
      const rec: Recorded = { c2s: [], s2c: [] };
      seen.push(rec);
      const up = net.connect((backend.address() as net.AddressInfo).port, '127.0.0.1');
      c.on('data', (d) => { rec.c2s.push(d); up.write(d); });
      up.on('data', (d) => { rec.s2c.push(d); c.write(d); });
      c.on('end', () => up.end());
      up.on('end', () => c.end());
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const port = (relay.address() as net.AddressInfo).port;
    const connect = (session?: Buffer) => new Promise<{ session: Buffer | undefined; reused: boolean }>((resolve, reject) => {
      let got: Buffer | undefined;
      let reused = false;
      const s = tls.connect({ port, host: '127.0.0.1', servername: 'ticket.yoke.test', rejectUnauthorized: false, ...(session ? { session } : {}) });
      s.on('secureConnect', () => { reused = s.isSessionReused(); });
      s.on('session', (b: Buffer) => { got = b; });
      s.on('data', () => {});
      s.on('error', reject);
      s.on('close', () => resolve({ session: got, reused }));
    });
    try {
      const first = await connect();
      assert.ok(first.session, 'the server issued a ticket');
      const second = await connect(first.session);
      assert.equal(second.reused, true, 'the second connection resumed');
      return seen;
    } finally {
      relay.close();
      backend.close();
    }
  }

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${version}: the resuming hello is looked up by that name, and its ServerHello confirms it`, async () => {
      const ticketKeys = randomBytes(48);
      const [, resumption] = await twoConnections(version, ticketKeys);
      assert.ok(resumption);
      const client = okClient(readClientHello(Buffer.concat(resumption.c2s)));
      const name = `ticket-key-name:${ticketKeys.subarray(0, 16).toString('hex')}`;
      assert.equal(clientHelloKeys(client)[0]?.key, name);
      assert.equal(client.serverName, 'ticket.yoke.test');
      const learnt = serverHelloKeys(client, okServer(readServerHello(Buffer.concat(resumption.s2c))));
      assert.deepEqual(learnt, { resumed: true, keys: [{ kind: 'ticket-key-name', key: name }] });
    });
  }
});
