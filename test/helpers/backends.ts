// Small fake real servers written for the tests (the issue allows these as backends): each says its name,
// then echoes; on the client's FIN it answers "bye <name>" and closes, which shows half-close works.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { parseEndpoint } from '../../core/address.ts';
import type { ServerSettings } from '../../core/server.ts';
import type { ServiceSpec } from '../../core/spec.ts';

export interface TcpBackend {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Client addresses as the backend saw them, in order. */
  readonly peers: string[];
  /** First bytes of each connection (to see a PROXY header or a replay). */
  readonly firstBytes: Buffer[];
  close(): Promise<void>;
}

/** A TCP real server on 127.0.0.1: greets with `<name>\n` (unless quiet), echoes, says `bye <name>` on FIN. */
export function tcpBackend(name: string, opts: { greet?: boolean; host?: string; port?: number } = {}): Promise<TcpBackend> {
  const greet = opts.greet ?? true;
  const sockets = new Set<net.Socket>();
  const b: TcpBackend = {
    name, port: 0, address: '', accepted: 0, peers: [], firstBytes: [],
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    b.accepted++;
    b.peers.push(`${s.remoteAddress}:${s.remotePort}`);
    let first = true;
    s.on('error', () => {});
    if (greet) s.write(`${name}\n`);
    s.on('data', (d) => { if (first) { b.firstBytes.push(d); first = false; } s.write(d); });
    s.on('end', () => s.end(`bye ${name}\n`));
  });
  return new Promise((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
    const port = (server.address() as net.AddressInfo).port;
    Object.assign(b, { port, address: `${opts.host ?? '127.0.0.1'}:${port}` });
    resolve(b);
  }));
}

export interface HttpBackend {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  /** What GET /healthz answers now: its status, its body, and how long it waits first. */
  health: { status: number; body: string; delayMs: number };
  close(): Promise<void>;
}

/** An HTTP real server: `/healthz` answers as `health` says (the test changes it); any other path answers its name. */
export function httpBackend(name: string): Promise<HttpBackend> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/healthz') { res.end(name); return; }
    const { status, body, delayMs } = b.health;
    const reply = () => { if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end(body); };
    if (delayMs > 0) setTimeout(reply, delayMs); else reply();
  });
  const b: HttpBackend = {
    name, port: 0, address: '', health: { status: 200, body: 'ok\n', delayMs: 0 },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as net.AddressInfo).port;
    Object.assign(b, { port, address: `127.0.0.1:${port}` });
    resolve(b);
  }));
}

export interface UdpBackend {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  received: number;
  close(): Promise<void>;
}

/** A UDP real server: answers each datagram with `<name>:` followed by the datagram. */
export function udpBackend(name: string): Promise<UdpBackend> {
  const sock = dgram.createSocket('udp4');
  const b: UdpBackend = { name, port: 0, address: '', received: 0, close: () => new Promise((r) => sock.close(() => r())) };
  sock.on('message', (msg, rinfo) => {
    b.received++;
    sock.send(Buffer.concat([Buffer.from(`${name}:`), msg]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => {
    const port = sock.address().port;
    Object.assign(b, { port, address: `127.0.0.1:${port}` });
    resolve(b);
  }));
}

/** A port that nothing listens on (bound, read, closed). */
export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export function server(address: string, weight = 1, extra: Partial<ServerSettings> = {}): ServerSettings {
  return { address: parseEndpoint(address), weight, maxConns: 0, minConns: 0, ...extra };
}

/** A service spec with the config's defaults, listening on an ephemeral loopback port. */
export function spec(name: string, servers: ServerSettings[], extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name, listen: { host: '127.0.0.1', port: 0, family: 4 }, mode: 'tcp', scheduler: 'rr', schedulerOptions: {}, persistence: undefined,
    proxyProtocol: 'off', sorryServer: undefined, maxConns: 0, connectTimeoutMs: 2000, retries: 2, servers, ...extra,
  };
}
