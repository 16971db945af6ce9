// Cookie stickiness modes byte by byte: what the request names and forwards, what the response sends to the
// client; tokens; the learn table with a manual clock; fast-check round trips.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../core/clock.ts';
import { findCookie, removeCookie } from '../../l7/http/cookie.ts';
import {
  isTokenShaped, makeTokens, MemoryLearnTable, stickyInsert, stickyLearn, stickyPrefix, stickyRewrite, TOKEN_LENGTH,
  type StickyRequest,
} from '../../l7/http/sticky.ts';

const SECRET = Buffer.from('yoke-test-secret');
// Made with: createHmac('sha256', 'yoke-test-secret').update('site/app\0web1').digest('base64url').slice(0, 16)
const T1 = 'QbbnYZ60GtB37nuU';
const T2 = '97AhTsyyzp5dx3_N';
const tokens = makeTokens(SECRET, ['web1', 'web2'], 'site/app');
const NONE: StickyRequest = { server: undefined, cookie: undefined, unknown: undefined };

describe('makeTokens', () => {
  it('derives HMAC-SHA256 tokens, stable for one secret', () => {
    assert.equal(tokens.tokenOf('web1'), T1);
    assert.equal(tokens.tokenOf('web2'), T2);
    assert.equal(tokens.serverOf(T1), 'web1');
    assert.equal(tokens.serverOf(T2), 'web2');
    assert.equal(makeTokens(SECRET, ['web2'], 'site/app').tokenOf('web2'), T2);
    assert.equal(tokens.tokenOf('web3'), undefined);
    assert.equal(tokens.serverOf('web1'), undefined);
    assert.equal(tokens.serverOf(''), undefined);
  });

  it('differs per scope and per secret', () => {
    assert.equal(makeTokens(SECRET, ['web1']).tokenOf('web1'), 'foHc4jH9Mmc46N65');
    assert.notEqual(makeTokens(Buffer.from('other'), ['web1'], 'site/app').tokenOf('web1'), T1);
  });

  it('tokens have a fixed shape', () => {
    assert.equal(T1.length, TOKEN_LENGTH);
    assert.equal(isTokenShaped(T1), true);
    assert.equal(isTokenShaped(T2), true);
    assert.equal(isTokenShaped(`x${T1}`, 1), true);
    assert.equal(isTokenShaped('short'), false);
    assert.equal(isTokenShaped('QbbnYZ60GtB37nu~'), false);
    assert.equal(isTokenShaped('QbbnYZ60GtB37nu='), false);
  });
});

describe('insert', () => {
  const s = stickyInsert({ name: 'SRV', maxAgeSec: 3600, httpOnly: true, secure: true, sameSite: 'Lax' }, tokens);
  const SET1 = `SRV=${T1}; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax`;
  const SET2 = `SRV=${T2}; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax`;

  it('a request names its server and is forwarded without yoke\'s cookie', () => {
    assert.deepEqual(s.request(`a=1; SRV=${T1}; b=2`), { server: 'web1', cookie: 'a=1; b=2', unknown: undefined });
    assert.deepEqual(s.request(`SRV=${T2}`), { server: 'web2', cookie: undefined, unknown: undefined });
    assert.deepEqual(s.request(`SRV="${T2}"; a=1`), { server: 'web2', cookie: 'a=1', unknown: undefined });
    assert.deepEqual(s.request(`SRV=garbage; SRV=${T2}`), { server: 'web2', cookie: undefined, unknown: undefined });
  });

  it('a missing, unknown or garbled cookie names nothing, and is still removed', () => {
    assert.deepEqual(s.request(undefined), NONE);
    const h = 'a=1; b=2';
    const r = s.request(h);
    assert.equal(r.server, undefined);
    assert.equal(r.cookie, h);
    assert.deepEqual(s.request('SRV=AAAAAAAAAAAAAAAA; a=1'), { server: undefined, cookie: 'a=1', unknown: undefined });
    assert.deepEqual(s.request('SRV=; srv=x'), { server: undefined, cookie: 'srv=x', unknown: undefined });
  });

  it('the response sets the cookie when the client had none or another server\'s', () => {
    assert.deepEqual(s.response(undefined, 'web1', NONE), [SET1]);
    assert.deepEqual(s.response(['a=1'], 'web1', s.request('x=1')), ['a=1', SET1]);
    assert.deepEqual(s.response([], 'web2', s.request(`SRV=${T1}`)), [SET2]); // failover: a new cookie
    assert.deepEqual(s.response(undefined, 'web2', s.request('SRV=bogus')), [SET2]);
  });

  it('the response is left alone when the client already names the server that served it', () => {
    const sc = ['a=1; Path=/'];
    assert.equal(s.response(sc, 'web1', s.request(`SRV=${T1}`)), sc);
    assert.equal(s.response(undefined, 'web1', s.request(`SRV=${T1}`)), undefined);
  });

  it('the application\'s own cookie of that name is dropped', () => {
    assert.deepEqual(s.response(['SRV=app; Path=/', 'a=1'], 'web1', s.request(`SRV=${T1}`)), ['a=1']);
    assert.deepEqual(s.response(['SRV=app', 'a=1'], 'web2', NONE), ['a=1', SET2]);
  });

  it('no cookie for a server without a token', () => {
    assert.equal(s.response(undefined, 'web9', NONE), undefined);
  });

  it('a session cookie and default attributes when not configured', () => {
    const plain = stickyInsert({ name: 'SRV' }, tokens);
    assert.deepEqual(plain.response(undefined, 'web1', NONE), [`SRV=${T1}; Path=/`]);
    const dom = stickyInsert({ name: 'SRV', domain: 'example.org', path: '/shop' }, tokens);
    assert.deepEqual(dom.response(undefined, 'web1', NONE), [`SRV=${T1}; Path=/shop; Domain=example.org`]);
  });
});

