// Clients for the mail farm tests: curl for imap://, pop3:// and smtp://, openssl s_client for implicit TLS, and a
// raw line client that waits for what it expects.
import { spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';

/** Runs curl with a 10 s limit: its exit code, stdout and stderr. */
export function curl(args: string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '--max-time', '10', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(input ?? '');
  });
}

/** openssl s_client to 127.0.0.1:port: writes `input` once connected (end lines in LF: -crlf sends CRLF), resolves with what it printed. */
export function sClient(port: number, caPath: string, input: string, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', caPath, '-verify_return_error', '-quiet', '-crlf'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { out += d; });
    setTimeout(() => child.stdin.write(input), 500);
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

/** A raw line client: send text, wait for a pattern in what the server sent since the last match. */
export class LineClient {
  socket: net.Socket;
  #buf = '';
  #waiters: (() => void)[] = [];
  closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((r) => socket.on('close', () => { r(); this.#wake(); }));
    this.#attach(socket);
  }

  #attach(s: net.Socket): void {
    s.on('data', (d: Buffer) => { this.#buf += d.toString('latin1'); this.#wake(); });
    s.on('error', () => {});
  }

  #wake(): void { for (const w of this.#waiters.splice(0)) w(); }

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new LineClient(s)));
      s.once('error', reject);
    });
  }

  /** Upgrades to TLS (after STARTTLS's answer was read). */
  async startTls(caPath: string, ca: string): Promise<void> {
    void caPath;
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, ca, servername: 'check.example' });
    await new Promise<void>((resolve, reject) => { secure.once('secureConnect', () => resolve()); secure.once('error', reject); });
    this.socket = secure;
    this.#attach(secure);
  }

  send(text: string): void { this.socket.write(text); }

  /** Resolves with everything received up to and including the first match of `re`; rejects after `ms`. */
  async expect(re: RegExp, ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.#buf);
      if (m !== null) {
        const upTo = this.#buf.slice(0, m.index + m[0].length);
        this.#buf = this.#buf.slice(m.index + m[0].length);
        return upTo;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.destroyed) throw new Error(`expected ${re} but got ${JSON.stringify(this.#buf)}${this.socket.destroyed ? ' (closed)' : ''}`);
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.#waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  /** What arrived and was not matched yet. */
  rest(): string { return this.#buf; }

  end(): void { this.socket.destroy(); }
}
