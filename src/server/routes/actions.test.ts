import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Submissions } from '../../pipeline/submissions.js';
import { createWarden, type Warden } from '../../pipeline/warden.js';
import { policyFromObject } from '../../policy/load.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import { openSqliteStore } from '../../store/sqlite/sqlite-store.js';
import type { Store } from '../../store/store.js';
import { testWarden } from '../../testing/index.js';
import { createApp } from '../app.js';
import { TokenRegistry } from '../tokens.js';

const T = {
  admin: 'admin-token-0123456789',
  viewer: 'viewer-token-0123456789',
  reader: 'reader-agent-0123456789',
  other: 'other-agent-0123456789',
  payer: 'payer-agent-0123456789',
  payer2: 'payer2-agent-0123456789',
};
const POLICY = {
  agents: {
    reader: { allow: ['fs.read'], resources: { paths: ['/data/**'] } },
    other: { allow: ['fs.read'], resources: { paths: ['/data/**'] } },
    payer: { allow: ['payment.*'] },
    payer2: { allow: ['payment.*'] },
  },
  approvals: { timeout: '10m' },
};

function appFor(warden: Warden) {
  const tokens = new TokenRegistry([]);
  tokens.register(T.admin, { name: 'root', role: 'admin' });
  tokens.register(T.viewer, { name: 'vic', role: 'viewer' });
  for (const agent of ['reader', 'other', 'payer', 'payer2'] as const) {
    tokens.register(T[agent], { name: `${agent}-bot`, role: 'agent', agent });
  }
  const app = createApp(warden, tokens);
  return async <B = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) => {
    const r = await app.request(path, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as B & { error?: { code: string; message: string } } };
  };
}

type View = { id: string; status: string; approvalId?: string; decision: { reasons: { code: string }[] } };
const read = (agent: string, id?: string) => ({
  ...(id === undefined ? {} : { id }),
  agent,
  type: 'fs.read',
  params: { path: '/data/a.txt' },
});
const pay = (agent: string, id: string) => ({
  id,
  agent,
  type: 'payment.send',
  params: { amount: 10, currency: 'EUR', to: 'acme' },
});

describe('action ids are scoped to the agent that chose them', () => {
  let warden: Warden;
  let call: ReturnType<typeof appFor>;
  before(async () => {
    warden = await testWarden(POLICY);
    call = appFor(warden);
  });
  after(() => warden.close());

  test('an id another agent already used is not a conflict, and each agent reads and reports only its own action', async () => {
    const a = await call<View>('POST', '/v1/actions', T.reader, read('reader', 'job-1'));
    assert.deepEqual([a.status, a.body.status, a.body.id], [200, 'allowed', 'job-1']);
    const b = await call<View>('POST', '/v1/actions', T.other, read('other', 'job-1'));
    assert.deepEqual([b.status, b.body.status, b.body.id], [200, 'allowed', 'job-1'], JSON.stringify(b.body));

    // `other` reporting `job-1` reports its own action, not `reader`'s.
    const done = await call<View>('POST', '/v1/actions/job-1/result', T.other, { status: 'completed' });
    assert.deepEqual([done.status, done.body.status], [200, 'completed']);
    const mine = await call<View>('GET', '/v1/actions/job-1', T.reader);
    assert.deepEqual([mine.status, mine.body.status], [200, 'allowed']);
    assert.equal(
      (await call('POST', '/v1/actions/job-1/result', T.reader, { status: 'failed' })).status,
      200,
    );

    // The audit tells the two actions apart by agent.
    const audit = await warden.store.audit.query({ actionId: 'job-1' });
    const decisions = audit.filter((r) => r.type === 'decision').map((r) => r.agent);
    assert.deepEqual(decisions.sort(), ['other', 'reader']);
    const results = audit.filter((r) => r.type === 'result').map((r) => [r.agent, r.data.status]);
    assert.deepEqual(results.sort(), [
      ['other', 'completed'],
      ['reader', 'failed'],
    ]);
  });

  test("an agent cannot reach another agent's action by its id", async () => {
    const a = await call<View>('POST', '/v1/actions', T.reader, read('reader', 'only-reader-1'));
    assert.equal(a.body.status, 'allowed');
    const seen = await call('GET', '/v1/actions/only-reader-1', T.other);
    assert.deepEqual([seen.status, seen.body.error?.code], [404, 'action.not-found']);
    const reported = await call('POST', '/v1/actions/only-reader-1/result', T.other, { status: 'completed' });
    assert.deepEqual([reported.status, reported.body.error?.code], [404, 'action.not-found']);
    const still = await call<View>('GET', '/v1/actions/only-reader-1', T.reader);
    assert.equal(still.body.status, 'allowed');
  });

  test('a viewer names the agent when two agents used the same id', async () => {
    await call('POST', '/v1/actions', T.reader, read('reader', 'twice-1'));
    await call('POST', '/v1/actions', T.other, read('other', 'twice-1'));
    await call('POST', '/v1/actions/twice-1/result', T.other, { status: 'completed' });
    const ambiguous = await call('GET', '/v1/actions/twice-1', T.viewer);
    assert.deepEqual([ambiguous.status, ambiguous.body.error?.code], [409, 'action.ambiguous-id']);
    assert.match(ambiguous.body.error?.message ?? '', /\?agent=/);
    const named = await call<View>('GET', '/v1/actions/twice-1?agent=other', T.viewer);
    assert.deepEqual([named.status, named.body.status], [200, 'completed']);
    const single = await call<View>('POST', '/v1/actions', T.reader, read('reader'));
    const one = await call<View>('GET', `/v1/actions/${single.body.id}`, T.viewer);
    assert.deepEqual([one.status, one.body.status], [200, 'allowed']);
  });

  test('two agents asking for approval under the same id get separate requests', async () => {
    const a = await call<View>('POST', '/v1/actions', T.payer, pay('payer', 'inv-1'));
    const b = await call<View>('POST', '/v1/actions', T.payer2, pay('payer2', 'inv-1'));
    assert.deepEqual([a.status, b.status], [202, 202], JSON.stringify(b.body));
    assert.notEqual(a.body.approvalId, b.body.approvalId);
    const again = await call('POST', '/v1/actions', T.payer, pay('payer', 'inv-1'));
    assert.deepEqual([again.status, again.body.error?.code], [409, 'action.duplicate-id']);
    // The refused resubmission leaves no second decision under the agent's id.
    const decisions = (await warden.store.audit.query({ actionId: 'inv-1', type: 'decision' })).map(
      (r) => r.agent,
    );
    assert.deepEqual(decisions.sort(), ['payer', 'payer2']);
  });
});

