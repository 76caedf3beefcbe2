import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodePayload, GENESIS_HASH, linkHash } from '../../audit/hash-chain.js';
import type { Store } from '../store.js';
import { TS, type WithStore } from './harness.js';

/** Audit log behaviour shared by every backend. */
export function auditCases(name: string, withStore: WithStore): void {
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
}

function pickVerify(result: { ok: boolean; records: number }) {
  return { ok: result.ok, records: result.records };
}
