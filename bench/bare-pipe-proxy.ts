// The floor yoke is held to: a bare Node TCP proxy, socket.pipe both ways, nothing else.
// Run: node bench/bare-pipe-proxy.ts LISTEN_PORT TARGET_PORT   (both on 127.0.0.1)
import net from 'node:net';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
if (!listenPort || !targetPort) throw new Error('usage: bare-pipe-proxy.ts LISTEN_PORT TARGET_PORT');

net.createServer((client) => {
  const server = net.connect(targetPort, '127.0.0.1');
  client.pipe(server);
  server.pipe(client);
  client.on('error', () => server.destroy());
  server.on('error', () => client.destroy());
  client.on('close', () => server.destroy());
  server.on('close', () => client.destroy());
}).listen({ port: listenPort, host: '127.0.0.1', backlog: 4096 });
