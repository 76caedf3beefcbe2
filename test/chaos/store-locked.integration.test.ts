import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers/cli.js';
import {
  api,
  chaosFiles,
  checkStore,
  kill9,
  newAcked,
  type Served,
  serve,
  verifyChain,
} from './chaos-helpers.js';

const tmp = tempDir('warden-chaos-lock-');
const servers: Served[] = [];
after(async () => {
  for (const s of servers) await kill9(s.child);
  tmp.remove();
});

const AGENT = 'chaos-agent-token-0123456789abcdef';
const ALICE = 'chaos-alice-token-0123456789abcdef';

test('while another process holds the store locked, decisions deny with a reason naming the store (no hang, no 500), and service resumes when it lets go', async () => {
  const { policy, tokens } = chaosFiles(
    tmp.dir,
    [
      { name: 'bot', role: 'agent', agent: 'bot', token: AGENT },
      { name: 'alice', role: 'approver', token: ALICE },
    ],
    'approvals:\n  timeout: 10m\n',
  );
  const db = join(tmp.dir, 'warden.db');
  const server = await serve(['--policy', policy, '--db', db, '--tokens', tokens]);
  servers.push(server);
  const acked = newAcked();
  const read = (n: number) => ({ agent: 'bot', type: 'fs.read', params: { path: `/data/${n}` } });
  const before = await api(server.url, 'POST', '/v1/actions', AGENT, read(0));
  assert.equal(before.body.status, 'allowed');
  acked.decisions.set(String(before.body.id), { agent: 'bot', status: 'allowed' });
  const asked = await api(server.url, 'POST', '/v1/actions', AGENT, {
    agent: 'bot',
    type: 'fs.delete',
    params: { path: '/data/old' },
  });
  assert.equal(asked.status, 202);
  acked.decisions.set(String(asked.body.id), { agent: 'bot', status: 'pending' });

  const holder = new Database(db);
  holder.exec('BEGIN EXCLUSIVE');
  const outcomes: string[] = [];
  try {
    // Each answer comes once the store's busy timeout (5 s) has passed, not never.
    const answers = await Promise.all(
      [1, 2, 3].map((n) =>
        api(server.url, 'POST', '/v1/actions', AGENT, read(n), AbortSignal.timeout(60_000)),
      ),
    );
    for (const r of answers) {
      outcomes.push(`${r.status} ${String(r.body.status)}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, 'denied');
      const reason = (r.body.decision as { reasons: { code: string; message: string }[] }).reasons[0];
      assert.equal(reason?.code, 'record.unavailable', JSON.stringify(reason));
      assert.match(reason?.message ?? '', /lock|busy/i, 'the reason says the store is locked');
    }
    const vote = await api(
      server.url,
      'POST',
      `/v1/approvals/${String(asked.body.approvalId)}/approve`,
      ALICE,
      {},
      AbortSignal.timeout(60_000),
    );
    assert.equal(vote.status, 503, JSON.stringify(vote.body));
    assert.equal((vote.body.error as { code?: string }).code, 'store.unavailable');
  } finally {
    holder.exec('COMMIT');
    holder.close();
  }

  const after = await api(server.url, 'POST', '/v1/actions', AGENT, read(4));
  assert.equal(after.body.status, 'allowed', 'service resumes once the lock is released');
  acked.decisions.set(String(after.body.id), { agent: 'bot', status: 'allowed' });
  const vote = await api(
    server.url,
    'POST',
    `/v1/approvals/${String(asked.body.approvalId)}/approve`,
    ALICE,
    {},
  );
  assert.equal(vote.status, 200, JSON.stringify(vote.body));

  const check = checkStore(db, acked);
  assert.deepEqual(check.lost, []);
  assert.deepEqual(check.orphans, []);
  await kill9(server.child);
  assert.deepEqual(await verifyChain(db), [], 'the audit chain verifies');
  process.stdout.write(
    `chaos store-locked: locked=${outcomes.length} outcomes=${[...new Set(outcomes)].join('|')} acked=${check.acked} found=${check.found} lost=0 orphans=0 verify=ok\n`,
  );
});
