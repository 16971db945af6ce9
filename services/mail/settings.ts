/** A mail service's own settings beside its ServiceSpec (mode imap, pop3 or smtp), as the config layer hands them over. */
export interface MailSpec {
  /**
   * TLS toward clients: off; starttls (offered, logins in clear allowed); required (offered, and no login or SMTP
   * mail before it); implicit (TLS from the first byte: 993, 995, 465). Every mode but off needs the service's tls.
   */
  readonly tlsMode: 'off' | 'starttls' | 'required' | 'implicit';
  /** A client must be logged in (its session piped) within this, or it gets the protocol's timeout words. */
  readonly loginTimeoutMs: number;
  /** TLS to the mail servers (from the first byte, or after the protocol's STARTTLS); undefined = plain TCP. */
  readonly backendTls: BackendTls | undefined;
  /** mode smtp: take AUTH (submission), take MAIL without AUTH (delivery), and the name in the greeting. */
  readonly smtp: { readonly auth: boolean; readonly delivery: boolean; readonly hostname: string };
}

/** How yoke speaks TLS to a mail server and checks its certificate. */
export interface BackendTls {
  /**
   * implicit: TLS from the first byte (the servers' 993, 995, 465). starttls: connect in clear (143, 110,
   * 587, 25), read the greeting, upgrade with the protocol's STARTTLS/STLS, and only then log in; a server that does
   * not upgrade is a failed connect, never a login in clear.
   */
  readonly mode: 'implicit' | 'starttls';
  readonly verify: boolean;
  /** PEM of the CA to trust instead of the system's. */
  readonly ca: string | undefined;
  /** The name to send (SNI) and to check the certificate against; undefined = the server's name, else its address host. */
  readonly serverName: string | undefined;
}

/** The modes the mail plane runs. */
export type MailMode = 'imap' | 'pop3' | 'smtp';

/** Whether a service mode is one of the mail modes. */
export function isMailMode(mode: string): mode is MailMode {
  return mode === 'imap' || mode === 'pop3' || mode === 'smtp';
}
