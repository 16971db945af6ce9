// Small mail servers for the mail farm tests: each speaks just enough IMAP, POP3 or SMTP to take a login (LOGIN,
// AUTHENTICATE PLAIN/LOGIN, USER/PASS, AUTH PLAIN/LOGIN) or a delivery (MAIL, RCPT, DATA), and records who logged
// in (or which recipient was given, and which message for which recipients) on which server. Any password is
// accepted (but IMAP LOGIN refuses the password `wrong`, to see a failed login passed back): yoke's routing is what
// is tested. The SMTP server keeps several transactions per connection (MAIL after a message, RSET) as RFC 5321 does.
// With `starttls` a server offers (or hides, or refuses) STARTTLS/STLS, may require it before any login or mail
// (Dovecot's `ssl = required`, Postfix's `smtpd_tls_auth_only`), and records every line it read in clear.
import net from 'node:net';
import tls from 'node:tls';

export type Proto = 'imap' | 'pop3' | 'smtp';

/** One thing a fake server saw: a login (user), an SMTP recipient (rcpt) or message (data). */
export interface Seen {
  readonly server: string;
  readonly proto: Proto;
  readonly kind: 'login' | 'rcpt' | 'data' | 'quit';
  /** the login, the recipient, or for data the transaction's recipients joined by `,` */
  readonly user: string;
  /** data: the message content as received (still dot-stuffed, with its last CRLF, without the `.` line; latin1) */
  readonly body?: string;
  /** which connection of the server it came in on (1, 2, …) */
  readonly session?: number;
}

/** STARTTLS on a fake server: the certificate, what it does when asked, and whether logins need it first. */
export interface FakeStartTls {
  readonly identity: { readonly cert: string; readonly key: string };
  /** accept (offered, taken), refuse (offered, answered NO / -ERR / 454), hide (not offered; refused if asked) */
  readonly behaviour: 'accept' | 'refuse' | 'hide';
  /** logins (and SMTP MAIL) before TLS are refused */
  readonly required: boolean;
}

export interface FakeMail {
  readonly name: string;
  readonly proto: Proto;
  readonly port: number;
  /** Every command line the server read before TLS (in clear), in order, over all sessions. */
  readonly clear: string[];
  /** Sessions open now. */
  readonly sockets: Set<net.Socket>;
  close(): Promise<void>;
  /** Destroys every open session (a backend killed mid-session). */
  kill(): void;
}

function b64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

/** The user of a SASL PLAIN response (authzid NUL user NUL password). */
function plainUser(ir: string): string {
  return b64(ir).split('\u0000')[1] ?? '';
}

/** An IMAP astring: quoted (with \\ and \" escapes) or an atom. */
function astring(text: string): string {
  if (!text.startsWith('"')) return text.split(' ')[0] ?? '';
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') { out += text[++i]; continue; }
    if (c === '"') break;
    out += c;
  }
  return out;
}

/**
 * Starts a fake `proto` server called `name` on 127.0.0.1 (port 0 unless given); `seen` collects what it saw. With
 * `identity` it speaks TLS from the first byte (993, 995, 465).
 */
