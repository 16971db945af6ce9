// Real server for the idle-connection memory scenario: echoes what it receives, then holds the connection open.
// Run: node bench/peers/idle-backend.ts PORT
import net from 'node:net';

const port = Number(process.argv[2]);
net.createServer((s) => {
  s.on('data', (d) => s.write(d));
  s.on('error', () => s.destroy());
}).listen({ port, host: '127.0.0.1', backlog: 4096 });
