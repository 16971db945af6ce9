import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from './daemon.ts';
import type { Logger } from './log.ts';

/**
 * `yoke demo`: three in-process demo real servers behind a director on loopback, then a short guided tour —
 * round robin, persistence, a drain, a server that dies and returns under health checks — and the commands to try
 * next. With `once` it stops after the tour.
 */
export async function demo(log: Logger, once: boolean, say: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<Daemon> {
  const backends = await Promise.all([1, 2, 3].map((n) => demoServer(n)));
  const [web, sticky, admin] = await Promise.all([freePort(8080), freePort(8081), freePort(9900)]);
  const token = randomBytes(12).toString('hex');
  process.env.YOKE_DEMO_TOKEN = token;
  const yaml = `# yoke demo: written by \`yoke demo\`; edit it and run \`yoke ctl --reload\` to see a reload.
admin:
  listen: 127.0.0.1:${admin}
  token: env:YOKE_DEMO_TOKEN
services:
  - name: web              # plain round robin over three servers, each checked with GET / twice a second
    listen: 127.0.0.1:${web}
    mode: tcp
    scheduler: rr
    servers:
${backends.map((b) => `      - address: 127.0.0.1:${b.port}`).join('\n')}
    health: { type: http, path: /, interval: 500ms, timeout: 300ms, rise: 2, fall: 1, retry_delay: 100ms, passive_fall: 1 }
  - name: web-sticky       # least connections, with persistence per client address for 60 s
    listen: 127.0.0.1:${sticky}
    mode: tcp
    scheduler: wlc
    persistence:
      timeout: 60s
    servers:
${backends.map((b) => `      - address: 127.0.0.1:${b.port}`).join('\n')}
`;
  const dir = mkdtempSync(join(tmpdir(), 'yoke-demo-'));
  const file = join(dir, 'yoke.yaml');
  writeFileSync(file, yaml);
  const daemon = await Daemon.start(file, log);
  daemon.onStop(() => { for (const b of backends) b.server.close(); });

  const ask = async (port: number, n: number) => {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) seen.push((await get(port)).match(/demo-server-(\d)/)?.[0] ?? '?');
    return seen.join(' ');
  };
  say(`\nyoke demo — a director on 127.0.0.1 with three demo real servers (${backends.map((b) => b.port).join(', ')})\nconfig: ${file}\n`);
  say(`1. round robin     GET http://127.0.0.1:${web}/ x6  -> ${await ask(web, 6)}`);
  say(`2. persistence     GET http://127.0.0.1:${sticky}/ x6  -> ${await ask(sticky, 6)}   (one client address, one server)`);
  const held = net.connect(web, '127.0.0.1');
  await new Promise((r) => held.once('connect', r));
  const second = `127.0.0.1:${backends[1]?.port}`;
  daemon.director.drain('web', second);
  say(`3. drain           weight of demo-server-2 set to 0 -> ${await ask(web, 6)}   (new connections avoid it; open ones finish)`);
  held.destroy();
  daemon.director.setWeight('web', second, 1);
  say(`                   weight back to 1            -> ${await ask(web, 6)}`);
  const third = backends[2] as DemoServer;
  const thirdId = `127.0.0.1:${third.port}`;
  await stopServer(third);
  const gone = Date.now();
  const server3 = daemon.director.service('web').server(thirdId);
  await waitFor(() => !server3.alive);
  say(`4. failure         demo-server-3 stopped; out of the pool after ${Date.now() - gone} ms (${server3.report.change?.reason}) -> ${await ask(web, 6)}`);
  await new Promise<void>((r) => third.server.listen(third.port, '127.0.0.1', () => r()));
  const back = Date.now();
  await waitFor(() => server3.alive);
  say(`                   restarted; back after ${Date.now() - back} ms (${server3.report.change?.reason})   -> ${await ask(web, 6)}\n`);
  if (once) return daemon;
  say(`Try it yourself (Ctrl-C stops the demo):
  curl http://127.0.0.1:${web}/                       # or open it in a browser
  export YOKE_ADMIN=127.0.0.1:${admin} YOKE_ADMIN_TOKEN=${token}
  ./yoke ctl -L -n                                    # ipvsadm -L -n
  ./yoke ctl -L -n --stats                            # counters; --rate for rates; --persistent-conns
  ./yoke ctl -L --health                              # each server's last check and why it last changed
  ./yoke ctl --drain -t 127.0.0.1:${web} -r ${second}    # quiesce a server
  ./yoke ctl -e -t 127.0.0.1:${web} -r ${second} -w 3    # give it more weight
  curl -H "authorization: Bearer ${token}" http://127.0.0.1:${admin}/api/v1/services
`);
  return daemon;
}

interface DemoServer { server: http.Server; port: number }

function demoServer(n: number): Promise<DemoServer> {
  const server = http.createServer((req, res) => {
    res.setHeader('connection', 'close');
    res.end(`hello from demo-server-${n} (127.0.0.1:${port()}) — you asked for ${req.url}\n`);
  });
  const port = () => (server.address() as net.AddressInfo).port;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: port() })));
}

function stopServer(d: DemoServer): Promise<void> {
  d.server.closeAllConnections();
  return new Promise((r) => d.server.close(() => r()));
}

/** Polls the model (the demo runs in-process) every 20 ms, for at most 10 s. */
async function waitFor(cond: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

/** The preferred port when it is free, else any free port (the demo must start on a busy machine too). */
function freePort(preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => {
      const any = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (any.address() as net.AddressInfo).port;
        any.close(() => resolve(p));
      });
    });
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(preferred)));
  });
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}
