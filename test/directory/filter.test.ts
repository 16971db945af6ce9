// RFC 4515 filters: escaping byte by byte, template checks, the strict parser, and properties that no user name can
// change a filter's structure (the rendered filter parses back to the template's tree with the name's exact bytes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FilterParser, EqualityFilter } from 'ldapts';
import { checkFilterTemplate, escapeFilterValue, parseFilter, renderFilter, type FilterNode } from '../../l7/ldap/filter.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

function parsed(text: string): FilterNode {
  const r = parseFilter(text);
  assert.equal(r.kind, 'ok', r.kind === 'malformed' ? r.reason : '');
  return (r as { filter: FilterNode }).filter;
}

describe('escapeFilterValue', () => {
  it('escapes the four specials and NUL as \\xx (RFC 4515 section 3)', () => {
    assert.equal(escapeFilterValue('*'), '\\2a');
    assert.equal(escapeFilterValue('('), '\\28');
    assert.equal(escapeFilterValue(')'), '\\29');
    assert.equal(escapeFilterValue('\\'), '\\5c');
    assert.equal(escapeFilterValue('\0'), '\\00');
    assert.equal(escapeFilterValue('x)(uid=*'), 'x\\29\\28uid=\\2a');
    assert.equal(escapeFilterValue('*)(|(objectClass=*'), '\\2a\\29\\28|\\28objectClass=\\2a');
  });

  it('writes every byte of a non-ASCII character as \\xx of its UTF-8', () => {
    assert.equal(escapeFilterValue('josé'), 'jos\\c3\\a9');
    assert.equal(escapeFilterValue('€'), '\\e2\\82\\ac');
    assert.equal(escapeFilterValue('😀'), '\\f0\\9f\\98\\80');
    assert.equal(escapeFilterValue('Zoë Ünal'), 'Zo\\c3\\ab \\c3\\9cnal');
  });

  it('escapes control bytes and DEL, keeps printable ASCII and space as they are', () => {
    assert.equal(escapeFilterValue('a\r\nb\x7f'), 'a\\0d\\0ab\\7f');
    assert.equal(escapeFilterValue('alice.smith-1@example.org {x} ~=<>&|!'), 'alice.smith-1@example.org {x} ~=<>&|!');
  });

  it('maps each of the 128 ASCII bytes either to itself or to its own escape', () => {
    for (let b = 0; b < 128; b++) {
      const ch = String.fromCharCode(b);
      const e = escapeFilterValue(ch);
      const special = b < 0x20 || b === 0x7f || '*()\\'.includes(ch);
      assert.equal(e, special ? `\\${b.toString(16).padStart(2, '0')}` : ch, `byte ${b}`);
    }
  });
});

describe('checkFilterTemplate', () => {
  it('accepts the usual templates', () => {
    for (const t of ['(uid={user})', '(&(objectClass=inetOrgPerson)(uid={user}))', '(|(uid={user})(mail={user}))',
      '(mail={user}@example.org)', '(cn=*{user}*)', '(uid:caseExactMatch:={user})', '(!(uid={user}))']) {
      assert.deepEqual(checkFilterTemplate(t), { ok: true }, t);
    }
  });

  it('refuses a template without {user}', () => {
    const r = checkFilterTemplate('(uid=alice)');
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /must contain \{user\}/);
  });

  it('refuses unbalanced parentheses', () => {
    for (const t of ['(uid={user}', 'uid={user})', '(&(uid={user})', '(uid={user}))(']) {
      const r = checkFilterTemplate(t);
      assert.equal(r.ok, false, t);
      assert.match((r as { reason: string }).reason, /parentheses/, t);
    }
  });

  it('refuses {user} where a name would become syntax (attribute, matching rule) and malformed filters', () => {
    for (const t of ['({user}=x)', '(uid:{user}:=x)', 'uid={user}', '(uid={user})(cn=x)', '(&)', '(uid=\\zz{user})', '(uid={user}\\)']) {
      assert.equal(checkFilterTemplate(t).ok, false, t);
    }
  });
});

