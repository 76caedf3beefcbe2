import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { actionDigest } from '../../src/approvals/approvals.js';
import type { Warden } from '../../src/pipeline/warden.js';
import { createApp } from '../../src/server/app.js';
import { TokenRegistry } from '../../src/server/tokens.js';
import type { ApprovalRecord } from '../../src/store/store.js';
import { testWarden } from '../../src/testing/index.js';

const T = {
  admin: 'admin-token-0123456789',
  alice: 'alice-approver-0123456789',
  carol: 'carol-approver-0123456789',
  viewer: 'viewer-token-0123456789',
  payer: 'payer-agent-0123456789',
  cleaner: 'cleaner-agent-0123456789',
};

let warden: Warden;
let app: ReturnType<typeof createApp>;

before(async () => {
  warden = await testWarden(
    {
      agents: {
        payer: { allow: ['payment.*'] },
        cleaner: { allow: ['fs.delete'], resources: { paths: ['/tmp/**'] } },
      },
      approvals: { timeout: '10m' },
    },
    { approvalSweepMs: 50 },
  );
  const tokens = new TokenRegistry([]);
  tokens.register(T.admin, { name: 'root', role: 'admin' });
  tokens.register(T.alice, { name: 'alice', role: 'approver' });
  tokens.register(T.carol, { name: 'carol', role: 'approver' });
  tokens.register(T.viewer, { name: 'vic', role: 'viewer' });
  tokens.register(T.payer, { name: 'payer-bot', role: 'agent', agent: 'payer' });
  tokens.register(T.cleaner, { name: 'cleaner-bot', role: 'agent', agent: 'cleaner' });
  app = createApp(warden, tokens);
});
after(() => warden.close());

async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  token: string,
  body?: unknown,
) {
  const r = await app.request(path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: (await r.json()) as T & { error?: { code: string; message: string } } };
}

let n = 0;
const payment = (amount = 120) => ({
  id: `act_pay_${++n}`,
  agent: 'payer',
  type: 'payment.send',
  params: { amount, currency: 'EUR', to: 'acme' },
});
const del = () => ({ id: `act_del_${++n}`, agent: 'cleaner', type: 'fs.delete', params: { path: '/tmp/x' } });

async function submit(action: Record<string, unknown>, token: string) {
  const r = await call<{ id: string; status: string; approvalId: string }>(
    'POST',
    '/v1/actions',
    token,
    action,
  );
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body;
}
const vote = (id: string, token: string, body: Record<string, unknown> = {}, v = 'approve') =>
  call<{ approval: ApprovalRecord }>('POST', `/v1/approvals/${id}/${v}`, token, body);
const status = async (id: string, token = T.payer) =>
  (
    await call<{ status: string; decision: { reasons: Array<{ code: string }> } }>(
      'GET',
      `/v1/actions/${id}`,
      token,
    )
  ).body;
async function auditTypes(actionId: string) {
  await warden.audit.flush();
  const r = await call<{ records: Array<{ type: string; actor?: string; data: Record<string, unknown> }> }>(
    'GET',
    `/v1/audit?actionId=${actionId}`,
    T.viewer,
  );
  return r.body.records;
}

describe('M-of-N over HTTP', () => {
  test('a two-approver payment is not released by one approver, the same one twice, or the agent; two distinct approvers release it', async () => {
    const s = await submit(payment(), T.payer);
    assert.equal((await vote(s.approvalId, T.payer)).status, 403, 'the agent token cannot vote');
    assert.equal((await vote(s.approvalId, T.viewer)).status, 403, 'a viewer cannot vote');
    assert.equal((await vote(s.approvalId, T.alice)).status, 200);
    assert.equal((await status(s.id)).status, 'pending', 'one approval of two');
    const twice = await vote(s.approvalId, T.alice);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error?.code, 'approval.duplicate-vote');
    assert.equal((await status(s.id)).status, 'pending', 'the same approver twice is still one');
    assert.equal((await vote(s.approvalId, T.carol)).status, 200);
    const released = await status(s.id);
    assert.equal(released.status, 'allowed');
    assert.equal(released.decision.reasons[0]?.code, 'approval.granted');
    const votes = (await auditTypes(s.id)).filter((r) => r.type === 'approval.vote');
    assert.deepEqual(
      votes.map((v) => [v.actor, v.data.channel]),
      [
        ['alice', 'api'],
        ['carol', 'api'],
      ],
    );
  });

  test('the user on whose behalf the agent acts cannot approve', async () => {
    const s = await submit({ ...payment(), user: 'alice' }, T.payer);
    const r = await vote(s.approvalId, T.alice);
    assert.equal(r.status, 403);
    assert.equal(r.body.error?.code, 'approval.self-approval');
  });
});

