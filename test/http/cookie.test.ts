// Cookie and Set-Cookie header values byte by byte: lookups, removal, Set-Cookie reading and building, and
// fast-check properties (arbitrary strings never throw; removal leaves every other pair's bytes alone).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildSetCookie, cookieValueAt, cookieValueEnd, findCookie, isCookieName, isCookieValue, parseSetCookie, removeCookie,
  setCookieValueAt, unquote,
} from '../../l7/http/cookie.ts';

describe('findCookie', () => {
  const CASES: ReadonlyArray<readonly [string, string, string | undefined]> = [
    ['a=1; b=2', 'a', '1'],
    ['a=1; b=2', 'b', '2'],
    ['a=1;b=2', 'b', '2'], // no space after ';'
    ['a=1 ;  b=2  ', 'b', '2'], // spaces around pairs
    ['a=1;\tb=2', 'b', '2'],
    ['a = 1', 'a', '1'], // spaces around '=' (browsers' lenient reading)
    ['a="x y"; b=2', 'a', '"x y"'], // quotes stay part of the value
    ['a=; b=2', 'a', ''], // empty value
    ['a=', 'a', ''],
    ['a=1; a=2', 'a', '1'], // the first wins
    ['A=1; a=2', 'a', '2'], // names are case-sensitive
    ['ab=1; b=2', 'a', undefined],
    ['ba=1', 'a', undefined],
    ['a; b=2', 'a', undefined], // no '=': a nameless value, never matched
    ['x=a=1; a=2', 'a', '2'], // '=' inside a value
    ['x=1; a=b=c', 'a', 'b=c'],
    ['a="1;2"', 'a', '"1'], // ';' splits even inside quotes, as browsers do
    ['', 'a', undefined],
    [';;; a=1 ;;', 'a', '1'],
    ['a=1', '', undefined], // an empty name matches nothing
    ['=1', '', undefined],
  ];
  for (const [header, name, want] of CASES) {
    it(`${JSON.stringify(header)} ${name} -> ${JSON.stringify(want)}`, () => {
      assert.equal(findCookie(header, name), want);
    });
  }

  it('looks through several header values in order', () => {
    assert.equal(findCookie(['x=1', 'a=2; a=3', 'a=4'], 'a'), '2');
    assert.equal(findCookie(['x=1', 'y=2'], 'a'), undefined);
    assert.equal(findCookie([], 'a'), undefined);
    assert.equal(findCookie(undefined, 'a'), undefined);
  });

  it('takes the first value `accept` takes', () => {
    assert.equal(findCookie('a=bad; a=good; a=later', 'a', (v) => v !== 'bad'), 'good');
    assert.equal(findCookie(['a=bad', 'x=1; a=good'], 'a', (v) => v === 'good'), 'good');
    assert.equal(findCookie('a=bad', 'a', () => false), undefined);
  });

  it('gives offsets for in-place work', () => {
    const h = 'x=1;  a=vv  ; a=w';
    const at = cookieValueAt(h, 'a');
    assert.equal(at, 8);
    assert.equal(cookieValueEnd(h, at), 10);
    const next = cookieValueAt(h, 'a', cookieValueEnd(h, at));
    assert.equal(h.slice(next, cookieValueEnd(h, next)), 'w');
    assert.equal(cookieValueAt(h, 'a', cookieValueEnd(h, next)), -1);
  });
});