/** A store whose next `actions.create` fails like a process killed at that moment. */
function crashOnActionRow(store: Store): Store {
  const create = store.actions.create.bind(store.actions);
  let armed = true;
  store.actions.create = async (...args: Parameters<typeof create>) => {
    if (armed) {
      armed = false;
      throw new Error('simulated crash before the action row was written');
    }
    return create(...args);
  };
  return store;
}

describe('a crash while an ask is being stored leaves no orphaned approval request', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-orphan-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['memory', 'sqlite'] as const) {
    test(`${kind}: nothing is left to approve, and the id can be submitted again`, async () => {
      const store = kind === 'memory' ? new MemoryStore() : await openSqliteStore(join(dir, 'w.db'));
      const warden = await createWarden({ policy: policyFromObject(POLICY), store: crashOnActionRow(store) });
      try {
        const submissions = new Submissions(warden);
        await assert.rejects(submissions.submit(pay('payer', `crash-${kind}`)), /simulated crash/);
        assert.deepEqual(
          await warden.approvals.list('pending'),
          [],
          'no approvable request without its action',
        );
        const again = await submissions.submit(pay('payer', `crash-${kind}`));
        assert.equal(again.status, 'pending');
        assert.equal((await submissions.status(again.id, 'payer')).status, 'pending');
        assert.equal((await warden.approvals.list('pending')).length, 1);
      } finally {
        await warden.close();
        await store.close();
      }
    });
  }
});

