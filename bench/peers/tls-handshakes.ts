// TLS handshake load for the `tlspass` scenario: LOOPS loops, each opening a new TCP connection to 127.0.0.1:PORT,
// doing a full TLS handshake with SNI (no session offered, so never a resumption), closing, again, for SECONDS.
// Records each handshake's time (connect to secureConnect) in an HDR histogram.
// Run: node bench/peers/tls-handshakes.ts PORT SECONDS SNI [LOOPS=8]
// Prints one JSON line: {"handshakes","errors","seconds","p50_us","p99_us","p999_us","protocol"}.
import tls from 'node:tls';
import * as hdr from 'hdr-histogram-js';

const [portArg, secondsArg, sni, loopsArg] = process.argv.slice(2);
const port = Number(portArg);
const seconds = Number(secondsArg);
const loops = Number(loopsArg ?? 8);
if (!port || !seconds || !sni) throw new Error('usage: tls-handshakes.ts PORT SECONDS SNI [LOOPS]');

const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
let handshakes = 0;
let errors = 0;
let protocol = '';
const start = process.hrtime.bigint();
const deadline = start + BigInt(seconds * 1e9);

function once(): Promise<void> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    // The test certificate is self-made: the bench measures handshakes, not trust.
    const s = tls.connect({ port, host: '127.0.0.1', servername: sni, rejectUnauthorized: false, timeout: 5000 }, () => {
      hist.recordValue(Math.max(1, Number(process.hrtime.bigint() - t0) / 1000));
      handshakes++;
      protocol = s.getProtocol() ?? '';
      s.destroy();
      resolve();
    });
    s.on('timeout', () => s.destroy(new Error('timeout')));
    s.on('error', () => { errors++; resolve(); });
  });
}

async function loop(): Promise<void> {
  while (process.hrtime.bigint() < deadline) await once();
}

await Promise.all(Array.from({ length: loops }, loop));
process.stdout.write(JSON.stringify({
  handshakes, errors, seconds: Number(process.hrtime.bigint() - start) / 1e9, protocol,
  p50_us: hist.getValueAtPercentile(50), p99_us: hist.getValueAtPercentile(99), p999_us: hist.getValueAtPercentile(99.9),
}) + '\n');
