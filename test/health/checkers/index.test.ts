import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createChecker } from '../../../core/health/checkers/index.ts';
import { ExecChecker } from '../../../core/health/checkers/exec.ts';
import { HttpChecker } from '../../../core/health/checkers/http.ts';
import { SmtpChecker } from '../../../core/health/checkers/smtp.ts';
import { TcpChecker } from '../../../core/health/checkers/tcp.ts';
import { UdpChecker } from '../../../core/health/checkers/udp.ts';
import { common } from './helpers.ts';

test('createChecker picks the checker by type', () => {
  const c = common();
  assert.ok(createChecker({ ...c, type: 'tcp', send: undefined, expect: undefined }) instanceof TcpChecker);
  for (const type of ['http', 'https'] as const) {
    assert.ok(createChecker({ ...c, type, urls: [], host: undefined, verify: false, ca: undefined }) instanceof HttpChecker);
  }
  assert.ok(createChecker({ ...c, type: 'smtp', helo: undefined }) instanceof SmtpChecker);
  assert.ok(createChecker({ ...c, type: 'udp', send: undefined, expect: undefined, requireReply: false }) instanceof UdpChecker);
  assert.ok(createChecker({ ...c, type: 'exec', command: 'true', dynamic: false }) instanceof ExecChecker);
});
