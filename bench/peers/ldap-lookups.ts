// Directory lookup load for the `mail` scenario: yoke's own Directory (services/mail/directory.ts) against the real
// slapd, its cache defeated (1 ms, and every lookup a user not asked for within it: userFROM … userFROM+COUNT-1 in
// turn), so each lookup is a search on one of the pool's POOL bound connections. CONC lookups in flight.
// Run: node bench/peers/ldap-lookups.ts URL POOL SECONDS CONC FROM COUNT
// Prints one JSON line: {"lookups","found","wrong","unknown","unavailable","seconds","p50_us","p99_us","p999_us","cpu_s",
// "queries","connects","first_error"}.
import * as hdr from 'hdr-histogram-js';
import { Directory } from '../../services/mail/directory.ts';
import { ADMIN_DN, ADMIN_PASSWORD, PEOPLE } from '../../test/helpers/slapd.ts';

const [url, poolArg, secondsArg, concArg, fromArg, countArg] = process.argv.slice(2);
const pool = Number(poolArg);
const seconds = Number(secondsArg);
const conc = Number(concArg);
const from = Number(fromArg);
const count = Number(countArg);
if (url === undefined || !(pool > 0) || !(seconds > 0) || !(conc > 0) || !(from >= 0) || !(count > 0)) {
  throw new Error('usage: ldap-lookups.ts URL POOL SECONDS CONC FROM COUNT');
}

const dir = new Directory({
  name: 'bench', url, startTls: false, bindDn: ADMIN_DN, password: ADMIN_PASSWORD, base: PEOPLE, filter: '(uid={user})',
  hostAttribute: 'mailHost', cacheMs: 1, negativeCacheMs: 1, timeoutMs: 3000, poolSize: pool, tls: { verify: true },
});
const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
let found = 0;
/** Found, but with another mailHost than the LDIF gave the user. */
let wrong = 0;
let unknown = 0;
let unavailable = 0;
let firstError = '';
let next = 0;
// Open the pool before the clock starts: the bench measures searches, not binds.
await Promise.all(Array.from({ length: pool }, (_, i) => dir.lookup(`user${from + ((count - 1 - i) % count)}`)));
dir.flush();
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
const deadline = start + BigInt(Math.round(seconds * 1e9));

async function loop(): Promise<void> {
  while (process.hrtime.bigint() < deadline) {
    const n = from + (next++ % count);
    const t0 = process.hrtime.bigint();
    const a = await dir.lookup(`user${n}`);
    hist.recordValue(Math.max(1, Number(process.hrtime.bigint() - t0) / 1000));
    if (a.kind === 'found') { if (a.host === `mail${(n % 2) + 1}.example.org`) found++; else wrong++; } else if (a.kind === 'unknown') unknown++;
    else { unavailable++; if (firstError === '') firstError = a.reason; }
  }
}

await Promise.all(Array.from({ length: conc }, loop));
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpu0);
const c = dir.counters();
await dir.close();
process.stdout.write(JSON.stringify({
  lookups: found + wrong + unknown + unavailable, found, wrong, unknown, unavailable, seconds: elapsed,
  p50_us: hist.getValueAtPercentile(50), p99_us: hist.getValueAtPercentile(99), p999_us: hist.getValueAtPercentile(99.9),
  cpu_s: (cpu.user + cpu.system) / 1e6, queries: c.queries, connects: c.connects, first_error: firstError,
}) + '\n');