describe('rewrite', () => {
  const s = stickyRewrite('SERVERID', tokens);

  it('the application\'s cookie value is replaced by the token of the server that answered', () => {
    assert.deepEqual(s.response(['SERVERID=x; Path=/; HttpOnly', 'a=1'], 'web1', NONE), [`SERVERID=${T1}; Path=/; HttpOnly`, 'a=1']);
    assert.deepEqual(s.response([' SERVERID = ; Max-Age=0'], 'web2', NONE), [` SERVERID = ${T2}; Max-Age=0`]);
  });

  it('a response without that cookie is left alone: the application decides when there is one', () => {
    const sc = ['a=1', 'SERVERIDX=2'];
    assert.equal(s.response(sc, 'web1', NONE), sc);
    assert.equal(s.response(undefined, 'web1', NONE), undefined);
    assert.equal(s.response(['SERVERID=x'], 'web9', NONE)?.[0], 'SERVERID=x');
  });

  it('requests name the server and are forwarded unchanged, as HAProxy does', () => {
    const h = `a=1; SERVERID=${T2}`;
    assert.deepEqual(s.request(h), { server: 'web2', cookie: h, unknown: undefined });
    assert.deepEqual(s.request('SERVERID=x'), { server: undefined, cookie: 'SERVERID=x', unknown: undefined });
    assert.deepEqual(s.request(undefined), NONE);
  });
});

describe('prefix', () => {
  const s = stickyPrefix('JSESSIONID', tokens);

  it('Set-Cookie NAME=v goes out as NAME=token~v', () => {
    assert.deepEqual(s.response(['JSESSIONID=abc.1; Path=/app; HttpOnly', 'x=1'], 'web1', NONE), [`JSESSIONID=${T1}~abc.1; Path=/app; HttpOnly`, 'x=1']);
    assert.deepEqual(s.response(['JSESSIONID="q~r"'], 'web2', NONE), [`JSESSIONID=${T2}~"q~r"`]);
    assert.deepEqual(s.response(['JSESSIONID='], 'web2', NONE), [`JSESSIONID=${T2}~`]);
    const sc = ['other=1'];
    assert.equal(s.response(sc, 'web1', NONE), sc);
  });

  it('a request NAME=token~v picks the server and is forwarded as NAME=v', () => {
    assert.deepEqual(s.request(`a=1; JSESSIONID=${T1}~abc.1; b=2`), { server: 'web1', cookie: 'a=1; JSESSIONID=abc.1; b=2', unknown: undefined });
    assert.deepEqual(s.request(`JSESSIONID=${T2}~a~b~`), { server: 'web2', cookie: 'JSESSIONID=a~b~', unknown: undefined });
    assert.deepEqual(s.request(`JSESSIONID=${T2}~`), { server: 'web2', cookie: 'JSESSIONID=', unknown: undefined });
    assert.deepEqual(s.request(`JSESSIONID=${T1}~x; JSESSIONID=${T2}~y`), { server: 'web1', cookie: 'JSESSIONID=x; JSESSIONID=y', unknown: undefined });
  });

  it('an unknown token\'s prefix is still removed; a value without one goes through untouched', () => {
    assert.deepEqual(s.request('JSESSIONID=AAAAAAAAAAAAAAAA~v'), { server: undefined, cookie: 'JSESSIONID=v', unknown: undefined });
    for (const h of ['JSESSIONID=v', 'JSESSIONID=a~b', 'JSESSIONID=AAAAAAAAAAAAAAA=~v', `X=${T1}~v`, `JSESSIONID=${T1}`]) {
      assert.deepEqual(s.request(h), { server: undefined, cookie: h, unknown: undefined }, h);
    }
  });
});

