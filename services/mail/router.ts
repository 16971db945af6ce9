// Where a mail user's sessions go. The directory names the user's home server (by a server's name or by the host
// of its address); a user without one, or whose host names no server of the service, gets a stable choice by
// rendezvous hashing of the user name over the live servers; and while a user has sessions open on a server, new
// sessions of that user in any mail service go there too (the Dovecot director's guarantee: one mailbox, one
// backend at a time). The affinity table is shared by every mail service and keyed by the server's identity
// (its name, else its address's host), which is what IMAP, POP3 and SMTP servers of one machine have in common.
import { createHash } from 'node:crypto';
import type { RealServer } from '../../core/server.ts';
import type { VirtualService } from '../../core/service.ts';
import type { Directory } from './directory.ts';

/** The router's answer for one login (or SMTP recipient). */
export type Route =
  | { readonly kind: 'server'; readonly server: RealServer; readonly why: 'home' | 'affinity' | 'hash' }
  | { readonly kind: 'unknown-user' }
  | { readonly kind: 'temp-failure'; readonly reason: string };

/** One row of the affinity table, for the admin API. */
export interface AffinityRow {
  readonly user: string;
  readonly server: string;
  readonly sessions: number;
}

/** What a server is across the mail services: its name, else its address's host. */
export function identityOf(s: RealServer): string {
  return (s.name ?? s.address.host).toLowerCase();
}

/** Whether a directory host names this server: its name or the host of its address, ignoring case and a final dot. */
export function hostNames(host: string, s: RealServer): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return (s.name !== undefined && s.name.toLowerCase().replace(/\.$/, '') === h) || s.address.host.toLowerCase() === h;
}

/**
 * The user as hashing and the affinity table see it: lower case, as an LDAP uid (caseIgnoreMatch) and Dovecot's
 * default username format (%Lu) compare names, so that `Alice` over IMAP and `alice` over POP3 are one mailbox.
 */
export function userKey(user: string): string {
  return user.toLowerCase();
}

/** Rendezvous (highest random weight) hashing: the server whose hash with the user is highest; undefined = none live. */
export function rendezvous(user: string, servers: readonly RealServer[]): RealServer | undefined {
  let best: RealServer | undefined;
  let bestScore = -1n;
  for (const s of servers) {
    if (!s.available) continue;
    const score = createHash('sha256').update(userKey(user)).update('\u0000').update(identityOf(s)).digest().readBigUInt64BE(0);
    if (score > bestScore) { best = s; bestScore = score; }
  }
  return best;
}

/** The shared router of every mail service: directory answers, hashing and the affinity table. */
export class MailRouter {
  /** user → server identity → sessions open there. */
  readonly #affinity = new Map<string, Map<string, number>>();

  /** Routes `user` in `service`; never rejects. `directory` undefined = every user is hashed. */
  async route(service: VirtualService, directory: Directory | undefined, user: string): Promise<Route> {
    if (directory !== undefined) {
      const answer = await directory.lookup(user);
      if (answer.kind === 'unavailable') return { kind: 'temp-failure', reason: `directory ${directory.spec.name}: ${answer.reason}` };
      if (answer.kind === 'unknown') return { kind: 'unknown-user' };
      if (answer.host !== undefined) {
        const home = service.servers.find((s) => hostNames(answer.host as string, s));
        if (home !== undefined) {
          // No fallback: another server would write the same mailbox.
          if (!usable(home)) return { kind: 'temp-failure', reason: `home server ${home.name ?? home.id} of the user is down or full` };
          return { kind: 'server', server: home, why: 'home' };
        }
      }
    }
    const held = this.#affinity.get(userKey(user));
    if (held !== undefined) {
      for (const [identity, n] of held) {
        if (n <= 0) continue;
        const s = service.servers.find((x) => identityOf(x) === identity);
        if (s !== undefined && usable(s)) return { kind: 'server', server: s, why: 'affinity' };
      }
    }
    const s = rendezvous(user, service.servers);
    return s === undefined ? { kind: 'temp-failure', reason: 'no live server' } : { kind: 'server', server: s, why: 'hash' };
  }

  /** A session of `user` opened on `server`: until `leave`, the user's new sessions go there. */
  enter(user: string, server: RealServer): void {
    const id = identityOf(server);
    const key = userKey(user);
    let m = this.#affinity.get(key);
    if (m === undefined) { m = new Map(); this.#affinity.set(key, m); }
    m.set(id, (m.get(id) ?? 0) + 1);
  }

  /** The session `enter` counted ended. */
  leave(user: string, server: RealServer): void {
    const id = identityOf(server);
    const key = userKey(user);
    const m = this.#affinity.get(key);
    const n = m?.get(id);
    if (m === undefined || n === undefined) return;
    if (n > 1) m.set(id, n - 1);
    else {
      m.delete(id);
      if (m.size === 0) this.#affinity.delete(key);
    }
  }

  /** The affinity table now: users (lower case) with open sessions, where, and how many. */
  snapshot(): AffinityRow[] {
    const rows: AffinityRow[] = [];
    for (const [user, m] of this.#affinity) for (const [server, sessions] of m) rows.push({ user, server, sessions });
    return rows;
  }
}

/** A server a session may be sent to: alive and not over its connection threshold (weight 0 keeps its users). */
function usable(s: RealServer): boolean {
  return s.alive && !s.overloaded;
}
