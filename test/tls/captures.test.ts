// The real captures (OpenSSL, curl, Node, Chromium; /work/shared/fixtures/tls) read as their NOTES say.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { readClientHello } from '../../l7/tls/client-hello.ts';
import { readServerHello } from '../../l7/tls/server-hello.ts';
import { clientHelloKeys, serverHelloKeys } from '../../l7/tls/ticket.ts';
import { COPIED_TLS_FIXTURES, SHARED_TLS_FIXTURES, TLS_FIXTURES_DIR } from '../helpers/shared.ts';
import { capture, captureNames, okClient, okServer, toHex } from './helpers.ts';

/** What the notes say of one capture. */
interface Note {
  readonly name: string;
  readonly negotiated?: string; // 'TLSv1.2' | 'TLSv1.3'
  readonly reused?: boolean;
  readonly legacyVersion: number;
  readonly sessionId: string; // hex, '' for empty
  readonly extensions: string[];
  readonly serverSessionId?: string;
}

/** Reads NOTES.md and NOTES-other-clients.md: one section per capture, "## name" then its lines. */
function notes(): Note[] {
  const out: Note[] = [];
  for (const file of ['NOTES.md', 'NOTES-other-clients.md']) {
    const text = readFileSync(TLS_FIXTURES_DIR + file, 'utf8');
    for (const section of text.split(/^## /m).slice(1)) {
      const name = (section.split('\n')[0] as string).trim();
      const ch = /ClientHello record=0x\w+ legacy_version=0x(\w+) session_id_len=\d+ session_id=(\S+)/.exec(section);
      const ex = /extensions: ([^`\n]*)/.exec(section);
      if (ch === null || ex === null) continue;
      const sh = /ServerHello record=0x\w+ legacy_version=0x\w+ session_id_len=\d+ session_id=([^`\s]+)/.exec(section);
      const said = /s_client says: `(New|Reused), (TLSv1\.[23])/.exec(section);
      const sid = (s: string): string => (s === '(empty)' ? '' : s);
      out.push({
        name,
        legacyVersion: Number.parseInt(ch[1] as string, 16),
        sessionId: sid(ch[2] as string),
        extensions: (ex[1] as string).split(', ').map((e) => e.trim()),
        ...(sh === null ? {} : { serverSessionId: sid(sh[1] as string) }),
        ...(said === null ? {} : { negotiated: said[2] as string, reused: said[1] === 'Reused' }),
      });
    }
  }
  return out;
}

/** The notes' extension names, as numbers; `ext(0x…)` and `GREASE(0x…)` carry theirs. */
const EXTENSION_NUMBER: Record<string, number> = {
  server_name: 0, status_request: 5, supported_groups: 10, ec_point_formats: 11, signature_algorithms: 13, alpn: 16,
  encrypt_then_mac: 22, extended_master_secret: 23, session_ticket: 35, pre_shared_key: 41, supported_versions: 43,
  psk_key_exchange_modes: 45, post_handshake_auth: 49, key_share: 51, renegotiation_info: 0xff01,
};

function extensionNumber(text: string): number {
  const explicit = /^(?:ext|GREASE)\(0x([0-9a-f]+)\)$/.exec(text);
  if (explicit !== null) return Number.parseInt(explicit[1] as string, 16);
  const name = (/^[a-z_]+/.exec(text) as RegExpExecArray)[0];
  const n = EXTENSION_NUMBER[name];
  assert.ok(n !== undefined, `extension name ${name} in the notes`);
  return n;
}

const NOTES = notes();

describe('the capture files', () => {
  it('the copies in test/fixtures/tls equal the shared originals byte for byte', (t) => {
    if (!existsSync(SHARED_TLS_FIXTURES)) return t.skip('no shared folder beside the repository (a clean clone)');
    const shared = readdirSync(SHARED_TLS_FIXTURES).sort();
    assert.deepEqual(readdirSync(COPIED_TLS_FIXTURES).sort(), shared);
    for (const f of shared) assert.ok(readFileSync(COPIED_TLS_FIXTURES + f).equals(readFileSync(SHARED_TLS_FIXTURES + f)), f);
  });

  it('the notes describe every ClientHello capture', () => {
    assert.deepEqual(NOTES.map((n) => n.name).sort(), captureNames('clienthello'));
  });
});

describe('every ClientHello capture parses as its notes say', () => {
  for (const note of NOTES) {
    it(note.name, () => {
      const bytes = capture(`${note.name}.clienthello.bin`);
      const result = readClientHello(bytes);
      const h = okClient(result);
      assert.equal(result.kind === 'ok' && result.end, bytes.length, 'the capture is exactly one ClientHello');
      assert.equal(h.legacyVersion, note.legacyVersion);
      assert.equal(toHex(h.sessionId), note.sessionId);
      // The session id starts at file offset 44, as the notes say: 5 record + 4 handshake + 2 + 32 + 1.
      if (note.sessionId !== '') assert.equal(toHex(bytes.subarray(44, 44 + h.sessionId.length)), note.sessionId);
      assert.deepEqual(h.extensions.map((e) => e.type), note.extensions.map(extensionNumber));
      const sni = note.extensions.find((e) => e.startsWith('server_name='));
      assert.equal(h.serverName, sni?.slice('server_name='.length));
      const sv = note.extensions.find((e) => e.startsWith('supported_versions='));
      if (sv === undefined) assert.equal(h.supportedVersions, undefined);
      else {
        const data = Buffer.from(sv.slice('supported_versions='.length), 'hex');
        assert.deepEqual(h.supportedVersions, Array.from({ length: (data.length - 1) / 2 }, (_, i) => data.readUInt16BE(1 + 2 * i)));
      }
      const ticket = note.extensions.find((e) => e.startsWith('session_ticket'));
      assert.equal(h.sessionTicket?.length, ticket === undefined ? undefined : Number(/\((\d+)B\)/.exec(ticket)?.[1]));
      assert.equal(h.pskIdentities !== undefined, note.extensions.some((e) => e.startsWith('pre_shared_key')));
    });
  }
});

describe('every ServerHello capture parses as its notes say', () => {
  for (const note of NOTES.filter((n) => n.serverSessionId !== undefined)) {
    it(note.name, () => {
      const client = okClient(readClientHello(capture(`${note.name}.clienthello.bin`)));
      const server = okServer(readServerHello(capture(`${note.name}.s2c.bin`)));
      assert.equal(toHex(server.sessionId), note.serverSessionId);
      assert.equal(server.version, note.negotiated === 'TLSv1.3' ? 0x0304 : 0x0303);
      assert.equal(server.legacyVersion, 0x0303);
      assert.equal(server.helloRetryRequest, false);
      assert.equal(serverHelloKeys(client, server).resumed, note.reused, 'resumed as s_client said: New or Reused');
    });
  }
});

describe('what the captures hold, value by value', () => {
  it('SNI: the OpenSSL and Node captures that set a name; none where the client connected to an IP', () => {
    assert.equal(okClient(readClientHello(capture('tls12-sni.clienthello.bin'))).serverName, 'monitor.yoke.test');
    assert.equal(okClient(readClientHello(capture('node-tls12-servername.clienthello.bin'))).serverName, 'monitor.yoke.test');
    for (const name of ['curl-default', 'chromium-headless', 'tls13-full', 'node-tls-default']) {
      assert.equal(okClient(readClientHello(capture(`${name}.clienthello.bin`))).serverName, undefined, name);
    }
  });

  it('ALPN: curl and Chromium offer h2 then http/1.1; OpenSSL and Node send none', () => {
    for (const name of ['curl-default', 'chromium-headless']) {
      assert.deepEqual(okClient(readClientHello(capture(`${name}.clienthello.bin`))).alpn, ['h2', 'http/1.1'], name);
    }
    for (const name of ['default-offer', 'node-tls-default', 'tls12-sni']) {
      assert.equal(okClient(readClientHello(capture(`${name}.clienthello.bin`))).alpn, undefined, name);
    }
  });

  it('TLS 1.3 offers: supported_versions present with 0x0304 (Chromium\'s list starts with GREASE 0xcaca)', () => {
    const chromium = okClient(readClientHello(capture('chromium-headless.clienthello.bin')));
    assert.deepEqual(chromium.supportedVersions, [0xcaca, 0x0304, 0x0303]);
    assert.equal(chromium.offersTls13, true);
    assert.equal(chromium.cipherSuiteCount, 16);
    assert.equal(okClient(readClientHello(capture('tls12-full-ticket.clienthello.bin'))).offersTls13, false);
    assert.deepEqual(okClient(readClientHello(capture('tls13-full.clienthello.bin'))).supportedVersions, [0x0304]);
  });

  it('Chromium\'s 1,894-byte hello (a post-quantum key share) comes in one record; nothing here spans records', () => {
    for (const name of captureNames('clienthello')) {
      const r = readClientHello(capture(`${name}.clienthello.bin`));
      assert.equal(r.kind === 'ok' && r.records, 1, name);
    }
  });

  it('TLS 1.2 ticket: empty when asked for, 176 bytes when resuming; the server promises one in its hello', () => {
    assert.equal(okClient(readClientHello(capture('tls12-full-ticket.clienthello.bin'))).sessionTicket?.length, 0);
    assert.equal(okServer(readServerHello(capture('tls12-full-ticket.s2c.bin'))).ticketPromised, true);
    assert.equal(okServer(readServerHello(capture('tls12-full-noticket.s2c.bin'))).ticketPromised, false);
    const resume = okClient(readClientHello(capture('tls12-resume-ticket.clienthello.bin')));
    assert.equal(resume.sessionTicket?.length, 176);
    assert.equal(toHex(resume.sessionTicket?.subarray(0, 16) ?? new Uint8Array()), 'f36e529f0526b398ac283729cb977b90');
  });

  it('TLS 1.3 PSK: one identity offered, identity 0 accepted by the server', () => {
    const client = okClient(readClientHello(capture('tls13-resume-psk.clienthello.bin')));
    assert.equal(client.pskIdentities?.length, 1);
    assert.equal(toHex(client.pskIdentities?.[0]?.identity.subarray(0, 16) ?? new Uint8Array()), 'f36e529f0526b398ac283729cb977b90');
    assert.equal(client.earlyData, false);
    assert.equal(okServer(readServerHello(capture('tls13-resume-psk.s2c.bin'))).pskSelectedIdentity, 0);
    assert.equal(okServer(readServerHello(capture('tls13-full.s2c.bin'))).pskSelectedIdentity, undefined);
  });

  it('the same session id in two different ClientHellos (a second resumption) gives the same key', () => {
    const a = okClient(readClientHello(capture('tls12-resume-sessionid.clienthello.bin')));
    const b = okClient(readClientHello(capture('tls12-resume-sessionid-2.clienthello.bin')));
    assert.notEqual(toHex(a.random), toHex(b.random));
    assert.deepEqual(clientHelloKeys(a), clientHelloKeys(b));
  });

  it('the c2s captures hold more after the ClientHello; the reader stops at its end', () => {
    for (const name of captureNames('s2c')) {
      const hello = capture(`${name}.clienthello.bin`);
      const r = readClientHello(capture(`${name}.c2s.bin`));
      assert.equal(r.kind === 'ok' && r.end, hello.length, name);
    }
  });
});
