// Real TCP/UDP clients for the end-to-end tests.
import dgram from 'node:dgram';
import net from 'node:net';

/** Connects, reads the backend's greeting line and returns it with the open socket. */
export async function connectAndGreet(port: number, localAddress?: string): Promise<{ socket: net.Socket; name: string }> {
  const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}), allowHalfOpen: true });
  const name = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) { socket.off('data', onData); socket.pause(); resolve(buf.slice(0, nl)); }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed before a greeting (got "${buf}")`)));
  });
  return { socket, name };
}

/** Which backend a fresh connection reaches (connects, reads the greeting, closes). */
export async function whoAnswers(port: number, localAddress?: string): Promise<string> {
  const { socket, name } = await connectAndGreet(port, localAddress);
  socket.destroy();
  return name;
}

/** Resolves when the socket closes; with what it received after the call. */
export function drainUntilClose(socket: net.Socket): Promise<{ data: Buffer; error: string | undefined }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message; });
    socket.on('close', () => resolve({ data: Buffer.concat(chunks), error }));
    socket.resume();
  });
}

/** Sends one datagram from `from` (bound socket) and waits for one reply. */
export function udpAsk(sock: dgram.Socket, port: number, text: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { sock.off('message', on); reject(new Error('no UDP reply')); }, timeoutMs);
    const on = (msg: Buffer) => { clearTimeout(t); sock.off('message', on); resolve(msg.toString()); };
    sock.on('message', on);
    sock.send(text, port, '127.0.0.1');
  });
}

export async function udpClient(address = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  return s;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes raw bytes on a fresh connection (then half-closes when `end`) and collects everything, as latin1 text,
 * until the server closes or `ms` passes.
 */
export function rawExchange(port: number, bytes: string | Buffer, ms: number, end: boolean): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(t); resolve(got); });
    const t = setTimeout(() => s.destroy(), ms);
    if (end) s.end(bytes);
    else s.write(bytes);
  });
}