describe('binding and replay', () => {
  test('a vote carrying the digest of a different action fails and counts nothing', async () => {
    const s = await submit(del(), T.cleaner);
    const other = actionDigest({ type: 'fs.delete', params: { path: '/tmp/other' } });
    const r = await vote(s.approvalId, T.alice, { digest: other });
    assert.equal(r.status, 409);
    assert.equal(r.body.error?.code, 'approval.digest-mismatch');
    assert.equal((await status(s.id, T.cleaner)).status, 'pending');
    const right = actionDigest({ type: 'fs.delete', params: { path: '/tmp/x' } });
    assert.equal((await vote(s.approvalId, T.alice, { digest: right })).status, 200);
    assert.equal((await status(s.id, T.cleaner)).status, 'allowed');
  });

  test('replaying an approval fails: the vote again, and the same action submitted again needs a new approval', async () => {
    const first = await submit(del(), T.cleaner);
    assert.equal((await vote(first.approvalId, T.carol)).status, 200);
    const replay = await vote(first.approvalId, T.carol);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.error?.code, 'approval.not-pending');
    const replayOther = await vote(first.approvalId, T.alice);
    assert.equal(replayOther.body.error?.code, 'approval.not-pending');

    const again = await submit({ ...del(), id: `act_again_${n}` }, T.cleaner);
    assert.notEqual(again.approvalId, first.approvalId);
    assert.equal(
      (await status(again.id, T.cleaner)).status,
      'pending',
      'an earlier approval does not carry over',
    );
    const dup = await call('POST', '/v1/actions', T.cleaner, { ...del(), id: first.id });
    assert.equal(dup.status, 409, 'an action id cannot be submitted twice');
  });
});

