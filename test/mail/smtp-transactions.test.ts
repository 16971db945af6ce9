// SMTP delivery past the first message (l7/mail/smtp.ts): the message streamed to its server up to its end, the
// server's answer passed back, and the next transaction routed afresh; byte by byte and split at every offset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SMTP_DEFAULTS, smtpStart, smtpStep, type SmtpState } from '../../l7/mail/smtp.ts';
import type { MailEvent } from '../../l7/mail/types.ts';
import { assertSplitSafe, b, c, found, trace, type Machine } from './helpers.ts';

const m: Machine<SmtpState> = { start: () => smtpStart(SMTP_DEFAULTS), step: smtpStep };
const toClient = (text: string) => ({ type: 'send-to-client', text });
const toBackend = (text: string) => ({ type: 'send-to-backend', text });
const streamed = (text: string) => ({ type: 'stream-to-backend', text });
const QUIT = { type: 'close-backend', text: 'QUIT\r\n' };
const failed: MailEvent = { type: 'backend-failed', reason: 'reset' };

/** EHLO, MAIL, RCPT alice routed to m1 and taken, DATA answered 354: the client is sending the first message. */
const first: MailEvent[] = [
  c('EHLO mta\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice@d>\r\nDATA\r\n'), found('m1'), b('220 mx1\r\n250 mx1\r\n250 ok\r\n250 ok\r\n354 go\r\n'),
];
/** What `first` does after yoke's EHLO and MAIL answers. */
const firstTrace = [
  { type: 'lookup', user: 'alice' }, { type: 'connect-backend', server: 'm1' }, toBackend('EHLO mta\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice@d>\r\n'),
  toClient('250 ok\r\n'), toBackend('DATA\r\n'), toClient('354 go\r\n'),
];
const after = (events: MailEvent[]) => trace(m, [...first, ...events]).slice(firstTrace.length + 1);

describe('smtp delivery: several transactions on one connection', () => {
  it('the message is streamed to its server and its answer passed back; the next MAIL routes afresh (QUIT to the old server)', () => {
    const script = [
      ...first,
      c('Subject: 1\r\n\r\n..dot\r\n.\r\n'), b('250 2.0.0 queued as A\r\n'),
      c('MAIL FROM:<s@x>\r\nRCPT TO:<bob@d>\r\nDATA\r\n'), found('m2'), b('220 mx2\r\n250 mx2\r\n250 ok\r\n250 ok\r\n354 go\r\n'),
      c('Subject: 2\r\n\r\nb\r\n.\r\nQUIT\r\n'), b('250 2.0.0 queued as B\r\n'),
    ];
    const out = trace(m, script);
    assert.deepEqual(out.slice(1), [
      ...firstTrace,
      streamed('Subject: 1\r\n\r\n..dot\r\n.\r\n'), toClient('250 2.0.0 queued as A\r\n250 2.1.0 Ok\r\n'),
      { type: 'lookup', user: 'bob' }, QUIT, { type: 'connect-backend', server: 'm2' },
      toBackend('EHLO mta\r\nMAIL FROM:<s@x>\r\nRCPT TO:<bob@d>\r\n'), toClient('250 ok\r\n'), toBackend('DATA\r\n'), toClient('354 go\r\n'),
      streamed('Subject: 2\r\n\r\nb\r\n.\r\n'), toClient('250 2.0.0 queued as B\r\n'), QUIT, toClient('221 2.0.0 Bye\r\n'), { type: 'close' },
    ]);
    assertSplitSafe(m, script);
  });

  it('the same server twice in a row: the connection is kept and gets MAIL and RCPT only', () => {
    const script = [
      ...first, c('x\r\n.\r\n'), b('250 queued\r\n'), c('MAIL FROM:<t@x>\r\nRCPT TO:<carol@d>\r\n'), found('m1'), b('250 ok\r\n250 ok carol\r\n'),
    ];
    assert.deepEqual(after(script.slice(first.length)), [
      streamed('x\r\n.\r\n'), toClient('250 queued\r\n250 2.1.0 Ok\r\n'), { type: 'lookup', user: 'carol' },
      toBackend('MAIL FROM:<t@x>\r\nRCPT TO:<carol@d>\r\n'), toClient('250 ok carol\r\n'),
    ]);
    assertSplitSafe(m, script);
  });

  it('pipelined MAIL/RCPT/DATA right after the end of data wait for the message\u2019s answer, then run in order', () => {
    const script = [
      ...first, c('body\r\n.\r\nMAIL FROM:<s@x>\r\nRCPT TO:<bob@d>\r\nDATA\r\n'), b('250 queued 1\r\n'), found('m2'),
      b('220 mx2\r\n250 mx2\r\n250 ok\r\n250 ok\r\n354 go\r\n'),
    ];
    assert.deepEqual(after(script.slice(first.length)), [
      streamed('body\r\n.\r\n'), toClient('250 queued 1\r\n250 2.1.0 Ok\r\n'), { type: 'lookup', user: 'bob' }, QUIT,
      { type: 'connect-backend', server: 'm2' }, toBackend('EHLO mta\r\nMAIL FROM:<s@x>\r\nRCPT TO:<bob@d>\r\n'), toClient('250 ok\r\n'),
      toBackend('DATA\r\n'), toClient('354 go\r\n'),
    ]);
    assertSplitSafe(m, script);
  });

  it('RSET between transactions keeps the idle connection; RSET inside one ends it with QUIT', () => {
    const script = [
      ...first, c('m\r\n.\r\n'), b('250 queued\r\n'), c('RSET\r\nMAIL FROM:<s@x>\r\nRCPT TO:<dan@d>\r\n'), found('m1'), b('250 ok\r\n250 ok\r\n'),
      c('RSET\r\nNOOP\r\n'),
    ];
    assert.deepEqual(after(script.slice(first.length)), [
      streamed('m\r\n.\r\n'), toClient('250 queued\r\n250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n'), { type: 'lookup', user: 'dan' },
      toBackend('MAIL FROM:<s@x>\r\nRCPT TO:<dan@d>\r\n'), toClient('250 ok\r\n'), QUIT, toClient('250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n'),
    ]);
    assertSplitSafe(m, script);
  });

  it('a message sent before the 354 is held, then streamed; the terminator split byte by byte is found', () => {
    const script = [
      c('EHLO mta\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice@d>\r\nDATA\r\nearly\r\n'), found('m1'), b('220 mx1\r\n250 mx1\r\n250 ok\r\n250 ok\r\n'), b('354 go\r\n'),
      c('\r'), c('\n'), c('.'), c('\r'), c('\n'), b('250 queued\r\n'),
    ];
    const out = trace(m, script);
    assert.deepEqual(out.slice(-3), [toClient('354 go\r\n'), streamed('early\r\n\r\n.\r\n'), toClient('250 queued\r\n')]);
    assertSplitSafe(m, script);
  });
});

