import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeepalived, type Statement } from '../../../services/config/keepalived/parse.ts';
import { conf, memoryReader } from './helpers.ts';

/** A statement tree as nested arrays: `keyword args…` strings, blocks as arrays after them. */
function tree(list: readonly Statement[]): unknown[] {
  return list.flatMap((s) => {
    const head = [s.keyword, ...s.args.map((a) => a.text)].join(' ');
    return s.block === undefined ? [head] : [head, tree(s.block)];
  });
}

function parse(text: string, files: Record<string, string> = {}) {
  return parseKeepalived(text, '/k/keepalived.conf', memoryReader(files));
}

describe('keepalived parser', () => {
  it('nests blocks and keeps each statement\'s arguments', () => {
    const r = parse(conf('virtual_server 10.0.0.1 80 {', '  real_server 10.0.0.2 80 {', '    TCP_CHECK { connect_timeout 3 }', '  }', '  lb_algo rr', '}'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(tree(r.statements), ['virtual_server 10.0.0.1 80', ['real_server 10.0.0.2 80', ['TCP_CHECK', ['connect_timeout 3']], 'lb_algo rr']]);
  });

  it('opens the block of the line before when `{` stands alone (the older layout)', () => {
    const r = parse(conf('global_defs', '{', '  router_id x', '}'));
    assert.deepEqual(tree(r.statements), ['global_defs', ['router_id x']]);
  });

  it('places every statement at its file, line and column', () => {
    const [vs] = parse(conf('', '  virtual_server 1.2.3.4 80 {', '}')).statements;
    assert.deepEqual([vs?.at, vs?.args[1]?.at], [{ file: '/k/keepalived.conf', line: 2, col: 3 }, { file: '/k/keepalived.conf', line: 2, col: 26 }]);
  });

  it('reports a block that is never closed at the keyword that opened it', () => {
    const r = parse(conf('global_defs {', '}', 'virtual_server 1.2.3.4 80 {', '  real_server 1.2.3.5 80 {', '  }'));
    assert.deepEqual(r.problems.map((p) => `${p.line}:${p.col} ${p.code} ${p.message}`), [
      '3:1 E_KEEPALIVED_SYNTAX the block of `virtual_server` opened here is not closed: add its `}`',
    ]);
  });

  it('reports a `}` with nothing open at its line and column', () => {
    const r = parse(conf('global_defs {', '}', '}', 'x'));
    assert.deepEqual(r.problems.map((p) => `${p.line}:${p.col} ${p.message}`), ['3:1 unbalanced `}`: no block is open here']);
    assert.deepEqual(tree(r.statements), ['global_defs', [], 'x']);
  });

  it('reports a `{` with no keyword before it', () => {
    const r = parse(conf('{', '}'));
    assert.deepEqual(r.problems.map((p) => `${p.line}:${p.col} ${p.code}`), ['1:1 E_KEEPALIVED_SYNTAX']);
  });

  it('splices included files in place, relative to the including file, with their own positions', () => {
    const r = parse(conf('global_defs {', '  include defs.conf', '}', 'include vs/*.conf'), {
      '/k/defs.conf': 'router_id a\n',
      '/k/vs/b.conf': 'virtual_server 10.0.0.2 80 {\n}\n',
      '/k/vs/a.conf': 'include ../more/c.conf\n',
      '/k/more/c.conf': 'virtual_server 10.0.0.1 80 {\n}\n',
    });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(tree(r.statements), ['global_defs', ['router_id a'], 'virtual_server 10.0.0.1 80', [], 'virtual_server 10.0.0.2 80', []]);
    assert.deepEqual(r.statements[1]?.at, { file: '/k/more/c.conf', line: 1, col: 1 });
  });

  it('reports problems inside an included file at that file\'s lines', () => {
    const r = parse('include a.conf\n', { '/k/a.conf': '\nvirtual_server 1.2.3.4 80 {\n' });
    assert.deepEqual(r.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.code}`), ['/k/a.conf:2:1 E_KEEPALIVED_SYNTAX']);
  });

  it('warns when a pattern matches nothing, and fails when a named file cannot be read', () => {
    const r = parse(conf('include none/*.conf', 'include missing.conf'));
    assert.deepEqual(r.problems.map((p) => `${p.line}:${p.col} ${p.code} ${p.severity}`), ['1:9 E_CONFIG_READ warning', '2:9 E_CONFIG_READ error']);
  });

  it('refuses an include loop instead of recursing', () => {
    const r = parse('include a.conf\n', { '/k/a.conf': 'include b.conf\n', '/k/b.conf': 'include a.conf\n' });
    assert.deepEqual(r.problems.map((p) => `${p.file}:${p.line} ${p.code}`), ['/k/b.conf:1 E_KEEPALIVED_SYNTAX']);
  });

  it('reports an include without a file', () => {
    assert.deepEqual(parse('include\n').problems.map((p) => p.message), ['include: give the file (or glob pattern) to include']);
  });
});
