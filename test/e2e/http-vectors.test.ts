import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePorts, startYoke, writeConfig, type Running } from '../helpers/daemon.ts';
import { rawExchange } from '../helpers/clients.ts';
import { HTTP_VECTORS_DIR } from '../helpers/shared.ts';
import { Conversation } from '../http/driver.ts';

interface Vector { group: string; id: string; file: string; expect: string }

/** Writes one vector on a fresh connection, half-closes, and waits until yoke closes (or 300 ms for a message left open). */
const send = (port: number, bytes: Buffer) => rawExchange(port, bytes, 300, true);

describe('the HTTP request corpus through a running yoke: a real server sees exactly the requests the strict parser accepts', () => {
  const vectors = readFileSync(join(HTTP_VECTORS_DIR, 'vectors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Vector);
  let run: Running;
  let vip: number;
  // A real server written for the test: counts requests whose head arrived and those whose body arrived whole.
  let started = 0;
  let completed = 0;
  const backend = http.createServer((req, res) => {
    started++;
    req.resume();
    req.on('end', () => { completed++; res.end('ok'); });
  });
  // Node's own parser refuses some requests yoke forwards on purpose (ANNOUNCE, an open-set method): they arrived.
  backend.on('clientError', (_err, socket) => { started++; completed++; socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'); });

  before(async () => {
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    [vip] = (await freePorts(1)) as [number];
    const file = writeConfig(`services:
  - name: web
    listen: 127.0.0.1:${vip}
    mode: http
    servers: [{ address: 127.0.0.1:${(backend.address() as net.AddressInfo).port} }]
`);
    run = await startYoke(file, {}, 'service up');
  });
  after(async () => {
    run.child.kill('SIGKILL');
    await run.exited;
    backend.closeAllConnections();
    backend.close();
  });

  it('every vector: refused ones reach no server, accepted ones arrive as parsed, a broken body never arrives whole', async (t) => {
    const tally = new Map<string, number>();
    let checked = 0;
    for (const v of vectors) {
      const bytes = readFileSync(join(HTTP_VECTORS_DIR, v.file));
      const oracle = new Conversation();
      oracle.feed(bytes);
      const outcome = oracle.outcome();
      if (outcome.end === 'upgrade') continue; // the rest is a tunnel: nothing to count
      const [s0, c0] = [started, completed];
      const answer = await send(vip, bytes);
      await new Promise((r) => setTimeout(r, 5));
      const n = outcome.requests.length;
      const what = `${v.file} (${v.expect}; parser: ${n} request(s), then ${outcome.end}${outcome.phase ? ` in ${outcome.phase}` : ''})`;
      assert.equal(completed - c0, n, `${what}: whole requests at the server`);
      if (outcome.end === 'clean' || outcome.phase === 'head' || outcome.phase === 'after-close') assert.equal(started - s0, n, `${what}: requests begun at the server`);
      else assert.ok(started - s0 <= n + 1, `${what}: at most the broken one begun`);
      if (outcome.end === 'error' && n === 0 && outcome.phase === 'head') assert.match(answer, /^HTTP\/1\.1 (4\d\d|5\d\d) /, `${what}: answered by yoke`);
      const key = `${v.expect.split(' ')[0]} → ${n > 0 ? `${n} forwarded` : 'none forwarded'}${outcome.end === 'clean' ? '' : `, ${outcome.end}`}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      checked++;
    }
    for (const [k, count] of [...tally].sort()) t.diagnostic(`${k}: ${count}`);
    assert.ok(checked > 300, `${checked} vectors checked`);
  });
});
