// Real servers for the health scenario: COUNT HTTP listeners, one port PORT on the loopback addresses 127.0.10.1,
// 127.0.10.2 … (250 per /24, so 1,000 servers fit in 127.0.10–13 without a port range), each answering any request
// with 200 "ok\n" (a tcp check needs only the connect). Controlled over HTTP on 127.0.0.1:CONTROL:
//   GET /down/I   closes listener I and resets its open connections (the server dies)
//   GET /up/I     listens again (the server returns); answered once it listens
//   GET /stats    connections accepted and requests answered so far, all listeners
// Each answer is JSON with `at`, this process's Date.now() at the moment of the change. Prints one JSON line
// {"addresses": [...]} on stdout once every listener listens.
// Run: node bench/peers/health-servers.ts PORT COUNT CONTROL
import http from 'node:http';
import type { Socket } from 'node:net';

const [port, count, control] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const addresses = Array.from({ length: count }, (_, i) => `127.0.${10 + Math.floor(i / 250)}.${1 + (i % 250)}`);
let accepted = 0;
let requests = 0;

interface Listener { readonly server: http.Server; readonly sockets: Set<Socket> }

function listen(host: string): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = http.createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 }).end('ok\n');
  });
  server.on('connection', (s: Socket) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: 1024 }, () => resolve({ server, sockets }));
  });
}

const listeners: (Listener | undefined)[] = await Promise.all(addresses.map(listen));

http.createServer((req, res) => {
  const answer = (code: number, body: object): void => { res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body)); };
  const m = /^\/(down|up)\/(\d+)$/.exec(req.url ?? '');
  if (req.url === '/stats') return answer(200, { accepted, requests, at: Date.now() });
  const i = Number(m?.[2]);
  const host = addresses[i];
  if (m === null || host === undefined) return answer(404, { error: `unknown ${req.url}` });
  const current = listeners[i];
  if (m[1] === 'down') {
    if (current === undefined) return answer(409, { error: `${host} is already down` });
    current.server.close();
    // A dead process's connections are reset by its kernel: RST, not FIN.
    for (const s of current.sockets) s.resetAndDestroy();
    listeners[i] = undefined;
    return answer(200, { at: Date.now() });
  }
  if (current !== undefined) return answer(409, { error: `${host} is already up` });
  listen(host).then((l) => { listeners[i] = l; answer(200, { at: Date.now() }); }, (e: unknown) => answer(500, { error: String(e) }));
}).listen(control, '127.0.0.1', () => process.stdout.write(JSON.stringify({ addresses }) + '\n'));
