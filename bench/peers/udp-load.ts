// UDP load generator: SOCKETS client sockets each keep WINDOW datagrams in flight to 127.0.0.1:PORT for SECONDS,
// sending a new one for each reply; records every round trip's latency in an HDR histogram.
// A socket that hears nothing for 200 ms counts its window as lost and sends a fresh one (the relay may drop).
// Run: node bench/peers/udp-load.ts PORT SECONDS [SOCKETS=4] [WINDOW=32] [SIZE=64]
// Prints one JSON line: {"received","lost","seconds","p50_us","p99_us","p999_us"}.
import dgram from 'node:dgram';
import * as hdr from 'hdr-histogram-js';

const [port = 0, seconds = 0, nSockets = 4, windowSize = 32, size = 64] = process.argv.slice(2).map(Number);
if (!port || !seconds || size < 8) throw new Error('usage: udp-load.ts PORT SECONDS [SOCKETS] [WINDOW] [SIZE>=8]');

const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
const STALL_MS = 200;

interface Client { readonly sock: dgram.Socket; outstanding: number; lastHeard: number }
let running = true;
let received = 0;
let lost = 0;
const origin = process.hrtime.bigint();
const nowUs = (): number => Number(process.hrtime.bigint() - origin) / 1000;

function send(c: Client): void {
  const buf = Buffer.allocUnsafe(size);
  buf.fill(0x61, 8);
  buf.writeDoubleLE(nowUs(), 0);
  c.outstanding++;
  c.sock.send(buf);
}

function fill(c: Client): void {
  while (running && c.outstanding < windowSize) send(c);
}

const clients: Client[] = [];
await Promise.all(Array.from({ length: nSockets }, () => new Promise<void>((resolve) => {
  const c: Client = { sock: dgram.createSocket('udp4'), outstanding: 0, lastHeard: Date.now() };
  c.sock.on('message', (msg) => {
    if (!running) return;
    received++;
    c.outstanding = Math.max(0, c.outstanding - 1);
    c.lastHeard = Date.now();
    hist.recordValue(Math.max(1, Math.round(nowUs() - msg.readDoubleLE(0))));
    fill(c);
  });
  c.sock.on('error', () => {});
  c.sock.connect(port, '127.0.0.1', () => resolve());
  clients.push(c);
})));

const start = nowUs();
for (const c of clients) { c.lastHeard = Date.now(); fill(c); }
const watchdog = setInterval(() => {
  const now = Date.now();
  for (const c of clients) {
    if (now - c.lastHeard < STALL_MS) continue;
    lost += c.outstanding;
    c.outstanding = 0;
    c.lastHeard = now;
    fill(c);
  }
}, 50);

setTimeout(() => {
  running = false;
  const elapsed = (nowUs() - start) / 1e6;
  clearInterval(watchdog);
  process.stdout.write(JSON.stringify({
    received, lost, seconds: elapsed,
    p50_us: hist.getValueAtPercentile(50), p99_us: hist.getValueAtPercentile(99), p999_us: hist.getValueAtPercentile(99.9),
  }) + '\n');
  for (const c of clients) c.sock.close();
}, seconds * 1000);