describe('a kill withdraws actions that were allowed but not yet reported', () => {
  let warden: Warden;
  let call: ReturnType<typeof appFor>;
  before(async () => {
    warden = await testWarden(POLICY, { approvalSweepMs: 50 });
    call = appFor(warden);
  });
  after(() => warden.close());

  for (const scope of ['agent', 'all'] as const) {
    test(`killing ${scope === 'all' ? 'all agents' : 'the agent'}: it reads denied and a late result is refused with 409 action.withdrawn`, async () => {
      const a = await call<View>('POST', '/v1/actions', T.reader, read('reader'));
      assert.equal(a.body.status, 'allowed');
      const kill = scope === 'all' ? '/v1/kill-all' : '/v1/agents/reader/kill';
      assert.equal((await call('POST', kill, T.admin, { reason: 'drill' })).status, 200);
      const code = scope === 'all' ? 'killswitch.all-killed' : 'killswitch.agent-killed';
      const seen = await call<View>('GET', `/v1/actions/${a.body.id}`, T.reader);
      assert.deepEqual([seen.body.status, seen.body.decision.reasons[0]?.code], ['denied', code]);
      const late = await call('POST', `/v1/actions/${a.body.id}/result`, T.reader, { status: 'completed' });
      assert.deepEqual([late.status, late.body.error?.code], [409, 'action.withdrawn']);
      const audit = await warden.store.audit.query({ actionId: a.body.id });
      assert.deepEqual(
        audit.map((r) => r.type),
        ['decision', 'action.withdrawn'],
      );
      const revive = scope === 'all' ? '/v1/revive-all' : '/v1/agents/reader/revive';
      assert.equal((await call('POST', revive, T.admin, {})).status, 200);
      // Revived, the withdrawn action stays withdrawn.
      const after = await call<View>('GET', `/v1/actions/${a.body.id}`, T.reader);
      assert.equal(after.body.status, 'denied');
    });
  }

  test('another agent’s allowed action is left alone', async () => {
    const mine = await call<View>('POST', '/v1/actions', T.other, read('other'));
    assert.equal((await call('POST', '/v1/agents/reader/kill', T.admin, { reason: 'drill' })).status, 200);
    const seen = await call<View>('GET', `/v1/actions/${mine.body.id}`, T.other);
    assert.equal(seen.body.status, 'allowed');
    assert.equal(
      (await call('POST', `/v1/actions/${mine.body.id}/result`, T.other, { status: 'completed' })).status,
      200,
    );
    assert.equal((await call('POST', '/v1/agents/reader/revive', T.admin, {})).status, 200);
  });
});

describe('a kill made by another process sharing the store withdraws the action too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-kill-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the serving process withdraws it on its own, and refuses the late result', async () => {
    const file = join(dir, 'shared.db');
    const options = { killPollMs: 20, approvalSweepMs: 50 };
    const storeA = await openSqliteStore(file);
    const storeB = await openSqliteStore(file);
    const serving = await createWarden({ policy: policyFromObject(POLICY), store: storeA, ...options });
    const operator = await createWarden({ policy: policyFromObject(POLICY), store: storeB, ...options });
    try {
      const call = appFor(serving);
      const a = await call<View>('POST', '/v1/actions', T.reader, read('reader'));
      assert.equal(a.body.status, 'allowed');
      await operator.kills.kill('reader', 'ops', 'drill in another process');
      // Nobody asks the serving process anything: its own sweep sees the kill and withdraws.
      const deadline = Date.now() + 5000;
      let status = (await storeA.actions.get('reader', a.body.id))?.status;
      while (status === 'allowed' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        status = (await storeA.actions.get('reader', a.body.id))?.status;
      }
      assert.equal(status, 'denied');
      const late = await call('POST', `/v1/actions/${a.body.id}/result`, T.reader, { status: 'completed' });
      assert.deepEqual([late.status, late.body.error?.code], [409, 'action.withdrawn']);
    } finally {
      await serving.close();
      await operator.close();
      await storeA.close();
      await storeB.close();
    }
  });
});

describe('a result is recorded exactly once, even when its report is cut short', () => {
  let warden: Warden;
  let call: ReturnType<typeof appFor>;
  before(async () => {
    warden = await testWarden(POLICY);
    call = appFor(warden);
  });
  after(() => warden.close());

  test('two reports of one action at once: one is accepted, the other refused, one result record', async () => {
    const a = await call<View>('POST', '/v1/actions', T.reader, read('reader'));
    const both = await Promise.all([
      call('POST', `/v1/actions/${a.body.id}/result`, T.reader, { status: 'completed' }),
      call('POST', `/v1/actions/${a.body.id}/result`, T.reader, { status: 'failed', error: 'x' }),
    ]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 409]);
    const results = await warden.store.audit.query({ type: 'result', actionId: a.body.id });
    assert.equal(results.length, 1);
  });

  test('a crash after the result record, before the row: the retry completes the row without a second record', async () => {
    const a = await call<View>('POST', '/v1/actions', T.reader, read('reader'));
    // What a crashed report leaves: the result on record, the row still `allowed`.
    await warden.audit.append({
      type: 'result',
      agent: 'reader',
      actionId: a.body.id,
      data: { status: 'completed', reportedBy: 'agent' },
    });
    const retry = await call<View>('POST', `/v1/actions/${a.body.id}/result`, T.reader, {
      status: 'completed',
    });
    assert.deepEqual([retry.status, retry.body.status], [200, 'completed']);
    const results = await warden.store.audit.query({ type: 'result', actionId: a.body.id });
    assert.equal(results.length, 1);
  });
});
