import assert from 'node:assert/strict';
import { it } from 'node:test';
import { yoke } from '../helpers/daemon.ts';

it('./yoke demo (the README\'s first command) shows round robin, persistence, a drain and a failure with recovery, then stops cleanly with --once', async () => {
  const r = await yoke(['demo', '--once'], { YOKE_LOG_PRETTY: '0' }, 'script');
  assert.equal(r.code, 0, r.stderr);
  const line = (prefix: string) => r.stdout.split('\n').find((l) => l.startsWith(prefix)) ?? '';
  const servers = (l: string) => l.split('->')[1]!.trim().split(/\s+/).filter((w) => w.startsWith('demo-server-'));
  assert.deepEqual(servers(line('1. round robin')), ['demo-server-1', 'demo-server-2', 'demo-server-3', 'demo-server-1', 'demo-server-2', 'demo-server-3']);
  assert.equal(new Set(servers(line('2. persistence'))).size, 1);
  assert.ok(!servers(line('3. drain')).includes('demo-server-2'));
  assert.equal(servers(line('3. drain')).length, 6);
  const failure = line('4. failure');
  assert.match(failure, /demo-server-3 stopped; out of the pool after \d+ ms \((passive|failed check)/);
  assert.deepEqual([...new Set(servers(failure))].sort(), ['demo-server-1', 'demo-server-2']);
  const recovered = r.stdout.split('\n').find((l) => l.includes('restarted; back after')) ?? '';
  assert.match(recovered, /\(2 good checks\)/);
  assert.deepEqual([...new Set(servers(recovered))].sort(), ['demo-server-1', 'demo-server-2', 'demo-server-3']);
});
