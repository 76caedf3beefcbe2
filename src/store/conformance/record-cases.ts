import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ActionRecord, type ApprovalRecord, StoreConflictError, StoreNotFoundError } from '../store.js';
import { TS, type WithStore } from './harness.js';

/** Approval and action record behaviour shared by every backend. */
export function recordCases(name: string, withStore: WithStore): void {
  describe(`${name} store: approvals and actions`, () => {
    test(
      'create then get returns the same approval; list filters by status',
      withStore(async (store) => {
        await store.approvals.create(approval('ap1', 'pending', TS));
        await store.approvals.create(approval('ap2', 'approved', '2026-01-01T00:00:00.000Z'));
        assert.deepEqual(await store.approvals.get('ap1'), approval('ap1', 'pending', TS));
        assert.equal(await store.approvals.get('nope'), undefined);
        assert.deepEqual(
          (await store.approvals.list()).map((a) => a.id),
          ['ap2', 'ap1'],
        );
        assert.deepEqual(
          (await store.approvals.list({ status: 'pending' })).map((a) => a.id),
          ['ap1'],
        );
        assert.deepEqual(
          (await store.approvals.list({ limit: 1 })).map((a) => a.id),
          ['ap2'],
        );
        assert.deepEqual(
          (await store.approvals.list({ order: 'desc', limit: 1 })).map((a) => a.id),
          ['ap1'],
        );
      }),
    );

    test(
      'create on an existing id is a conflict and leaves the record alone',
      withStore(async (store) => {
        await store.approvals.create(approval('ap1', 'pending', TS));
        await assert.rejects(store.approvals.create(approval('ap1', 'denied', TS)), StoreConflictError);
        await store.actions.create(action('x1'));
        await assert.rejects(store.actions.create(action('x1')), StoreConflictError);
        assert.equal((await store.approvals.get('ap1'))?.status, 'pending');
      }),
    );

    test(
      'update changes the record; a throwing change writes nothing; a missing id is not found',
      withStore(async (store) => {
        await store.approvals.create(approval('ap1', 'pending', TS));
        const vote = { approver: 'alice', role: 'ops', vote: 'approve' as const, at: TS, channel: 'cli' };
        const updated = await store.approvals.update('ap1', (a) => ({
          ...a,
          votes: [...a.votes, vote],
          status: 'approved',
        }));
        assert.deepEqual(updated.votes, [vote]);
        assert.deepEqual(await store.approvals.get('ap1'), updated);
        await assert.rejects(
          store.approvals.update('ap1', () => {
            throw new Error('veto');
          }),
          /veto/,
        );
        assert.deepEqual(await store.approvals.get('ap1'), updated);
        await assert.rejects(
          store.approvals.update('nope', (a) => a),
          StoreNotFoundError,
        );
        await store.actions.create(action('x1'));
        const done = await store.actions.update('bot', 'x1', (a) => ({
          ...a,
          status: 'completed',
          result: { rows: 3 },
        }));
        assert.deepEqual(await store.actions.get('bot', 'x1'), done);
        await assert.rejects(
          store.actions.update('bot', 'x2', (a) => a),
          StoreNotFoundError,
        );
      }),
    );

    test(
      'an action id is scoped to its agent: another agent may use it, and each reads its own',
      withStore(async (store) => {
        await store.actions.create(action('x1'));
        await store.actions.create({ ...action('x1'), agent: 'other', status: 'allowed' });
        await assert.rejects(store.actions.create(action('x1')), StoreConflictError);
        assert.equal((await store.actions.get('bot', 'x1'))?.status, 'pending');
        assert.equal((await store.actions.get('other', 'x1'))?.status, 'allowed');
        assert.equal(await store.actions.get('nobody', 'x1'), undefined);
        await store.actions.update('other', 'x1', (a) => ({ ...a, status: 'completed' }));
        assert.equal((await store.actions.get('bot', 'x1'))?.status, 'pending');
        assert.deepEqual((await store.actions.find('x1')).map((a) => [a.agent, a.status]).sort(), [
          ['bot', 'pending'],
          ['other', 'completed'],
        ]);
        assert.deepEqual(await store.actions.find('x9'), []);
      }),
    );

    test(
      'list finds actions by status, and by agent',
      withStore(async (store) => {
        await store.actions.create({ ...action('a1'), status: 'allowed' });
        await store.actions.create({ ...action('a2'), agent: 'other', status: 'allowed' });
        await store.actions.create(action('a3'));
        await store.actions.update('bot', 'a3', (a) => ({ ...a, status: 'allowed' }));
        await store.actions.update('bot', 'a1', (a) => ({ ...a, status: 'completed' }));
        assert.deepEqual(
          (await store.actions.list({ status: 'allowed' })).map((a) => `${a.agent}/${a.id}`),
          ['other/a2', 'bot/a3'],
        );
        assert.deepEqual(
          (await store.actions.list({ status: 'allowed', agent: 'bot' })).map((a) => a.id),
          ['a3'],
        );
        assert.deepEqual(
          (await store.actions.list({ status: 'allowed', limit: 1 })).map((a) => a.id),
          ['a2'],
        );
      }),
    );

    test(
      'an action created with its approval request stores both, or neither on a conflict',
      withStore(async (store) => {
        await store.actions.create({ ...action('x1'), approvalId: 'ap1' }, approval('ap1', 'pending', TS));
        assert.equal((await store.approvals.get('ap1'))?.status, 'pending');
        assert.equal((await store.actions.get('bot', 'x1'))?.approvalId, 'ap1');
        // The approval id is taken: the action is not stored either.
        await assert.rejects(
          store.actions.create({ ...action('x2'), approvalId: 'ap1' }, approval('ap1', 'pending', TS)),
          StoreConflictError,
        );
        assert.equal(await store.actions.get('bot', 'x2'), undefined);
        // The action exists: the request is not stored either.
        await assert.rejects(
          store.actions.create({ ...action('x1'), approvalId: 'ap2' }, approval('ap2', 'pending', TS)),
          StoreConflictError,
        );
        assert.equal(await store.approvals.get('ap2'), undefined);
      }),
    );
  });
}

const base = {
  action: { agent: 'bot', type: 'payment.send', params: { amount: 5 }, id: 'act-1' },
  decision: { id: 'd1', effect: 'ask' as const, risk: 'high' as const, reasons: [] },
};

function approval(id: string, status: ApprovalRecord['status'], createdAt: string): ApprovalRecord {
  return {
    ...base,
    id,
    actionId: 'act-1',
    agent: 'bot',
    digest: 'ab'.repeat(32),
    required: 1,
    roles: ['ops'],
    status,
    votes: [],
    createdAt,
    expiresAt: '2099-01-01T00:00:00.000Z',
  };
}

function action(id: string): ActionRecord {
  return { ...base, id, agent: 'bot', status: 'pending', createdAt: TS, updatedAt: TS };
}
