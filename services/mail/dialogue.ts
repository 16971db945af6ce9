// One mail front dialogue (IMAP, POP3 or SMTP) behind one shape, so the socket code need not know which: its
// greeting, then `feed(event) → actions`. The state machines are pure (l7/mail); this only holds the state.
import { IMAP_DEFAULTS, imapStart, imapStep, type ImapState } from '../../l7/mail/imap.ts';
import { POP3_DEFAULTS, pop3Start, pop3Step, type Pop3State } from '../../l7/mail/pop3.ts';
import { SMTP_DEFAULTS, smtpStart, smtpStep, type SmtpState } from '../../l7/mail/smtp.ts';
import type { MailAction, MailEvent, Step } from '../../l7/mail/types.ts';
import type { MailMode, MailSpec } from './settings.ts';

/** A running dialogue: feed it what happened, perform what it asks, in order. */
export interface Dialogue {
  feed(event: MailEvent): MailAction[];
}

/** Starts the dialogue of `mode` under the service's settings: the dialogue and its greeting's actions. */
export function startDialogue(mode: MailMode, spec: MailSpec): { dialogue: Dialogue; actions: MailAction[] } {
  const tls = spec.tlsMode;
  switch (mode) {
    case 'imap': return hold(imapStart({ ...IMAP_DEFAULTS, tls }), imapStep);
    case 'pop3': return hold(pop3Start({ ...POP3_DEFAULTS, tls }), pop3Step);
    case 'smtp': {
      const { auth, delivery, hostname } = spec.smtp;
      return hold(smtpStart({ ...SMTP_DEFAULTS, tls, auth, delivery, hostname }), smtpStep);
    }
  }
}

function hold<S extends ImapState | Pop3State | SmtpState>(first: Step<S>, step: (s: S, e: MailEvent) => Step<S>): { dialogue: Dialogue; actions: MailAction[] } {
  let state = first.state;
  return {
    dialogue: {
      feed(event) {
        const next = step(state, event);
        state = next.state;
        return next.actions;
      },
    },
    actions: first.actions,
  };
}
