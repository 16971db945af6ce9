// The malformed-request and smuggling corpus (../shared/fixtures/http-vectors, copied to test/fixtures): every
// vector through head → framing → body → next request, against its expectation for a reverse proxy.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COPIED_HTTP_VECTORS, HTTP_VECTORS_DIR, SHARED_HTTP_VECTORS } from '../helpers/shared.ts';
import { drive, verdictOf, type DriveOutcome, type Verdict } from './driver.ts';

interface Vector { readonly group: string; readonly id: string; readonly file: string; readonly expect: string; readonly note: string }

const vectors: Vector[] = readFileSync(join(HTTP_VECTORS_DIR, 'vectors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Vector);
const bytesOf = (v: Vector): Buffer => readFileSync(join(HTTP_VECTORS_DIR, v.file));
const key = (v: Vector): string => `${v.group}/${v.id}`;

/**
 * Where yoke is deliberately stricter (or, for ANNOUNCE, more general) than the corpus, with the outcome it
 * gives instead and why (docs/http-parsing.md). Each is asserted exactly, so a new difference fails the suite.
 */
const DEVIATIONS: Record<string, { verdict: Verdict; status?: number; why: string }> = {
  'llhttp/010-sample-no-http-version': { verdict: 'reject', status: 400, why: 'HTTP/0.9 (no version) is not served' },
  'llhttp/062-transfer-encoding-post-with-chunked-as-last-transfer-encoding+host': { verdict: 'reject', status: 501, why: 'only chunked, alone, is accepted as a transfer coding' },
  'llhttp/063-transfer-encoding-post-with-chunked-as-last-transfer-encoding-mult+host': { verdict: 'reject', status: 400, why: 'first TE line "deflate" is not chunked' },
  'llhttp/073-invalid-http-protocol-and-announce-method': { verdict: 'accept', why: 'methods are an open set of tokens (RFC 9110 9.1); a proxy forwards ANNOUNCE' },
  'llhttp/095-method-m-search-request': { verdict: 'reject', status: 400, why: 'asterisk-form is for OPTIONS only (RFC 9112 3.2.4)' },
  'llhttp/102-method-source-request-with-ice': { verdict: 'reject', status: 400, why: 'ICE/1.0 is not HTTP' },
  'llhttp/103-method-options-request-with-rtsp': { verdict: 'reject', status: 400, why: 'RTSP/1.0 is not HTTP' },
  'llhttp/104-method-announce-request-with-rtsp': { verdict: 'reject', status: 400, why: 'RTSP/1.0 is not HTTP' },
  'llhttp/116-uri-host-port-and-basic-auth+host': { verdict: 'reject', status: 400, why: 'userinfo in the target is an error (RFC 9110 4.2.4)' },
};

/** Statuses where a note names them; other refusals may use any of yoke's codes. */
const STATUS: Record<string, readonly number[]> = {
  'classic/22-header-too-large': [431],
  'http-garden/s44-all-unknown-transfer-codings-are-treated': [400, 501],
  'http-garden/s05-http-versions-are-interpreted-as-their-l': [400, 505],
  'http-garden/s24-8-bit-integer-overflow-in-http-version-n': [400, 505],
  'http-garden/h201-whitespace-characters-are-not-stripped-f': [400, 505],
  'te-permutations/30-lazygrep': [400, 501],
};

/** The framing the notes state for accepted vectors: bodies in order, plus what else the note pins. */
const FRAMING: Record<string, (o: DriveOutcome) => void> = {
  'te-permutations/02-underjoin1': (o) => bodies(o, ['0\r\n\r\nX']),
  'te-permutations/26-contentenc': (o) => bodies(o, ['0\r\n\r\nX']),
  'te-permutations/35-encode': (o) => bodies(o, ['0\r\n\r\nX']),
  'http-garden/t21-message-bodies-are-stripped-from-get-req+host': (o) => bodies(o, ['1234567890']),
  'http-garden/s48-pipelined-requests-in-the-initial-reques': (o) => bodies(o, ['', 'GET / HTTP/1.1\r\nHost: a\r\nid: 2\r\n\r\n']),
  'http-garden/b04-incoming-chunked-request-bodies-are-echo': (o) => bodies(o, ['Z']),
  'http-garden/s39-chunked-message-bodies-are-terminated-on+host': (o) => bodies(o, ['']),
  'http-garden/s41-xa0-and-x85-are-stripped-from-the-beginn': (o) => {
    const h = o.requests[0]!.head;
    assert.deepEqual(Buffer.from(h.get('user') ?? '', 'latin1'), Buffer.from([0x85, ...Buffer.from('admin'), 0xa0]));
  },
  'classic/03-pipeline-3-gets': (o) => assert.deepEqual(o.requests.map((r) => r.head.target), ['/a', '/b', '/c']),
  'classic/04-chunked-with-ext-and-trailer': (o) => bodies(o, ['hello world']),
  'classic/10-absolute-form': (o) => assert.equal(o.requests[0]!.head.authority, 'yoke.test'),
  'classic/09-http10-no-host': (o) => assert.equal(o.requests[0]!.framing.keepAlive, false),
  'classic/23-expect-100': (o) => { bodies(o, ['hello']); assert.equal(o.requests[0]!.framing.expectContinue, true); },
  'llhttp/118-pipelining-should-parse-multiple-events+host': (o) => { bodies(o, ['AAA', 'BBBB']); assert.equal(o.end, 'need-more'); },
  'llhttp/047-transfer-encoding-parse-chunks-with-lowercase-size+host': (o) => bodies(o, ['0123456789']),
  'llhttp/050-transfer-encoding-two-chunks-and-triple-zero-prefixed-end-chunk+host': (o) => bodies(o, ['hello world']),
  'llhttp/032-content-length-content-length-with-zeroes+host': (o) => bodies(o, ['abc']),
  'llhttp/038-content-length-funky-content-length-with-body': (o) => bodies(o, ['HELLO']),
  'llhttp/031-connection-upgrade-post-request': (o) => { bodies(o, ['sweet post body']); assert.equal(o.end, 'upgrade'); },
  'llhttp/030-connection-upgrade-get-request': (o) => { assert.equal(o.requests[0]!.framing.upgrade, 'WebSocket'); assert.equal(o.end, 'upgrade'); },
};

function bodies(o: DriveOutcome, want: readonly string[]): void {
  assert.deepEqual(o.requests.map((r) => r.body.toString('latin1')), want);
}

/** Whether yoke's verdict satisfies the expectation; a refusal before the head satisfies reject-body (stricter). */
function satisfies(expect: string, verdict: Verdict, n: number): boolean {
  if (expect.startsWith('accept ')) return verdict === 'accept' && n === Number(expect.slice(7));
  switch (expect) {
    case 'reject-body': return verdict === 'reject' || verdict === 'reject-body';
    case 'accept-or-reject': return verdict === 'accept' || verdict === 'reject';
    // yoke never normalizes (obs-fold, bare LF, whitespace lines, CL lists), so these must be refused.
    case 'normalize-or-reject': return verdict === 'reject';
    default: return verdict === expect;
  }
}

describe('HTTP request corpus', () => {
  it('test/fixtures/http-vectors is a byte-for-byte copy of the shared corpus (when present)', (t) => {
    if (HTTP_VECTORS_DIR !== SHARED_HTTP_VECTORS) return t.skip('no ../shared beside the repository');
    const walk = (dir: string, rel = ''): string[] => readdirSync(join(dir, rel)).flatMap((n) =>
      statSync(join(dir, rel, n)).isDirectory() ? walk(dir, join(rel, n)) : [join(rel, n)]).sort();
    const files = walk(SHARED_HTTP_VECTORS);
    assert.deepEqual(walk(COPIED_HTTP_VECTORS), files);
    for (const f of files) assert.ok(readFileSync(join(SHARED_HTTP_VECTORS, f)).equals(readFileSync(join(COPIED_HTTP_VECTORS, f))), f);
  });

  it('every vector ends as its expectation says (or as its recorded deviation)', (t) => {
    const table = new Map<string, Record<string, number>>();
    const failures: string[] = [];
    for (const v of vectors) {
      const o = drive(bytesOf(v));
      const verdict = verdictOf(o);
      const row = table.get(v.group) ?? {};
      table.set(v.group, row);
      const dev = DEVIATIONS[key(v)];
      let ok: boolean;
      if (dev) {
        ok = dev.verdict === verdict && (dev.status === undefined || dev.status === o.error?.status);
        row['deviation'] = (row['deviation'] ?? 0) + 1;
      } else {
        ok = satisfies(v.expect, verdict, o.requests.length);
        const allowed = STATUS[key(v)];
        if (ok && allowed && o.error) ok = allowed.includes(o.error.status);
        if (ok && verdict === 'accept') {
          try { FRAMING[key(v)]?.(o); } catch (e) { ok = false; failures.push(`${key(v)}: framing ${(e as Error).message}`); }
        }
        row['as expected'] = (row['as expected'] ?? 0) + (ok ? 1 : 0);
      }
      row[`yoke ${verdict}`] = (row[`yoke ${verdict}`] ?? 0) + 1;
      if (!ok) failures.push(`${key(v)}: expected ${v.expect}, got ${verdict} (${o.requests.length} requests${o.error ? `, ${o.error.status} ${o.error.reason}` : ''})`);
    }
    const cols = ['as expected', 'deviation', 'yoke accept', 'yoke reject', 'yoke reject-body', 'yoke first-then-reject', 'yoke incomplete'];
    t.diagnostic(`| group | ${cols.join(' | ')} | total |`);
    for (const [group, row] of table) {
      const total = vectors.filter((v) => v.group === group).length;
      t.diagnostic(`| ${group} | ${cols.map((c) => row[c] ?? 0).join(' | ')} | ${total} |`);
    }
    for (const [k, d] of Object.entries(DEVIATIONS)) t.diagnostic(`deviation ${k}: ${d.verdict}${d.status ? ` ${d.status}` : ''} — ${d.why}`);
    assert.deepEqual(failures, []);
    assert.equal(Object.keys(DEVIATIONS).filter((k) => !vectors.some((v) => key(v) === k)).length, 0, 'a deviation names a vector that is gone');
  });

  it('every vector split at every offset into two reads ends the same way', () => {
    for (const v of vectors) {
      const bytes = bytesOf(v);
      const whole = drive(bytes);
      // The 20 kB vector is checked at every 97th offset to keep the suite quick; all others at every offset.
      const step = bytes.length > 4096 ? 97 : 1;
      for (let s = 1; s < bytes.length; s += step) {
        const split = drive(bytes, [s]);
        assert.equal(verdictOf(split), verdictOf(whole), `${key(v)} split at ${s}`);
        assert.equal(split.requests.length, whole.requests.length, `${key(v)} split at ${s}`);
        assert.equal(split.end, whole.end, `${key(v)} split at ${s}`);
        assert.equal(split.error?.status, whole.error?.status, `${key(v)} split at ${s}`);
        assert.equal(split.error?.reason, whole.error?.reason, `${key(v)} split at ${s}`);
        assert.deepEqual(split.requests.map((r) => r.body), whole.requests.map((r) => r.body), `${key(v)} split at ${s}`);
      }
    }
  });

  it('every vector fed one byte at a time ends the same way', () => {
    for (const v of vectors) {
      const bytes = bytesOf(v);
      if (bytes.length > 4096) continue;
      const whole = drive(bytes);
      const one = drive(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1));
      assert.equal(verdictOf(one), verdictOf(whole), key(v));
      assert.equal(one.error?.reason, whole.error?.reason, key(v));
    }
  });
});
