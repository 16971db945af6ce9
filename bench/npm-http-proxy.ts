// The `http-proxy` npm package as a candidate of the `http` scenario (issue 4): Node's http server in front,
// http-proxy forwarding each request through a keep-alive agent to one real server. Nothing else.
// Needs the package in bench/.peer-deps (bench/run installs it there: not a dependency of yoke).
// Run: node bench/npm-http-proxy.ts LISTEN_PORT TARGET_PORT   (both on 127.0.0.1)
import http from 'node:http';
import { createRequire } from 'node:module';

interface HttpProxy { web(req: http.IncomingMessage, res: http.ServerResponse, opts: object, cb: (e: Error) => void): void }
const require = createRequire(new URL('./.peer-deps/', import.meta.url));
const { createProxyServer } = require('http-proxy') as { createProxyServer(opts: object): HttpProxy };

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
if (!listenPort || !targetPort) throw new Error('usage: npm-http-proxy.ts LISTEN_PORT TARGET_PORT');

const proxy = createProxyServer({ target: `http://127.0.0.1:${targetPort}`, agent: new http.Agent({ keepAlive: true, maxSockets: 256 }) });
http.createServer((req, res) => {
  proxy.web(req, res, {}, () => { if (!res.headersSent) res.writeHead(502); res.end(); });
}).listen({ port: listenPort, host: '127.0.0.1', backlog: 4096 });