export function fakeMail(name: string, proto: Proto, seen: Seen[], port = 0, identity?: { cert: string; key: string }, starttls?: FakeStartTls): Promise<FakeMail> {
  const sockets = new Set<net.Socket>();
  const clear: string[] = [];
  let sessions = 0;
  const session = (sock: net.Socket): void => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    const id = ++sessions;
    const note = (kind: Seen['kind'], user: string, body?: string) => seen.push({ server: name, proto, kind, user, session: id, ...(body === undefined ? {} : { body }) });
    /** the socket spoken on: the accepted one, or the TLS socket over it after STARTTLS */
    let io: net.Socket = sock;
    let secure = identity !== undefined;
    const say = (text: string) => { if (!io.destroyed) io.write(text); };
    const offered = () => starttls !== undefined && starttls.behaviour !== 'hide' && !secure;
    const loginOk = () => secure || starttls?.required !== true;
    /** STARTTLS was answered go-ahead: anything read in clear after it is dropped, the handshake runs on this socket */
    const upgrade = (tlsId: { cert: string; key: string }) => {
      sock.off('data', onData);
      buf = '';
      const t = new tls.TLSSocket(sock, { isServer: true, secureContext: tls.createSecureContext(tlsId) });
      t.on('error', () => {});
      t.on('data', onData);
      io = t;
      secure = true;
    };
    /** the answer to STARTTLS/STLS: go-ahead then the upgrade, or the protocol's refusal */
    const startTls = (go: string, refused: string, hidden: string): void => {
      if (starttls === undefined || starttls.behaviour === 'hide' || secure) { say(hidden); return; }
      if (starttls.behaviour === 'refuse') { say(refused); return; }
      say(go);
      upgrade(starttls.identity);
    };
    let buf = '';
    let pending: ((line: string) => void) | undefined;
    let inData = false;
    /** the recipients of the SMTP transaction open now */
    let rcpts: string[] = [];
    const onLine = proto === 'imap' ? imap : proto === 'pop3' ? pop3 : smtp;
    // with STARTTLS the IMAP greeting carries no capabilities, so a client has to ask CAPABILITY
    say(proto === 'imap' ? (starttls === undefined ? `* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ${name} ready\r\n` : `* OK ${name} ready\r\n`) : proto === 'pop3' ? `+OK ${name} ready\r\n` : `220 ${name} ESMTP fake\r\n`);
    sock.on('data', onData);
    function onData(d: Buffer): void {
      buf += d.toString('latin1');
      for (;;) {
        if (inData) {
          // The content starts at a line start: a `.` line first is the empty message.
          const end = `\r\n${buf}`.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const body = buf.slice(0, end);
          buf = buf.slice(end + 3);
          inData = false;
          note('data', rcpts.join(','), body);
          rcpts = [];
          say(`250 2.0.0 queued on ${name}\r\n`);
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (!secure) clear.push(line);
        const p = pending;
        pending = undefined;
        if (p !== undefined) p(line);
        else onLine(line);
      }
    }

    function imap(line: string): void {
      const [tag = '*', cmd = '', ...rest] = line.split(' ');
      const args = rest.join(' ');
      const up = cmd.toUpperCase();
      if ((up === 'LOGIN' || up === 'AUTHENTICATE') && !loginOk()) { say(`${tag} NO [PRIVACYREQUIRED] Plaintext authentication disallowed on ${name}\r\n`); return; }
      if (starttls !== undefined && up === 'CAPABILITY') {
        say(`* CAPABILITY IMAP4rev1 ${offered() ? 'STARTTLS ' : ''}${loginOk() ? 'AUTH=PLAIN' : 'LOGINDISABLED'}\r\n${tag} OK CAPABILITY completed\r\n`);
        return;
      }
      if (starttls !== undefined && up === 'STARTTLS') {
        startTls(`${tag} OK Begin TLS negotiation now\r\n`, `${tag} NO [UNAVAILABLE] TLS not available\r\n`, `${tag} BAD Unknown command\r\n`);
        return;
      }
      switch (up) {
        case 'LOGIN':
          if (/ "?wrong"?$/.test(args)) { say(`${tag} NO [AUTHENTICATIONFAILED] Wrong password on ${name}\r\n`); return; }
          note('login', astring(args));
          say(`${tag} OK LOGIN completed on ${name}\r\n`);
          return;
        case 'AUTHENTICATE':
          if (rest[0]?.toUpperCase() === 'PLAIN') {
            say('+ \r\n');
            pending = (l) => { note('login', plainUser(l)); say(`${tag} OK AUTHENTICATE completed on ${name}\r\n`); };
          } else {
            say('+ VXNlcm5hbWU6\r\n');
            pending = (u) => { say('+ UGFzc3dvcmQ6\r\n'); pending = () => { note('login', b64(u)); say(`${tag} OK AUTHENTICATE completed on ${name}\r\n`); }; };
          }
          return;
        case 'LIST': say(`* LIST () "/" ${name}\r\n${tag} OK LIST completed\r\n`); return;
        case 'LOGOUT': say(`* BYE ${name} logging out\r\n${tag} OK LOGOUT completed\r\n`); io.end(); return;
        default: say(`${tag} OK ${cmd} completed on ${name}\r\n`);
      }
    }

    function pop3(line: string): void {
      const [cmd = '', ...rest] = line.split(' ');
      const up = cmd.toUpperCase();
      if ((up === 'USER' || up === 'PASS' || up === 'AUTH') && !loginOk()) { say('-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n'); return; }
      switch (up) {
        case 'STLS': startTls('+OK Begin TLS negotiation now.\r\n', '-ERR TLS not available\r\n', '-ERR Unknown command.\r\n'); return;
        case 'USER': { const user = line.slice(5); say('+OK\r\n'); pending = () => { note('login', user); say(`+OK logged in on ${name}\r\n`); }; return; }
        case 'AUTH':
          if (rest[1] !== undefined) { note('login', plainUser(rest[1])); say(`+OK logged in on ${name}\r\n`); return; }
          say('+ \r\n');
          pending = (l) => { note('login', plainUser(l)); say(`+OK logged in on ${name}\r\n`); };
          return;
        case 'STAT': say('+OK 1 100\r\n'); return;
        case 'LIST': say(`+OK 1 message\r\n1 ${name.length}\r\n.\r\n`); return;
        case 'UIDL': say(`+OK\r\n1 ${name}\r\n.\r\n`); return;
        case 'QUIT': say(`+OK ${name} bye\r\n`); io.end(); return;
        default: say('+OK\r\n');
      }
    }

    function smtp(line: string): void {
      const [cmd = '', ...rest] = line.split(' ');
      const up = cmd.toUpperCase();
      if (up === 'EHLO') { say(`250-${name}\r\n250-PIPELINING\r\n${offered() ? '250-STARTTLS\r\n' : ''}${loginOk() ? '250-AUTH PLAIN LOGIN\r\n' : ''}250 8BITMIME\r\n`); return; }
      if (up === 'STARTTLS') {
        rcpts = [];
        startTls('220 2.0.0 Ready to start TLS\r\n', '454 4.7.0 TLS not available due to local problem\r\n', '502 5.5.1 Error: command not implemented\r\n');
        return;
      }
      if ((up === 'AUTH' || line.toUpperCase().startsWith('MAIL FROM:')) && !loginOk()) { say('530 5.7.0 Must issue a STARTTLS command first\r\n'); return; }
      if (up === 'HELO') { say(`250 ${name}\r\n`); return; }
      if (up === 'AUTH') {
        if (rest[0]?.toUpperCase() === 'PLAIN') {
          if (rest[1] !== undefined) { note('login', plainUser(rest[1])); say(`235 2.7.0 Authenticated on ${name}\r\n`); return; }
          say('334 \r\n');
          pending = (l) => { note('login', plainUser(l)); say(`235 2.7.0 Authenticated on ${name}\r\n`); };
          return;
        }
        say('334 VXNlcm5hbWU6\r\n');
        pending = (u) => { say('334 UGFzc3dvcmQ6\r\n'); pending = () => { note('login', b64(u)); say(`235 2.7.0 Authenticated on ${name}\r\n`); }; };
        return;
      }
      if (line.toUpperCase().startsWith('MAIL FROM:')) { rcpts = []; say('250 2.1.0 Ok\r\n'); return; }
      if (line.toUpperCase().startsWith('RCPT TO:')) {
        const rcpt = line.slice(8).replace(/^ *</, '').replace(/>.*$/, '');
        rcpts.push(rcpt);
        note('rcpt', rcpt);
        say(`250 2.1.5 Ok on ${name}\r\n`);
        return;
      }
      if (up === 'DATA') {
        if (rcpts.length === 0) { say('554 5.5.1 No valid recipients\r\n'); return; }
        // a recipient whose local part starts with `nodata` has the message refused, to see a 5xx passed back
        if (rcpts.some((r) => r.startsWith('nodata'))) { rcpts = []; say(`554 5.7.1 No message for nodata on ${name}\r\n`); return; }
        inData = true;
        say('354 End data with <CR><LF>.<CR><LF>\r\n');
        return;
      }
      if (up === 'RSET') { rcpts = []; say('250 2.0.0 Ok\r\n'); return; }
      if (up === 'QUIT') { note('quit', ''); say(`221 2.0.0 ${name} bye\r\n`); io.end(); return; }
      say('250 2.0.0 Ok\r\n');
    }
  };
  const server = identity === undefined ? net.createServer(session) : tls.createServer({ ...identity }, session);
  server.on('tlsClientError', () => {});
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
    resolve({
      name, proto, sockets,
      port: (server.address() as net.AddressInfo).port,
      clear,
      close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
      kill: () => { for (const s of sockets) s.destroy(); },
    });
  }));
}
