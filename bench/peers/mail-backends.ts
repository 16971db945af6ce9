// The mail scenario's real servers: test/helpers/mail-backends.ts's small fake IMAP server, one per port, called
// mail1.example.org, mail2.example.org, … in order (the names the bench directory's mailHost values give).
// Run: node bench/peers/mail-backends.ts PORT [PORT…]
import { fakeMail, type Seen } from '../../test/helpers/mail-backends.ts';

const ports = process.argv.slice(2).map(Number);
if (ports.length === 0 || ports.some((p) => !(p > 0))) throw new Error('usage: mail-backends.ts PORT [PORT…]');
// The helper records every login for the tests; the bench makes millions of them and keeps none.
const discard = { push: () => 0 } as unknown as Seen[];
for (const [i, port] of ports.entries()) await fakeMail(`mail${i + 1}.example.org`, 'imap', discard, port);
process.stdout.write(`listening on ${ports.join(' ')}\n`);
