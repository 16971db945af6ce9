import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findNewSessionTicket } from '../../l7/tls/new-session-ticket.ts';
import { ticketKeyName } from '../../l7/tls/ticket.ts';
import { capture } from './helpers.ts';

describe('the TLS 1.2 NewSessionTicket in the server\'s clear-text flight', () => {
  it('a full handshake that promised a ticket carries it before the ChangeCipherSpec (the capture: 176 bytes)', () => {
    const s2c = capture('tls12-full-ticket.s2c.bin');
    const r = findNewSessionTicket(s2c, 64 * 1024);
    assert.equal(r.kind, 'ticket');
    assert.equal(r.kind === 'ticket' && r.ticket.length, 176);
    assert.match(r.kind === 'ticket' ? ticketKeyName(r.ticket) ?? '' : '', /^[0-9a-f]{32}$/);
  });

  it('every prefix is need-more until the ticket is whole, and the answer is the same whatever the split', () => {
    const s2c = capture('tls12-full-ticket.s2c.bin');
    const whole = findNewSessionTicket(s2c, 64 * 1024);
    let firstFound = -1;
    for (let n = 0; n <= s2c.length; n++) {
      const r = findNewSessionTicket(s2c.subarray(0, n), 64 * 1024);
      if (r.kind === 'ticket' && firstFound < 0) firstFound = n;
      if (firstFound < 0) assert.equal(r.kind, 'need-more', `prefix ${n}`);
      else assert.deepEqual(r, whole, `prefix ${n}`);
    }
    assert.ok(firstFound > 0);
  });

  it('a server that issues no ticket reaches its ChangeCipherSpec first: none; so does a byte limit', () => {
    assert.equal(findNewSessionTicket(capture('tls12-full-noticket.s2c.bin'), 64 * 1024).kind, 'none');
    assert.equal(findNewSessionTicket(capture('tls12-full-ticket.s2c.bin'), 100).kind, 'none');
  });
});
