// Turns a parsed RFC 4515 filter (l7/ldap/filter.ts) into ldapts's filter objects, so the directory never goes
// through ldapts's string parser: that one reads `\c3\a9` as two Latin-1 characters and re-encodes them, which would
// send a UTF-8 name as different bytes.
import {
  AndFilter, ApproximateFilter, EqualityFilter, ExtensibleFilter, GreaterThanEqualsFilter, LessThanEqualsFilter,
  NotFilter, OrFilter, PresenceFilter, SubstringFilter, type Filter,
} from 'ldapts';
import type { FilterNode } from '../../l7/ldap/filter.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** ldapts sends every value but equality's as a string, so those must be UTF-8; throws a TypeError when one is not. */
function text(bytes: Uint8Array): string {
  return strictUtf8.decode(bytes);
}

/** The ldapts filter for a parsed filter; equality values go as raw bytes. Throws when a non-equality value is not UTF-8. */
export function toLdapts(node: FilterNode): Filter {
  switch (node.type) {
    case 'and': return new AndFilter({ filters: node.children.map(toLdapts) });
    case 'or': return new OrFilter({ filters: node.children.map(toLdapts) });
    case 'not': return new NotFilter({ filter: toLdapts(node.child) });
    case 'equal': return new EqualityFilter({ attribute: node.attr, value: Buffer.from(node.value) });
    case 'approx': return new ApproximateFilter({ attribute: node.attr, value: text(node.value) });
    case 'ge': return new GreaterThanEqualsFilter({ attribute: node.attr, value: text(node.value) });
    case 'le': return new LessThanEqualsFilter({ attribute: node.attr, value: text(node.value) });
    case 'present': return new PresenceFilter({ attribute: node.attr });
    case 'substring': return new SubstringFilter({
      attribute: node.attr,
      ...(node.initial ? { initial: text(node.initial) } : {}),
      any: node.any.map(text),
      ...(node.final ? { final: text(node.final) } : {}),
    });
    case 'extensible': return new ExtensibleFilter({
      ...(node.attr !== undefined ? { matchType: node.attr } : {}),
      ...(node.rule !== undefined ? { rule: node.rule } : {}),
      dnAttributes: node.dn,
      value: text(node.value),
    });
  }
}
