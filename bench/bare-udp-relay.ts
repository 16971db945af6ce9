// The bare Node UDP relay yoke's UDP plane is compared with: one connected upstream socket per client address,
// replies sent back from the listening socket. No idle timeout: the bench has a bounded set of clients.
// Run: node bench/bare-udp-relay.ts LISTEN_PORT TARGET_PORT   (both on 127.0.0.1)
import dgram from 'node:dgram';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
if (!listenPort || !targetPort) throw new Error('usage: bare-udp-relay.ts LISTEN_PORT TARGET_PORT');

interface Session { readonly sock: dgram.Socket; pending: Buffer[] | undefined }
const front = dgram.createSocket('udp4');
const sessions = new Map<string, Session>();

front.on('message', (msg, client) => {
  const key = `${client.address}:${client.port}`;
  let up = sessions.get(key);
  if (up === undefined) {
    const session: Session = { sock: dgram.createSocket('udp4'), pending: [] };
    session.sock.on('message', (reply) => front.send(reply, client.port, client.address));
    session.sock.on('error', () => { sessions.delete(key); session.sock.close(); });
    session.sock.connect(targetPort, '127.0.0.1', () => {
      for (const m of session.pending ?? []) session.sock.send(m);
      session.pending = undefined;
    });
    sessions.set(key, session);
    up = session;
  }
  if (up.pending === undefined) up.sock.send(msg);
  else up.pending.push(msg);
});
front.bind(listenPort, '127.0.0.1');
