// Opens COUNT connections to 127.0.0.1:PORT, at most 200 connecting at once; on each sends one line and waits
// for its echo (so the proxy has carried data both ways), then holds them all idle.
// Prints one JSON line {"ok","failed","ms"} when every connection has its echo or failed, then holds until
// SIGTERM or HOLD_SECONDS (default 300), and exits. With HOLD_SECONDS=0 it closes them at once and exits.
// Run: node bench/peers/idle-clients.ts PORT COUNT [HOLD_SECONDS]
import net from 'node:net';

const [port = 0, count = 0, holdSeconds = 300] = process.argv.slice(2).map(Number);
if (!port || !count) throw new Error('usage: idle-clients.ts PORT COUNT [HOLD_SECONDS]');

const CONCURRENCY = 200;
const TIMEOUT_MS = 20_000;
const sockets: net.Socket[] = [];
let ok = 0;
let failed = 0;
const t0 = Date.now();

function one(): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    sockets.push(s);
    const fail = (): void => { clearTimeout(timer); failed++; s.destroy(); resolve(); };
    const timer = setTimeout(fail, TIMEOUT_MS);
    s.once('error', fail);
    s.once('connect', () => s.write('ping\n'));
    s.once('data', () => { clearTimeout(timer); s.removeListener('error', fail); s.on('error', () => {}); ok++; resolve(); });
  });
}

let next = 0;
async function worker(): Promise<void> {
  while (next < count) { next++; await one(); }
}
await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
process.stdout.write(JSON.stringify({ ok, failed, ms: Date.now() - t0 }) + '\n');

const done = (): void => { for (const s of sockets) s.destroy(); process.exit(0); };
process.once('SIGTERM', done);
setTimeout(done, holdSeconds * 1000);
