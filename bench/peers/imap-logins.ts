// IMAP login load for the `mail` scenario: CONC loops, each doing one login after another: connect, read the
// greeting, `a1 LOGIN userN password`, the tagged OK (from the backend, through yoke or directly), `a2 LOGOUT`, its
// tagged OK, and the server's close. Users are userFROM … userFROM+COUNT-1 in turn (one counter shared by the loops);
// user N lives on mail((N mod 2)+1), and with several ports user N goes to PORTS[N mod ports] (direct to its home).
// Records in HDR histograms the login time (connect to the LOGIN's tagged OK) and the session time (to the close).
// Run: node bench/peers/imap-logins.ts PORT[,PORT…] SECONDS CONC FROM COUNT
// Prints one JSON line: {"logins","errors","wrong","seconds","login_p50_us",…,"session_p50_us",…,"first_error"}.
import net from 'node:net';
import * as hdr from 'hdr-histogram-js';

const [portsArg, secondsArg, concArg, fromArg, countArg] = process.argv.slice(2);
const ports = (portsArg ?? '').split(',').map(Number);
const seconds = Number(secondsArg);
const conc = Number(concArg);
const from = Number(fromArg);
const count = Number(countArg);
if (ports.some((p) => !(p > 0)) || !(seconds > 0) || !(conc > 0) || !(from >= 0) || !(count > 0)) {
  throw new Error('usage: imap-logins.ts PORT[,PORT…] SECONDS CONC FROM COUNT');
}

const opts = { lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 } as const;
const loginHist = hdr.build(opts);
const sessionHist = hdr.build(opts);
let logins = 0;
let errors = 0;
/** Logins answered by a server other than the user's home (the directory's mailHost). */
let wrong = 0;
let firstError = '';
let next = 0;
const start = process.hrtime.bigint();
const deadline = start + BigInt(Math.round(seconds * 1e9));
const us = (t0: bigint): number => Math.max(1, Number(process.hrtime.bigint() - t0) / 1000);

function once(): Promise<void> {
  const n = from + (next++ % count);
  const user = `user${n}`;
  const home = `mail${(n % 2) + 1}.example.org`;
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let stage: 'greeting' | 'login' | 'logout' | 'closing' = 'greeting';
    let buf = '';
    let done = false;
    const s = net.connect({ port: ports[n % ports.length]!, host: '127.0.0.1' });
    s.setNoDelay(true);
    const finish = (err?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      if (err !== undefined) { errors++; if (firstError === '') firstError = err; } else { logins++; sessionHist.recordValue(us(t0)); }
      resolve();
    };
    const timer = setTimeout(() => finish(`timeout in ${stage}`), 10_000);
    s.on('error', (e) => finish(`${stage}: ${e.message}`));
    // The server closes after LOGOUT's answer: the client only follows, so TIME_WAIT stays on the servers' side.
    s.on('end', () => finish(stage === 'closing' ? undefined : `closed in ${stage}: ${buf.trim()}`));
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let nl = buf.indexOf('\r\n'); nl >= 0; nl = buf.indexOf('\r\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (stage === 'greeting') {
          if (!line.startsWith('* OK')) { finish(`greeting: ${line}`); return; }
          stage = 'login';
          s.write(`a1 LOGIN ${user} bench-password\r\n`);
        } else if (stage === 'login' && line.startsWith('a1 ')) {
          if (!line.startsWith('a1 OK')) { finish(`login: ${line}`); return; }
          loginHist.recordValue(us(t0));
          if (!line.endsWith(` ${home}`)) wrong++;
          stage = 'logout';
          s.write('a2 LOGOUT\r\n');
        } else if (stage === 'logout' && line.startsWith('a2 ')) {
          if (!line.startsWith('a2 OK')) { finish(`logout: ${line}`); return; }
          stage = 'closing';
        }
      }
    });
  });
}

async function loop(): Promise<void> {
  while (process.hrtime.bigint() < deadline) await once();
}

await Promise.all(Array.from({ length: conc }, loop));
const pct = (h: hdr.Histogram, name: string) => ({
  [`${name}_p50_us`]: h.getValueAtPercentile(50), [`${name}_p99_us`]: h.getValueAtPercentile(99), [`${name}_p999_us`]: h.getValueAtPercentile(99.9),
});
process.stdout.write(JSON.stringify({
  logins, errors, wrong, seconds: Number(process.hrtime.bigint() - start) / 1e9,
  ...pct(loginHist, 'login'), ...pct(sessionHist, 'session'), first_error: firstError,
}) + '\n');
