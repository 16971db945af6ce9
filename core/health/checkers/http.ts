import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { getCACertificates } from 'node:tls';
import { Client } from 'undici';
import { formatEndpoint, type Endpoint } from '../../address.ts';
import type { Checker, CheckResult } from '../checker.ts';
import type { HttpCheckSpec, HttpUrl } from '../spec.ts';
import { describeError, fail, pass, timedOut } from './result.ts';

/** Most body bytes read to compute a digest; a health page larger than this is refused rather than buffered. */
export const MAX_BODY = 1024 * 1024;

/**
 * Keepalived HTTP_GET and SSL_GET: GETs every URL in order from the target address (never a DNS name) and passes
 * when each one's status is in its ranges and, where a digest is given, the MD5 of its body matches. Each check
 * uses a fresh undici Client and `reset` (Connection: close) on each request, so every URL opens its own
 * connection as Keepalived's do: the check exercises the connect (and TLS handshake) path, and no keep-alive socket
 * outlives the check.
 */
export class HttpChecker implements Checker {
  readonly #spec: HttpCheckSpec;

  constructor(spec: HttpCheckSpec) {
    this.#spec = spec;
  }

  async check(target: Endpoint, signal: AbortSignal): Promise<CheckResult> {
    const { urls, timeoutMs } = this.#spec;
    if (urls.length === 0) return fail('no urls to check');
    if (signal.aborted) return timedOut(timeoutMs);
    let client: Client | undefined;
    let url: HttpUrl | undefined;
    try {
      client = new Client(`${this.#spec.type}://${formatEndpoint(target)}`, { connect: await this.#tls(signal) });
      for (url of urls) {
        const problem = await this.#get(client, url, signal);
        if (problem !== undefined) return fail(problem);
      }
      const first = urls[0] as HttpUrl;
      return pass(urls.length === 1 ? `HTTP ok on ${first.path}` : `HTTP ok on ${urls.length} urls`);
    } catch (err) {
      const where = url === undefined ? '' : ` on ${url.path}`;
      if (signal.aborted) return timedOut(timeoutMs, where);
      return fail(`${describeError(err)}${where}`);
    } finally {
      // destroy, not close: a response still streaming (or a connect still pending) after an abort is cut off.
      await client?.destroy().catch(() => {});
    }
  }

  /** TLS settings for https: Keepalived SSL_GET does not verify, so `verify: false` accepts any certificate. */
  async #tls(signal: AbortSignal): Promise<{ rejectUnauthorized: boolean; ca?: Buffer | string[]; servername?: string }> {
    if (this.#spec.type !== 'https') return { rejectUnauthorized: false };
    const { verify, ca, host } = this.#spec;
    // Node refuses an IP address as SNI (RFC 6066), so a Host that is an address sends none.
    const servername = host === undefined || isIP(hostName(host).replace(/^\[|\]$/g, '')) !== 0 ? undefined : hostName(host);
    if (!verify) return { rejectUnauthorized: false, ...(servername !== undefined ? { servername } : {}) };
    // Without `ca`, "system CAs" means the host's store (/etc/ssl/certs), as OpenSSL gives Keepalived and curl, not
    // Node's bundled Mozilla list: an in-house CA installed on the host is trusted here too.
    let caPem: Buffer | string[] = getCACertificates('system');
    if (ca !== undefined) {
      // Read at each check, so a renewed CA is used without a reload; it is a few KiB.
      try {
        caPem = await readFile(ca, { signal });
      } catch (err) {
        throw new Error(`cannot read CA file ${ca}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`);
      }
    }
    return { rejectUnauthorized: true, ca: caPem, ...(servername !== undefined ? { servername } : {}) };
  }

  /** GETs one URL; returns what is wrong with the answer, or undefined when it passes. */
  async #get(client: Client, url: HttpUrl, signal: AbortSignal): Promise<string | undefined> {
    const headers: Record<string, string> = { 'user-agent': 'yoke-health-check' };
    if (this.#spec.host !== undefined) headers['host'] = this.#spec.host;
    const { statusCode, body } = await client.request({ method: 'GET', path: url.path, headers, signal, reset: true });
    // Destroying the body (below, or by an abort) emits an error no one else listens for; it must not escape.
    body.on('error', () => {});
    const statusOk = url.status.some((r) => statusCode >= r.low && statusCode <= r.high);
    if (!statusOk || url.digest === undefined) {
      // Nothing to read: drop the body (and with reset, the connection) without waiting for it.
      body.destroy();
      return statusOk ? undefined : `HTTP ${statusCode} on ${url.path}`;
    }
    const md5 = createHash('md5');
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) {
        body.destroy();
        return `body over ${MAX_BODY} bytes on ${url.path}`;
      }
      md5.update(chunk);
    }
    return md5.digest('hex') === url.digest.toLowerCase() ? undefined : `digest mismatch on ${url.path}`;
  }
}

/** The name part of a Host value (`example.com:8443` → `example.com`); TLS SNI carries no port. */
function hostName(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(host);
  return m?.[1] ?? host;
}
