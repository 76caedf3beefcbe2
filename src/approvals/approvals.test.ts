import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Warden } from '../pipeline/warden.js';
import type { PolicyInput } from '../policy/schema.js';
import type { ApprovalRecord } from '../store/store.js';
import { recordingExecutor, testWarden } from '../testing/index.js';
import { CallbackChannel } from './approval-channel.js';
import { ApprovalError, actionDigest } from './approvals.js';

const policy: PolicyInput = {
  agents: {
    payer: { allow: ['payment.*'] },
    cleaner: { allow: ['fs.delete'], resources: { paths: ['/tmp/**'] } },
  },
  approvals: { timeout: '10m', roles: ['approver', 'admin'], financialRequired: 2 },
};
const pay = {
  agent: 'payer',
  user: 'bob',
  type: 'payment.send',
  params: { amount: 120, currency: 'USD', to: 'acme' },
};

const wardens: Warden[] = [];
after(async () => {
  for (const w of wardens) await w.close();
});

/** A Warden whose approval channel hands each request to the test. */
async function withRequests(p: PolicyInput = policy) {
  const requests: ApprovalRecord[] = [];
  let notify: (() => void) | undefined;
  const channel = new CallbackChannel((r) => {
    requests.push(r);
    notify?.();
  });
  const warden = await testWarden(p, { channels: [channel] });
  wardens.push(warden);
  const next = () =>
    new Promise<ApprovalRecord>((resolve) => {
      if (requests.length > 0) return resolve(requests.shift() as ApprovalRecord);
      notify = () => resolve(requests.shift() as ApprovalRecord);
    });
  return { warden, next };
}

async function rejects(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (e: unknown) => e instanceof ApprovalError && e.code === code);
}

describe('approval gates', () => {
  test('a two-approver payment is released only by two distinct approvers, then runs once', async () => {
    const { warden, next } = await withRequests();
    const exec = recordingExecutor({ paid: true });
    const running = warden.run(pay, exec);
    const request = await next();
    assert.equal(request.required, 2);

    const first = await warden.approvals.vote({
      id: request.id,
      approver: 'alice',
      role: 'approver',
      vote: 'approve',
      channel: 'test',
    });
    assert.equal(first.status, 'pending');
    await rejects(
      warden.approvals.vote({
        id: request.id,
        approver: 'alice',
        role: 'approver',
        vote: 'approve',
        channel: 'test',
      }),
      'approval.duplicate-vote',
    );
    await rejects(
      warden.approvals.vote({
        id: request.id,
        approver: 'payer',
        role: 'approver',
        vote: 'approve',
        channel: 'test',
      }),
      'approval.self-approval',
    );
    await rejects(
      warden.approvals.vote({
        id: request.id,
        approver: 'bob',
        role: 'admin',
        vote: 'approve',
        channel: 'test',
      }),
      'approval.self-approval',
    );
    await rejects(
      warden.approvals.vote({
        id: request.id,
        approver: 'eve',
        role: 'viewer',
        vote: 'approve',
        channel: 'test',
      }),
      'approval.role-not-allowed',
    );
    assert.equal(exec.calls.length, 0, 'nothing runs before the second approval');

    const second = await warden.approvals.vote({
      id: request.id,
      approver: 'carol',
      role: 'admin',
      vote: 'approve',
      channel: 'test',
    });
    assert.equal(second.status, 'approved');
    const result = await running;
    assert.equal(result.status, 'completed');
    assert.equal(result.decision.effect, 'allow');
    assert.equal(result.decision.reasons[0]?.code, 'approval.granted');
    assert.equal(exec.calls.length, 1);

    await rejects(
      warden.approvals.vote({
        id: request.id,
        approver: 'dave',
        role: 'admin',
        vote: 'approve',
        channel: 'test',
      }),
      'approval.not-pending',
    );
    const votes = await warden.store.audit.query({ type: 'approval.vote' });
    assert.deepEqual(
      votes.map((v) => v.actor),
      ['alice', 'carol'],
    );
  });

  test('a vote carrying the digest of a different action is refused', async () => {
    const { warden, next } = await withRequests();
    const running = warden.run(pay, recordingExecutor('x'));
    const request = await next();
    const edited = actionDigest({ type: 'payment.send', params: { ...pay.params, amount: 99999 } });
    await rejects(
      warden.approvals.vote({
        id: request.id,
        approver: 'alice',
        role: 'admin',
        vote: 'approve',
        channel: 'test',
        digest: edited,
      }),
      'approval.digest-mismatch',
    );
    await warden.approvals.vote({
      id: request.id,
      approver: 'alice',
      role: 'admin',
      vote: 'deny',
      channel: 'test',
      comment: 'not this month',
    });
    const result = await running;
    assert.equal(result.status, 'denied');
    assert.equal(result.reason?.code, 'approval.denied');
    assert.match(result.reason?.message ?? '', /not this month/);
  });

  test('a request that times out is reported as expired and the action denied', async () => {
    const { warden, next } = await withRequests({ ...policy, approvals: { timeout: '100ms' } });
    const exec = recordingExecutor('x');
    const running = warden.run({ agent: 'cleaner', type: 'fs.delete', params: { path: '/tmp/a' } }, exec);
    const request = await next();
    const result = await running;
    assert.equal(result.status, 'denied');
    assert.equal(result.reason?.code, 'approval.expired');
    assert.equal((await warden.approvals.get(request.id))?.status, 'expired');
    assert.equal((await warden.store.audit.query({ type: 'approval.expired' })).length, 1);
    await rejects(
      warden.approvals.vote({
        id: request.id,
        approver: 'alice',
        role: 'admin',
        vote: 'approve',
        channel: 'test',
      }),
      'approval.not-pending',
    );
    assert.equal(exec.calls.length, 0);
  });

  test('a kill while waiting for approval denies the action', async () => {
    const { warden, next } = await withRequests();
    const running = warden.run(pay, recordingExecutor('x'));
    await next();
    await warden.kills.kill('payer', 'oncall', 'suspicious payments');
    const result = await running;
    assert.equal(result.status, 'denied');
    assert.equal(result.reason?.code, 'killswitch.agent-killed');
  });
});