describe('smtp delivery: failures around the message', () => {
  it('DATA refused by the server: its answer unchanged, the connection ended, the next MAIL starts clean', () => {
    const script = [
      c('EHLO mta\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice@d>\r\nDATA\r\n'), found('m1'), b('220 mx1\r\n250 mx1\r\n250 ok\r\n250 ok\r\n554 5.7.1 no thanks\r\n'),
      c('MAIL FROM:<s@x>\r\n'),
    ];
    assert.deepEqual(trace(m, script).slice(-3), [toClient('554 5.7.1 no thanks\r\n'), QUIT, toClient('250 2.1.0 Ok\r\n')]);
  });

  it('the server\u2019s 5xx to the message goes back unchanged and the connection is kept', () => {
    assert.deepEqual(after([c('x\r\n.\r\n'), b('552 5.3.4 too big\r\n'), c('MAIL FROM:<s@x>\r\nRCPT TO:<a2@d>\r\n'), found('m1')]), [
      streamed('x\r\n.\r\n'), toClient('552 5.3.4 too big\r\n250 2.1.0 Ok\r\n'), { type: 'lookup', user: 'a2' }, toBackend('MAIL FROM:<s@x>\r\n'),
    ]);
  });

  it('the server lost mid-message: the rest is read and thrown away, its end answered 451, and the session goes on', () => {
    const script = [...first, c('part one\r\n'), failed, c('part two\r\n.\r\nNOOP\r\n')];
    assert.deepEqual(after(script.slice(first.length)), [
      streamed('part one\r\n'), { type: 'close-backend' }, toClient('451 4.3.0 Connection to the mail server lost, try again later\r\n250 2.0.0 Ok\r\n'),
    ]);
    assertSplitSafe(m, script);
  });

  it('the server lost after the end of data, before its answer: 451 (the MTA keeps the message)', () => {
    assert.deepEqual(after([c('x\r\n.\r\n'), failed, c('NOOP\r\n')]), [
      streamed('x\r\n.\r\n'), { type: 'close-backend' }, toClient('451 4.3.0 Temporary failure, try again later\r\n250 2.0.0 Ok\r\n'),
    ]);
  });

  it('a bare LF in the message: the server gets nothing from it on and is dropped; the end gets 554', () => {
    const script = [...first, c('ok line\r\nsmuggle\n.\nMAIL FROM:<e@x>\r\n.\r\n'), c('NOOP\r\n')];
    assert.deepEqual(after(script.slice(first.length)), [
      streamed('ok line\r\nsmuggle'), { type: 'close-backend' }, toClient('554 5.6.0 Message contains a bare CR or LF, not delivered\r\n250 2.0.0 Ok\r\n'),
    ]);
    assertSplitSafe(m, script);
  });

  it('an idle connection that spoke (a 421 before closing) is not reused', () => {
    assert.deepEqual(after([c('x\r\n.\r\n'), b('250 queued\r\n'), b('421 4.4.2 idle\r\n'), c('MAIL FROM:<s@x>\r\nRCPT TO:<a3@d>\r\n'), found('m1')]).slice(-2), [
      QUIT, { type: 'connect-backend', server: 'm1' },
    ]);
  });

  it('many messages on one connection do not run into the command limit', () => {
    const events: MailEvent[] = [...first, c('x\r\n.\r\n'), b('250 queued\r\n')];
    for (let i = 0; i < 30; i++) events.push(c('MAIL FROM:<s@x>\r\nRCPT TO:<alice@d>\r\nDATA\r\n'), found('m1'), b('250 ok\r\n250 ok\r\n354 go\r\n'), c('x\r\n.\r\n'), b('250 queued\r\n'));
    const out = trace(m, events);
    assert.equal(out.filter((a) => a.type === 'close').length, 0);
    assert.equal(out.filter((a) => a.type === 'stream-to-backend').length, 31);
    assert.equal(out.filter((a) => a.type === 'connect-backend').length, 1);
  });
});