describe('removeCookie', () => {
  const CASES: ReadonlyArray<readonly [string, string | undefined]> = [
    ['a=1; Y=t; b=2', 'a=1; b=2'],
    ['Y=t; a=1', 'a=1'],
    ['Y=t;a=1', 'a=1'],
    ['a=1; Y=t', 'a=1'],
    ['a=1;Y=t', 'a=1'],
    ['Y=t', undefined],
    ['Y=t; Y=u', undefined],
    [' Y=t ; ', undefined],
    ['Y=t; a=1; Y=u; b=2; Y=v', 'a=1; b=2'],
    ['a=1;  b="q"  ; Y=t', 'a=1;  b="q"  '], // other pairs keep their spaces and quotes
    ['YY=1; Y=t; y=2', 'YY=1; y=2'], // only the exact name
    ['a=1; Y', 'a=1; Y'], // 'Y' without '=' is not a cookie named Y
    ['a=1;;Y=t;', 'a=1;;'],
  ];
  for (const [header, want] of CASES) {
    it(`${JSON.stringify(header)} -> ${JSON.stringify(want)}`, () => {
      assert.equal(removeCookie(header, 'Y'), want);
    });
  }

  it('returns the input itself when there is nothing to remove, undefined when there is nothing at all', () => {
    const h = 'a=1; b=2';
    assert.equal(removeCookie(h, 'Y'), h);
    assert.equal(removeCookie('', 'Y'), undefined);
    assert.equal(removeCookie(' ; ', 'Y'), undefined);
    assert.equal(removeCookie(undefined, 'Y'), undefined);
  });

  it('joins several header values with "; "', () => {
    assert.equal(removeCookie(['a=1', 'Y=t', 'b=2; Y=u'], 'Y'), 'a=1; b=2');
    assert.equal(removeCookie(['Y=t', 'Y=u'], 'Y'), undefined);
  });
});

describe('Set-Cookie', () => {
  it('reads name, value, offsets and attributes', () => {
    const s = 'JSESSIONID=abc.1; Path=/app; HttpOnly; Max-Age=60; SameSite=Lax';
    assert.deepEqual(parseSetCookie(s), {
      name: 'JSESSIONID', value: 'abc.1', valueStart: 11, valueEnd: 16,
      attributes: [
        { name: 'Path', value: '/app' }, { name: 'HttpOnly', value: '' },
        { name: 'Max-Age', value: '60' }, { name: 'SameSite', value: 'Lax' },
      ],
    });
  });

  it('follows RFC 6265 5.2 for odd shapes', () => {
    assert.deepEqual(parseSetCookie(' a = "x y" ;secure;;  domain = .example.org '), {
      name: 'a', value: '"x y"', valueStart: 5, valueEnd: 10,
      attributes: [{ name: 'secure', value: '' }, { name: 'domain', value: '.example.org' }],
    });
    assert.deepEqual(parseSetCookie('a=b=c'), { name: 'a', value: 'b=c', valueStart: 2, valueEnd: 5, attributes: [] });
    assert.deepEqual(parseSetCookie('a='), { name: 'a', value: '', valueStart: 2, valueEnd: 2, attributes: [] });
    assert.equal(parseSetCookie('novalue'), undefined);
    assert.equal(parseSetCookie('a; b=c'), undefined); // '=' only after the first ';'
    assert.equal(parseSetCookie('=v'), undefined);
    assert.equal(parseSetCookie(''), undefined);
  });

  it('matches a name without allocating', () => {
    assert.equal(setCookieValueAt('SRV=tok; Path=/', 'SRV'), 4);
    assert.equal(setCookieValueAt('  SRV = tok', 'SRV'), 8);
    assert.equal(setCookieValueAt('SRVX=tok', 'SRV'), -1);
    assert.equal(setCookieValueAt('srv=tok', 'SRV'), -1);
    assert.equal(setCookieValueAt('SRV', 'SRV'), -1);
    assert.equal(setCookieValueAt('SRV=1', ''), -1);
  });

  it('builds the value byte for byte', () => {
    assert.equal(buildSetCookie('SRV', 'tok'), 'SRV=tok; Path=/');
    assert.equal(
      buildSetCookie('SRV', 'tok', { maxAgeSec: 3600, httpOnly: true, secure: true, sameSite: 'Lax' }),
      'SRV=tok; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax',
    );
    assert.equal(
      buildSetCookie('SRV', 'tok', { path: '/app', domain: '.example.org', maxAgeSec: 1.9, sameSite: 'None', secure: true }),
      'SRV=tok; Path=/app; Domain=.example.org; Max-Age=1; Secure; SameSite=None',
    );
    assert.equal(buildSetCookie('SRV', 'tok', { maxAgeSec: -5, sameSite: 'Strict' }), 'SRV=tok; Path=/; Max-Age=0; SameSite=Strict');
    assert.equal(buildSetCookie('SRV', 'tok', { maxAgeSec: Number.NaN, httpOnly: false }), 'SRV=tok; Path=/');
  });

  it('builds what it reads back', () => {
    const s = buildSetCookie('SRV', 'tok', { domain: 'example.org', maxAgeSec: 60, httpOnly: true });
    const p = parseSetCookie(s);
    assert.equal(p?.name, 'SRV');
    assert.equal(p?.value, 'tok');
    assert.deepEqual(p?.attributes.map((a) => a.name), ['Path', 'Domain', 'Max-Age', 'HttpOnly']);
  });
});