describe('learn', () => {
  const make = (requestLearn = false) => {
    const clock = new ManualClock(0);
    const table = new MemoryLearnTable({ timeoutMs: 1000, maxEntries: 3, maxValueLength: 8 }, clock);
    return { clock, table, s: stickyLearn({ name: 'JSESSIONID', requestLearn }, table) };
  };

  it('the value a server sets sends its requests there; nothing is rewritten', () => {
    const { s, table } = make();
    const sc = ['JSESSIONID=abc; Path=/', 'x=1'];
    assert.equal(s.response(sc, 'web2', NONE), sc);
    assert.equal(table.get('abc'), 'web2');
    const h = 'x=1; JSESSIONID=abc';
    assert.deepEqual(s.request(h), { server: 'web2', cookie: h, unknown: undefined });
    assert.deepEqual(s.request('JSESSIONID=other'), { server: undefined, cookie: 'JSESSIONID=other', unknown: 'other' });
    assert.deepEqual(s.request('JSESSIONID=; JSESSIONID=abc'), { server: 'web2', cookie: 'JSESSIONID=; JSESSIONID=abc', unknown: undefined });
    assert.deepEqual(s.request(undefined), NONE);
  });

  it('an empty value (a deletion) is not learned', () => {
    const { s, table } = make();
    s.response(['JSESSIONID=; Max-Age=0'], 'web1', NONE);
    assert.equal(table.size, 0);
  });

  it('request-learn: an unknown value is learned for the server that answered, unless it set a new one', () => {
    const { s, table } = make(true);
    s.response(undefined, 'web1', s.request('JSESSIONID=old'));
    assert.equal(table.get('old'), 'web1');
    s.response(['JSESSIONID=new'], 'web2', s.request('JSESSIONID=old2'));
    assert.equal(table.get('old2'), undefined);
    assert.equal(table.get('new'), 'web2');
    const off = make(false);
    off.s.response(undefined, 'web1', off.s.request('JSESSIONID=old'));
    assert.equal(off.table.size, 0);
  });
});

describe('MemoryLearnTable', () => {
  it('forgets entries unused for the timeout; using one keeps it', () => {
    const clock = new ManualClock(0);
    const t = new MemoryLearnTable({ timeoutMs: 1000, maxEntries: 10, maxValueLength: 64 }, clock);
    t.set('a', 'web1');
    t.set('b', 'web2');
    clock.advance(999);
    assert.equal(t.get('a'), 'web1'); // renewed until 1999
    clock.advance(1);
    assert.equal(t.get('b'), undefined);
    assert.equal(t.size, 1);
    clock.advance(998);
    assert.equal(t.get('a'), 'web1');
    clock.advance(1000);
    assert.equal(t.get('a'), undefined);
    assert.equal(t.size, 0);
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const clock = new ManualClock(0);
    const t = new MemoryLearnTable({ timeoutMs: 1000, maxEntries: 2, maxValueLength: 64 }, clock);
    t.set('a', 'web1');
    t.set('b', 'web1');
    assert.equal(t.get('a'), 'web1'); // b is now the oldest
    t.set('c', 'web2');
    assert.equal(t.size, 2);
    assert.equal(t.get('b'), undefined);
    assert.equal(t.get('a'), 'web1');
    assert.equal(t.get('c'), 'web2');
    t.set('c', 'web1'); // a server may set the same value again: the newest wins
    assert.equal(t.get('c'), 'web1');
    assert.equal(t.size, 2);
  });

  it('drops expired entries when writing', () => {
    const clock = new ManualClock(0);
    const t = new MemoryLearnTable({ timeoutMs: 10, maxEntries: 100, maxValueLength: 64 }, clock);
    for (let i = 0; i < 50; i++) t.set(`k${i}`, 'web1');
    clock.advance(10);
    t.set('fresh', 'web2');
    assert.equal(t.size, 1);
  });

  it('keeps and compares the first maxValueLength characters', () => {
    const t = new MemoryLearnTable({ timeoutMs: 10, maxEntries: 100, maxValueLength: 4 }, new ManualClock(0));
    t.set('abcdXYZ', 'web1');
    assert.equal(t.get('abcd'), 'web1');
    assert.equal(t.get('abcdQQQ'), 'web1');
    assert.equal(t.get('abc'), undefined);
  });
});