describe('parseFilter', () => {
  it('reads each kind of item with values as bytes', () => {
    assert.deepEqual(parsed('(uid=jos\\c3\\a9)'), { type: 'equal', attr: 'uid', value: utf8('josé') });
    assert.deepEqual(parsed('(uid=josé)'), { type: 'equal', attr: 'uid', value: utf8('josé') });
    assert.deepEqual(parsed('(uid=)'), { type: 'equal', attr: 'uid', value: bytes() });
    assert.deepEqual(parsed('(mailHost=*)'), { type: 'present', attr: 'mailHost' });
    assert.deepEqual(parsed('(cn=a*b*c)'), { type: 'substring', attr: 'cn', initial: utf8('a'), any: [utf8('b')], final: utf8('c') });
    assert.deepEqual(parsed('(cn=*\\2a*)'), { type: 'substring', attr: 'cn', initial: undefined, any: [utf8('*')], final: undefined });
    assert.deepEqual(parsed('(n>=5)'), { type: 'ge', attr: 'n', value: utf8('5') });
    assert.deepEqual(parsed('(n<=5)'), { type: 'le', attr: 'n', value: utf8('5') });
    assert.deepEqual(parsed('(cn~=al)'), { type: 'approx', attr: 'cn', value: utf8('al') });
    assert.deepEqual(parsed('(cn;lang-en=x)'), { type: 'equal', attr: 'cn;lang-en', value: utf8('x') });
    assert.deepEqual(parsed('(2.5.4.3=x)'), { type: 'equal', attr: '2.5.4.3', value: utf8('x') });
    assert.deepEqual(parsed('(uid:dn:caseExactMatch:=x)'), { type: 'extensible', attr: 'uid', dn: true, rule: 'caseExactMatch', value: utf8('x') });
    assert.deepEqual(parsed('(:2.5.13.5:=x)'), { type: 'extensible', attr: undefined, dn: false, rule: '2.5.13.5', value: utf8('x') });
    assert.deepEqual(parsed('(!(&(a=1)(|(b=2)(c=3))))'), {
      type: 'not', child: { type: 'and', children: [{ type: 'equal', attr: 'a', value: utf8('1') },
        { type: 'or', children: [{ type: 'equal', attr: 'b', value: utf8('2') }, { type: 'equal', attr: 'c', value: utf8('3') }] }] },
    });
  });

  it('reports where malformed text breaks, never throwing', () => {
    for (const [text, at] of [['(uid=a)b', 7], ['(uid=a', 6], ['(uid=\\4)', 6], ['(=a)', 1], ['(u id=a)', 2], ['(cn=a**b)', 6], ['(uid=a\0)', 6], ['', 0]] as const) {
      const r = parseFilter(text);
      assert.equal(r.kind, 'malformed', text);
      assert.equal((r as { at: number }).at, at, `${JSON.stringify(text)}: ${(r as { reason: string }).reason}`);
    }
  });
});

/** The tree with every value replaced by its hex, so trees compare structurally in assert messages. */
function shape(n: FilterNode): unknown {
  const hex = (v: Uint8Array | undefined): string | undefined => v && Buffer.from(v).toString('hex');
  switch (n.type) {
    case 'and': case 'or': return { type: n.type, children: n.children.map(shape) };
    case 'not': return { type: 'not', child: shape(n.child) };
    case 'present': return n;
    case 'substring': return { ...n, initial: hex(n.initial), any: n.any.map(hex), final: hex(n.final) };
    default: return { ...n, value: hex(n.value) };
  }
}

const TEMPLATES = ['(uid={user})', '(&(objectClass=inetOrgPerson)(|(uid={user})(mail={user})))', '(cn=x{user}y*z)', '(!(uid:caseExactMatch:={user}))', '(n>={user})'];
// Names stressing the syntax: the specials, NUL and controls, non-ASCII and astral characters, filter-shaped text.
const nameChar = fc.oneof(fc.constantFrom('*', '(', ')', '\\', '\0', '=', '&', '|', '!', ':', '~', '<', '>', ' ', '{', '}', 'é', '€', '😀', '\\2a'),
  fc.string({ unit: 'grapheme', maxLength: 1 }), fc.string({ unit: 'binary', maxLength: 1 }));
const userName = fc.array(nameChar, { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
const SENTINEL = 'SENTINELxyz';

describe('no user name changes a filter\'s structure', () => {
  it('renders to a filter that parses to the template\'s tree, the name\'s UTF-8 standing where {user} stood', () => {
    fc.assert(fc.property(fc.constantFrom(...TEMPLATES), userName, (template, user) => {
      const got = parseFilter(renderFilter(template, user));
      assert.equal(got.kind, 'ok');
      // Expected: the template with a plain sentinel, its bytes then swapped for the name's in the hex shape.
      const expected = JSON.stringify(shape(parsed(renderFilter(template, SENTINEL))))
        .replaceAll(Buffer.from(SENTINEL).toString('hex'), Buffer.from(new TextEncoder().encode(user)).toString('hex'));
      assert.equal(JSON.stringify(shape((got as { filter: FilterNode }).filter)), expected);
    }), { numRuns: 2000 });
  });

  it('an escaped name holds only printable ASCII other than * ( ) and every backslash starts a \\xx', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (user) => {
      const e = escapeFilterValue(user);
      assert.match(e, /^(?:[\x20-\x27\x2b-\x5b\x5d-\x7e]|\\[0-9a-f]{2})*$/);
    }), { numRuns: 2000 });
  });

  it('the parser never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('(', ')', '&', '|', '!', '=', '*', '\\', 'a', '1', ':', '~', '>', '<', ';', '.', 'é', '\0') , maxLength: 30 }), (text) => {
      const r = parseFilter(text);
      assert.ok(r.kind === 'ok' || (r.kind === 'malformed' && r.at >= 0 && r.at <= text.length));
    }), { numRuns: 5000 });
  });

  it('agrees with ldapts\'s own parser on ASCII names (one equality item holding exactly the name)', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('*', '(', ')', '\\', '=', 'a', 'b', ' ', '|', '&'), minLength: 1, maxLength: 12 }), (user) => {
      const f = FilterParser.parseString(renderFilter('(uid={user})', user));
      assert.ok(f instanceof EqualityFilter);
      assert.equal(f.value, user);
    }), { numRuns: 1000 });
  });
});
