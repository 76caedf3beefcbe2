import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodePayload, GENESIS_HASH, linkHash } from '../audit/hash-chain.js';
import {
  type ActionRecord,
  type ApprovalRecord,
  type KillState,
  type Store,
  StoreConflictError,
  StoreNotFoundError,
} from './store.js';

const TS = '2026-01-02T03:04:05.000Z';

/**
 * Registers the behaviour every `Store` backend must share (SPEC §7). Each backend's test file
 * calls it with a factory that opens a fresh, empty store.
 *
 * @example
 * storeConformance('memory', async () => new MemoryStore());
 */
export function storeConformance(name: string, open: () => Promise<Store>): void {
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  describe(`${name} store: audit`, () => {
    test(
      'numbers records from 1 and chains them by the shared hash rule',
      withStore(async (store) => {
        const [first] = await store.audit.append([
          { type: 'decision', agent: 'bot', data: { n: 1 }, ts: TS },
        ]);
        const [second] = await store.audit.append([{ type: 'result', actor: 'ops', data: { n: 2 }, ts: TS }]);
        const h1 = linkHash(
          GENESIS_HASH,
          encodePayload({ v: 1, seq: 1, ts: TS, type: 'decision', agent: 'bot', data: { n: 1 } }),
        );
        const h2 = linkHash(
          h1,
          encodePayload({ v: 1, seq: 2, ts: TS, type: 'result', actor: 'ops', data: { n: 2 } }),
        );
        assert.deepEqual(first, {
          seq: 1,
          ts: TS,
          type: 'decision',
          agent: 'bot',
          data: { n: 1 },
          hash: h1.toString('hex'),
        });
        assert.deepEqual(second, {
          seq: 2,
          ts: TS,
          type: 'result',
          actor: 'ops',
          data: { n: 2 },
          hash: h2.toString('hex'),
        });
        assert.equal(await store.audit.count(), 2);
      }),
    );

    test(
      'stamps ts when the entry has none',
      withStore(async (store) => {
        const before = new Date().toISOString();
        const [record] = await store.audit.append([{ type: 'decision', data: {} }]);
        assert.ok(record && record.ts >= before && record.ts <= new Date().toISOString());
      }),
    );

    test(
      'a batch with an unserialisable entry stores nothing',
      withStore(async (store) => {
        await store.audit.append([{ type: 'decision', data: { ok: 1 } }]);
        await assert.rejects(
          store.audit.append([
            { type: 'decision', data: { ok: 2 } },
            { type: 'decision', data: { bad: Number.NaN } },
          ]),
          /finite/,
        );
        assert.equal(await store.audit.count(), 1);
        assert.equal((await store.audit.verify()).ok, true);
      }),
    );

    test(
      'query filters by agent, type, actionId and seq range, in either order, up to limit',
      withStore(async (store) => {
        await store.audit.append(
          Array.from({ length: 30 }, (_, i) => ({
            type: i % 2 ? 'result' : 'decision',
            agent: `a${i % 3}`,
            actionId: `act-${i % 5}`,
            data: { i },
          })),
        );
        const seqs = async (q: Parameters<Store['audit']['query']>[0]) =>
          (await store.audit.query(q)).map((r) => r.seq);
        assert.deepEqual(await seqs({ agent: 'a1', limit: 3 }), [2, 5, 8]);
        assert.deepEqual(await seqs({ type: 'result', afterSeq: 20, beforeSeq: 27 }), [22, 24, 26]);
        assert.deepEqual(await seqs({ actionId: 'act-4', order: 'desc' }), [30, 25, 20, 15, 10, 5]);
        assert.deepEqual(await seqs({ agent: 'a0', actionId: 'act-0' }), [1, 16]);
        assert.deepEqual(await seqs({ agent: 'a0', type: 'result', actionId: 'act-0' }), [16]);
        assert.deepEqual(await seqs({ order: 'desc', limit: 2 }), [30, 29]);
        assert.equal((await store.audit.query({})).length, 30);
        await assert.rejects(store.audit.query({ limit: 0 }), /`limit`/);
      }),
    );

    test(
      'an untouched log verifies and reports the newest record as its head',
      withStore(async (store) => {
        assert.deepEqual(pickVerify(await store.audit.verify()), { ok: true, records: 0 });
        const records = await store.audit.append(
          Array.from({ length: 50 }, (_, i) => ({ type: 't', data: { i } })),
        );
        const result = await store.audit.verify();
        assert.deepEqual(pickVerify(result), { ok: true, records: 50 });
        assert.equal(result.headSeq, 50);
        assert.equal(result.headHash, records.at(-1)?.hash);
      }),
    );
  });

  describe(`${name} store: kills`, () => {
    const stop = (agent: string): KillState => ({ agent, reason: 'drill', by: 'ops', at: TS });

    test(
      'kill is listed, replaces an earlier kill, and revive clears it',
      withStore(async (store) => {
        await store.kills.kill(stop('bot'));
        await store.kills.kill({ ...stop('bot'), reason: 'again' });
        await store.kills.kill(stop('*'));
        assert.deepEqual(await store.kills.list(), [stop('*'), { ...stop('bot'), reason: 'again' }]);
        assert.equal(await store.kills.revive('bot'), true);
        assert.equal(await store.kills.revive('bot'), false);
        assert.deepEqual(await store.kills.list(), [stop('*')]);
      }),
    );

    test(
      'watch reports a kill within a second and stops when asked',
      withStore(async (store) => {
        const seen: KillState[][] = [];
        const unwatch = store.kills.watch((kills) => seen.push(kills), 20);
        await store.kills.kill(stop('bot'));
        await until(() => seen.length > 0, 1000);
        assert.deepEqual(seen[0], [stop('bot')]);
        unwatch();
        await store.kills.revive('bot');
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(seen.length, 1);
      }),
    );
  });

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

function pickVerify(result: { ok: boolean; records: number }) {
  return { ok: result.ok, records: result.records };
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
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
