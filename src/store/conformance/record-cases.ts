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
        const done = await store.actions.update('x1', (a) => ({
          ...a,
          status: 'completed',
          result: { rows: 3 },
        }));
        assert.deepEqual(await store.actions.get('x1'), done);
        await assert.rejects(
          store.actions.update('x2', (a) => a),
          StoreNotFoundError,
        );
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
