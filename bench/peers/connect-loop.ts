// Clients for the health scenario: WORKERS loops, each opening a new connection to 127.0.0.1:PORT, sending one
// HTTP/1.1 GET with Connection: close, reading the answer to its end, pausing PAUSE_MS, again, for SECONDS.
// A connection fails when it errors, times out (2 s) or ends without "HTTP/1.1 200". Prints one JSON line per
// failure at once, {"fail": epoch ms, "reason": …}, and the totals {"ok", "failed", "at"} every second and at the end.
// Run: node bench/peers/connect-loop.ts PORT WORKERS SECONDS PAUSE_MS
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const [port, workers, seconds, pauseMs] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
const REQUEST = 'GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n';
const end = Date.now() + seconds * 1000;
let ok = 0;
let failed = 0;

/** One connection: undefined when it worked, else why not. */
function once(): Promise<string | undefined> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(REQUEST));
    s.setTimeout(2000, () => { s.destroy(); resolve('timeout'); });
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.on('close', () => resolve(got.startsWith('HTTP/1.1 200') ? undefined : got === '' ? 'closed without answer' : 'bad answer'));
  });
}

async function worker(): Promise<void> {
  while (Date.now() < end) {
    const problem = await once();
    if (problem === undefined) ok++;
    else { failed++; process.stdout.write(JSON.stringify({ fail: Date.now(), reason: problem }) + '\n'); }
    await sleep(pauseMs);
  }
}

const totals = (): void => { process.stdout.write(JSON.stringify({ ok, failed, at: Date.now() }) + '\n'); };
const ticker = setInterval(totals, 1000);
// Stopped early by the harness (SIGTERM): the totals up to now, not the last second's.
process.once('SIGTERM', () => { totals(); process.exit(0); });
await Promise.all(Array.from({ length: workers }, worker));
clearInterval(ticker);
totals();