describe('syntax checks', () => {
  it('names and values', () => {
    assert.equal(isCookieName('YOKE_SERVER'), true);
    assert.equal(isCookieName('a b'), false);
    assert.equal(isCookieName('a=b'), false);
    assert.equal(isCookieName(''), false);
    assert.equal(isCookieValue('abc-_~'), true);
    assert.equal(isCookieValue('"abc"'), true);
    assert.equal(isCookieValue(''), true);
    assert.equal(isCookieValue('a b'), false);
    assert.equal(isCookieValue('a;b'), false);
    assert.equal(isCookieValue('a,b'), false);
    assert.equal(isCookieValue('"a'), false);
    assert.equal(unquote('"abc"'), 'abc');
    assert.equal(unquote('"'), '"');
    assert.equal(unquote('abc'), 'abc');
  });
});

// Pairs drawn from the shapes clients send, including the awkward ones.
const NAME = fc.constantFrom('a', 'b', 'Y', 'YY', 'y', 'JSESSIONID');
const VALUE = fc.stringMatching(/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e =]{0,12}$/).map((v) => v.trim());
const WS = fc.constantFrom('', ' ', '  ', '\t');
const PAIR = fc.tuple(WS, NAME, WS, VALUE, WS).map(([w1, n, w2, v, w3]) => ({ n, text: `${w1}${n}${w2}=${v}${w3}` }));
const HEADER = fc.array(PAIR, { maxLength: 8 });

describe('properties', () => {
  it('arbitrary strings never throw', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ maxLength: 4 }), (h, n) => {
      findCookie(h, n);
      findCookie([h, h], n, () => false);
      removeCookie(h, n);
      removeCookie([h, h], n);
      parseSetCookie(h);
      setCookieValueAt(h, n);
      cookieValueEnd(h, cookieValueAt(h, n));
      isCookieName(h);
      isCookieValue(h);
    }), { numRuns: 1000 });
  });

  it('removing a cookie keeps every other pair byte for byte, in order', () => {
    fc.assert(fc.property(HEADER, (pairs) => {
      const header = pairs.map((p) => p.text).join(';');
      const out = removeCookie(header, 'Y');
      const rest = pairs.filter((p) => p.n !== 'Y');
      if (rest.length === 0) { assert.equal(out, undefined); return; }
      assert.ok(out !== undefined);
      // The pairs kept are the input's, exactly, in order; only the first may lose its leading spaces.
      const segments = out.split(';');
      assert.equal(segments.length, rest.length);
      segments.forEach((s, k) => {
        const want = (rest[k] as { text: string }).text;
        assert.ok(s === want || (k === 0 && s === want.trimStart()), `${JSON.stringify(s)} vs ${JSON.stringify(want)}`);
      });
      assert.equal(findCookie(out, 'Y'), undefined);
      for (const n of ['a', 'b', 'YY', 'y', 'JSESSIONID']) assert.equal(findCookie(out, n), findCookie(header, n));
    }), { numRuns: 1000 });
  });

  it('findCookie finds the first pair of a name, as generated', () => {
    fc.assert(fc.property(HEADER, NAME, (pairs, n) => {
      const header = pairs.map((p) => p.text).join(';');
      const first = pairs.find((p) => p.n === n);
      const want = first === undefined ? undefined : first.text.slice(first.text.indexOf('=') + 1).trim();
      assert.equal(findCookie(header, n), want);
    }), { numRuns: 1000 });
  });
});