// Cookie text clients may send around yoke's: names other than the ones under test, awkward spacing.
const VALUE = fc.stringMatching(/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{0,16}$/);
const OTHER = fc.tuple(fc.constantFrom('a', 'b', 'srv', 'SRVX', 'jsessionid'), fc.constantFrom('', ' '), VALUE).map(([n, w, v]) => `${w}${n}=${v}`);
const OTHERS = fc.array(OTHER, { maxLength: 5 });
const SERVER = fc.constantFrom('web1', 'web2');

describe('properties', () => {
  const modes = [
    stickyInsert({ name: 'SRV', maxAgeSec: 60 }, tokens),
    stickyRewrite('SRV', tokens),
    stickyPrefix('SRV', tokens),
    stickyLearn({ name: 'SRV', requestLearn: true }, new MemoryLearnTable({ timeoutMs: 1000, maxEntries: 4, maxValueLength: 8 }, new ManualClock())),
  ];

  it('arbitrary header strings never throw, in any mode', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }), SERVER, (h, sc, served) => {
      for (const m of modes) {
        const r = m.request(h);
        m.response(sc, served, r);
        m.response(sc, 'nobody', m.request(`SRV=${h}`));
      }
    }), { numRuns: 500 });
  });

  it('insert round trip: the token set is found back from a Cookie header built from it', () => {
    const s = modes[0]!;
    fc.assert(fc.property(OTHERS, OTHERS, SERVER, (before, after, served) => {
      const set = s.response(undefined, served, NONE)![0]!;
      const pair = set.slice(0, set.indexOf(';'));
      const header = [...before, pair, ...after].join(';');
      const r = s.request(header);
      assert.equal(r.server, served);
      assert.equal(r.cookie, removeCookie(header, 'SRV'));
      assert.equal(findCookie(r.cookie, 'SRV'), undefined);
      assert.equal(s.response(undefined, served, r), undefined); // nothing more to set
    }), { numRuns: 500 });
  });

  it('prefix round trip restores the application\'s value exactly, delimiters included', () => {
    const s = modes[2]!;
    const APP = fc.stringMatching(/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e~]{0,24}$/);
    fc.assert(fc.property(OTHERS, APP, fc.constantFrom('', '; Path=/; HttpOnly'), SERVER, (others, v, attrs, served) => {
      const out = s.response([`SRV=${v}${attrs}`], served, NONE)![0]!;
      const sent = out.slice(4, out.length - attrs.length);
      const header = [...others, `SRV=${sent}`].join('; ');
      const r = s.request(header);
      assert.equal(r.server, served);
      assert.equal(r.cookie, [...others, `SRV=${v}`].join('; '));
    }), { numRuns: 500 });
  });

  it('removing yoke\'s cookie in insert mode never touches other cookies\' bytes', () => {
    const s = modes[0]!;
    fc.assert(fc.property(OTHERS, OTHERS, fc.constantFrom(T1, T2, 'junk', ''), (before, after, v) => {
      const r = s.request([...before, `SRV=${v}`, ...after].join(';'));
      const kept = [...before, ...after];
      if (kept.length === 0) { assert.equal(r.cookie, undefined); return; }
      const want = kept.join(';');
      assert.ok(r.cookie === want || (before.length === 0 && r.cookie === want.trimStart()), `${r.cookie} vs ${want}`);
    }), { numRuns: 500 });
  });
});