describe('cancel, kill and expiry', () => {
  test('the agent cancels its own request; the action is denied with approval.cancelled and later votes fail', async () => {
    const s = await submit(del(), T.cleaner);
    assert.equal(
      (await call('POST', `/v1/approvals/${s.approvalId}/cancel`, T.payer, {})).status,
      404,
      'not its request',
    );
    assert.equal((await call('POST', `/v1/approvals/${s.approvalId}/cancel`, T.alice, {})).status, 403);
    const c = await call<{ approval: ApprovalRecord }>(
      'POST',
      `/v1/approvals/${s.approvalId}/cancel`,
      T.cleaner,
      {
        reason: 'no longer needed',
      },
    );
    assert.equal(c.status, 200);
    assert.equal(c.body.approval.status, 'cancelled');
    const st = await status(s.id, T.cleaner);
    assert.deepEqual([st.status, st.decision.reasons[0]?.code], ['denied', 'approval.cancelled']);
    assert.equal((await vote(s.approvalId, T.alice)).body.error?.code, 'approval.not-pending');
    const cancelled = (await auditTypes(s.id)).find((r) => r.type === 'approval.cancelled');
    assert.equal(cancelled?.actor, 'cleaner-bot');
  });

  test('killing an agent cancels its pending requests, so a late approval cannot release them', async () => {
    const s = await submit(del(), T.cleaner);
    assert.equal((await call('POST', '/v1/agents/cleaner/kill', T.admin, { reason: 'runaway' })).status, 200);
    const st = await status(s.id, T.cleaner);
    assert.deepEqual([st.status, st.decision.reasons[0]?.code], ['denied', 'approval.cancelled']);
    assert.equal((await vote(s.approvalId, T.alice)).status, 409);
    assert.equal((await call('POST', '/v1/agents/cleaner/revive', T.admin, {})).status, 200);
  });

  test('an overdue request is expired by the sweeper and audited even when nobody waits; the API says expired', async () => {
    const action = { ...del(), id: `act_expire_${n}` };
    const { decision } = await warden.decide(action);
    await warden.approvals.request({ ...action, params: { path: '/tmp/x' } }, decision, 100);
    const deadline = Date.now() + 5000;
    let records = await auditTypes(action.id);
    while (!records.some((r) => r.type === 'approval.expired') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      records = await auditTypes(action.id);
    }
    assert.ok(
      records.some((r) => r.type === 'approval.expired'),
      'approval.expired was audited by the sweeper',
    );
    const list = await call<{ approvals: ApprovalRecord[] }>('GET', '/v1/approvals?status=expired', T.viewer);
    assert.ok(list.body.approvals.some((a) => a.actionId === action.id));
    const one = await call<{ approval: ApprovalRecord }>(
      'GET',
      `/v1/approvals/apr_${action.id.slice(4)}`,
      T.viewer,
    );
    assert.equal(one.body.approval.status, 'expired');
  });

  test('a submitted action whose approval times out reads as expired, denied with approval.expired', async () => {
    const short = await testWarden(
      {
        agents: { cleaner: { allow: ['fs.delete'], resources: { paths: ['/tmp/**'] } } },
        approvals: { timeout: '200ms' },
      },
      { approvalSweepMs: 50 },
    );
    try {
      const tokens = new TokenRegistry([]);
      tokens.register(T.cleaner, { name: 'cleaner-bot', role: 'agent', agent: 'cleaner' });
      const a = createApp(short, tokens);
      const headers = { authorization: `Bearer ${T.cleaner}`, 'content-type': 'application/json' };
      const s = (await (
        await a.request('/v1/actions', { method: 'POST', headers, body: JSON.stringify(del()) })
      ).json()) as {
        id: string;
      };
      const waited = (await (await a.request(`/v1/actions/${s.id}?wait=5s`, { headers })).json()) as {
        status: string;
        decision: { effect: string; reasons: Array<{ code: string }> };
      };
      assert.deepEqual(
        [waited.status, waited.decision.effect, waited.decision.reasons[0]?.code],
        ['expired', 'deny', 'approval.expired'],
      );
    } finally {
      await short.close();
    }
  });
});

describe('long-poll', () => {
  test('GET /v1/actions/{id}?wait=30s returns as soon as the request is approved', async () => {
    const s = await submit(del(), T.cleaner);
    const waiting = call<{ status: string }>('GET', `/v1/actions/${s.id}?wait=30s`, T.cleaner);
    let settled = false;
    void waiting.then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(settled, false, 'still waiting while pending');
    await vote(s.approvalId, T.alice);
    const r = await waiting;
    assert.equal(r.body.status, 'allowed');
  });

  test('a wait that is not a duration is a 400 naming the parameter', async () => {
    const s = await submit(del(), T.cleaner);
    const r = await call('GET', `/v1/actions/${s.id}?wait=soon`, T.cleaner);
    assert.equal(r.status, 400);
    assert.match(r.body.error?.message ?? '', /`wait`/);
  });
});

describe('run() and its caller', () => {
  test('a caller that aborts while waiting cancels its request: denied with approval.cancelled, and a later vote fails', async () => {
    const controller = new AbortController();
    let requested: ApprovalRecord | undefined;
    const running = warden.run(del(), () => 'deleted', {
      signal: controller.signal,
      onApprovalRequested: (r) => {
        requested = r;
        setTimeout(() => controller.abort(), 20);
      },
    });
    const result = await running;
    assert.equal(result.status, 'denied');
    assert.equal(result.reason?.code, 'approval.cancelled');
    assert.equal(result.approval?.status, 'cancelled');
    assert.ok(requested);
    assert.equal((await vote(requested.id, T.alice)).body.error?.code, 'approval.not-pending');
  });
});
