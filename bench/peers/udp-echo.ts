// UDP echo real server for the datagram scenario: sends every datagram back to its sender.
// Run: node bench/peers/udp-echo.ts PORT
import dgram from 'node:dgram';

const port = Number(process.argv[2]);
const sock = dgram.createSocket('udp4');
sock.on('message', (msg, from) => sock.send(msg, from.port, from.address));
sock.bind(port, '127.0.0.1');
