import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers/cli.js';

const tmp = tempDir();
const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  tmp.remove();
});

const ALICE = 'alice-approver-token-0123456789';

test('warden serve cancels the orphaned approval requests an older version left after a crash, says so, and refuses votes on them', async () => {
  const db = join(tmp.dir, 'warden.db');
  const store = await openSqliteStore(db);
  await store.audit.append([
    { type: 'decision', agent: 'cleaner', actionId: 'act_old_1', data: { effect: 'ask' } },
  ]);
  await store.close();
  // As the code before the one-transaction write left it: the request stored, the action row never.
  const raw = new Database(db);
  const now = new Date().toISOString();
  const request = {
    id: 'apr_old_1',
    actionId: 'act_old_1',
    agent: 'cleaner',
    digest: '0'.repeat(64),
    action: { id: 'act_old_1', agent: 'cleaner', type: 'fs.delete', params: { path: '/tmp/x' } },
    decision: { id: 'act_old_1', effect: 'ask', risk: 'high', reasons: [] },
    required: 1,
    roles: ['approver', 'admin'],
    status: 'pending',
    votes: [],
    createdAt: now,
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  };
  raw
    .prepare('INSERT INTO approvals (id, status, created_at, record) VALUES (?, ?, ?, ?)')
    .run(request.id, 'pending', now, JSON.stringify(request));
  raw.close();

  const policy = join(tmp.dir, 'warden.yaml');
  writeFileSync(
    policy,
    'agents:\n  cleaner:\n    allow: [fs.delete]\n    resources: { paths: ["/tmp/**"] }\n',
  );
  const tokens = join(tmp.dir, 'tokens.json');
  writeFileSync(tokens, JSON.stringify({ tokens: [{ name: 'alice', role: 'approver', token: ALICE }] }));
  const child = spawnCli(['serve', '--policy', policy, '--db', db, '--tokens', tokens, '--port', '0']);
  children.push(child);
  const output: string[] = [];
  child.stdout.on('data', (d: Buffer) => output.push(String(d)));
  const [, url] = await waitForLine(child, /listening on (http:\/\/\S+)/, 60_000);
  assert.match(output.join(''), /recovered 1 orphaned approval request\b/);

  const vote = await fetch(`${url}/v1/approvals/apr_old_1/approve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(vote.status, 409);
  const body = (await vote.json()) as { error?: { code?: string } };
  assert.equal(body.error?.code, 'approval.not-pending');

  child.kill('SIGKILL');
  const audit = await runCli(['audit', 'tail', '--type', 'approval.cancelled', '--json', '--db', db]);
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(audit.stdout, /"code":"approval\.orphaned"/);
  const verify = await runCli(['audit', 'verify', '--db', db]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});
