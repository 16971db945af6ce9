import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import type { ErrorCode } from '../../core/errors.ts';
import type { Fault, Segment } from './positions.ts';
import { CONFIG_SCHEMA } from './schema.ts';
import { VALUE_FORMATS, formatFault, type ValueFormat } from './values.ts';

type Later = string | Readonly<Record<string, string>>;

const ajv = new Ajv({ allErrors: true, verbose: true, discriminator: true, strictTypes: false });
ajv.addVocabulary(['x-code', 'x-hint']);
ajv.addKeyword({
  keyword: 'x-later',
  schemaType: ['string', 'object'],
  // A string refuses the key wherever it appears; an object refuses only the values it names.
  validate: (later: Later, data: unknown) => typeof later === 'object' && !(typeof data === 'string' && Object.hasOwn(later, data)),
});
for (const [name, { type }] of Object.entries(VALUE_FORMATS)) {
  const ok = (value: string | number): boolean => formatFault(name as ValueFormat, value) === undefined;
  ajv.addFormat(name, type === 'number' ? { type, validate: ok } : { type, validate: ok });
}
const validate = ajv.compile(CONFIG_SCHEMA);

/** Validates parsed YAML against the schema and returns every fault, each aimed at the key or value to blame. */
export function schemaFaults(data: unknown): Fault[] {
  if (validate(data)) return [];
  return (validate.errors ?? []).flatMap((e) => {
    const f = describe(e);
    return f ? [f] : [];
  });
}

/** `/services/0/listen` → ['services', 0, 'listen'] (JSON Pointer, RFC 6901). */
function pathOf(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => (/^\d+$/.test(s) ? Number(s) : s.replaceAll('~1', '/').replaceAll('~0', '~')));
}

/** The path as an operator reads it: `services[0].servers[1].weight`. */
export function label(path: readonly Segment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('') || 'the config';
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping', array: 'a list', string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false',
};

function shown(data: unknown): string {
  if (data === null) return 'nothing (the value is empty)';
  if (Array.isArray(data)) return 'a list';
  if (typeof data === 'object') return 'a mapping';
  if (typeof data === 'string') return `the string "${data}"`;
  return String(data);
}

function describe(e: ErrorObject): Fault | undefined {
  const path = pathOf(e.instancePath);
  const schema = (e.parentSchema ?? {}) as SchemaObject;
  const at = label(path);
  const code: ErrorCode = schema['x-code'] ?? 'E_CONFIG_INVALID';
  const value = (message: string, c: ErrorCode = code): Fault => ({ path, aim: 'value', code: c, message: `${at}: ${message}` });
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const near = closest(key, Object.keys(schema['properties'] ?? {}));
      const hint = near ? ` (did you mean "${near}"?)` : '';
      return { path: [...path, key], aim: 'key', code: 'E_CONFIG_INVALID', message: `unknown key "${key}" in ${at}${hint}` };
    }
    case 'required':
      return value(`the required key "${String(params['missingProperty'])}" is missing`, 'E_CONFIG_INVALID');
    case 'x-later': {
      const later = e.schema as Later;
      const message = typeof later === 'string' ? later : later[String(e.data)] ?? '';
      return { path, aim: typeof later === 'string' ? 'key' : 'value', code: 'E_NOT_SUPPORTED', message };
    }
    case 'discriminator': {
      // A missing type is reported by `required`; here the type is there but unknown.
      if (params['tagValue'] === undefined) return undefined;
      const types = (schema['oneOf'] as SchemaObject[]).flatMap((s) => s['properties'].type.enum as string[]);
      return { path: [...path, 'type'], aim: 'value', code, message: `${at}.type: ${shown(params['tagValue'])} is not a check type: use one of ${types.join(', ')}` };
    }
    case 'format': {
      const fault = formatFault(params['format'] as ValueFormat, e.data);
      return value(fault?.detail ?? `not a valid ${String(params['format'])}`, fault?.code);
    }
    case 'type': {
      // A number where a duration or address belongs (`timeout: 300`): the value's own parser says what to write.
      const format = schema['format'] as ValueFormat | undefined;
      const scalar = typeof e.data === 'number' || typeof e.data === 'boolean';
      const fault = format && scalar ? formatFault(format, String(e.data)) : undefined;
      if (fault) return value(fault.detail, fault.code);
      if (path.length === 0 && e.data === null) return { path, aim: 'value', code, message: 'the config is empty: it needs at least a services list' };
      return value(`expected ${TYPE_WORDS[String(params['type'])] ?? String(params['type'])}, not ${shown(e.data)}`);
    }
    case 'enum': {
      const later = (schema['x-later'] ?? {}) as Later;
      const allowed = (e.schema as unknown[]).filter((v) => !(typeof later === 'object' && Object.hasOwn(later, String(v))));
      return value(`${shown(e.data)} is not one of ${allowed.join(', ')}`);
    }
    case 'minimum':
    case 'maximum':
      return value(`${String(e.data)} is out of range ${String(schema['minimum'])}..${String(schema['maximum'])}`);
    case 'pattern':
      return value(`${shown(e.data)} is not valid: write ${String(schema['x-hint'])}`);
    case 'minItems':
      return value('the list is empty: give at least one entry');
    case 'minLength':
      return value('the value is empty');
    case 'uniqueItems':
      return value(`the list repeats an entry (items ${String(params['j'])} and ${String(params['i'])})`);
    default:
      return value(e.message ?? `fails ${e.keyword}`);
  }
}

/** The known key nearest to a misspelt one (edit distance at most 2, or a third of its length), if any. */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}
