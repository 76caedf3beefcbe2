import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { AlertDelivery, AlertStore, DeliveryStatus } from '../../contract/alert.js';
import type { Store } from '../store.js';
import { TS, type WithReopen, type WithStore } from './harness.js';

/**
 * Alert outbox behaviour shared by every backend that keeps one (`Store.alerts` is optional: a
 * store without it gets an in-memory outbox, `MemoryAlertStore`, which the memory store runs here).
 */
export function alertCases(name: string, withStore: WithStore, withReopen: WithReopen): void {
  /** The store's outbox, or undefined after reporting the test skipped. */
  const outboxOf = (store: Store, t: TestContext): AlertStore | undefined => {
    if (!store.alerts) t.skip(`the ${name} store keeps no alert outbox`);
    return store.alerts;
  };
  const ids = (rows: readonly AlertDelivery[]) => rows.map((d) => d.id);

  describe(`${name} store: alert outbox`, () => {
    test(
      'add then list returns every delivery as written, in the order added; list filters by status and limits',
      withStore(async (store, t) => {
        const outbox = outboxOf(store, t);
        if (!outbox) return;
        const rows = [
          delivery('a', 300),
          delivery('b', 100, 'delivered'),
          delivery('c', 200),
          delivery('d', 0, 'undeliverable'),
        ];
        await outbox.add(rows);
        assert.deepEqual(await outbox.list(), rows);
        assert.deepEqual(ids(await outbox.list({ status: 'pending' })), ['a', 'c']);
        assert.deepEqual(ids(await outbox.list({ status: 'undeliverable' })), ['d']);
        assert.deepEqual(await outbox.list({ status: 'suppressed' }), []);
        assert.deepEqual(ids(await outbox.list({ limit: 2 })), ['a', 'b']);
        assert.deepEqual(ids(await outbox.list({ status: 'pending', limit: 1 })), ['a']);
      }),
    );

    test(
      'claim takes only pending deliveries that are due, oldest first, at most limit, and leases them',
      withStore(async (store, t) => {
        const outbox = outboxOf(store, t);
        if (!outbox) return;
        await outbox.add([
          delivery('late', 300),
          delivery('second', 150),
          delivery('done', 50, 'delivered'),
          delivery('first', 100),
          delivery('third', 200),
        ]);
        const first = await outbox.claim(200, 1000, 2);
        assert.deepEqual(ids(first), ['first', 'second']);
        assert.deepEqual(
          first.map((d) => d.nextAttemptAt),
          [1200, 1200],
        );
        assert.deepEqual(ids(await outbox.claim(200, 1000, 10)), ['third']);
        const leased = await outbox.list({ status: 'pending' });
        assert.deepEqual(
          leased.map((d) => [d.id, d.nextAttemptAt]),
          [
            ['late', 300],
            ['second', 1200],
            ['first', 1200],
            ['third', 1200],
          ],
        );
      }),
    );

    test(
      'a claimed delivery is not claimed again until its lease has passed',
      withStore(async (store, t) => {
        const outbox = outboxOf(store, t);
        if (!outbox) return;
        await outbox.add([delivery('x', 1000)]);
        assert.deepEqual(ids(await outbox.claim(1000, 500, 10)), ['x']);
        assert.deepEqual(await outbox.claim(1000, 500, 10), []);
        assert.deepEqual(await outbox.claim(1499, 500, 10), []);
        const again = await outbox.claim(1500, 500, 10);
        assert.deepEqual(ids(again), ['x']);
        assert.equal(again[0]?.nextAttemptAt, 2000);
      }),
    );

    test(
      'claims made at once never hand out the same delivery twice',
      withStore(async (store, t) => {
        const outbox = outboxOf(store, t);
        if (!outbox) return;
        await outbox.add(Array.from({ length: 20 }, (_, i) => delivery(`d${i}`, i)));
        const claims = await Promise.all(Array.from({ length: 4 }, () => outbox.claim(100, 60_000, 8)));
        const taken = claims.flatMap(ids).sort();
        assert.equal(taken.length, 20);
        assert.equal(new Set(taken).size, 20);
      }),
    );

    test(
      'update sets status, attempts, next attempt and last error, and stamps updatedAt; only pending rows are claimed',
      withStore(async (store, t) => {
        const outbox = outboxOf(store, t);
        if (!outbox) return;
        await outbox.add([delivery('x', 0), delivery('y', 0)]);
        await outbox.update('x', {
          status: 'pending',
          attempts: 1,
          nextAttemptAt: 5000,
          lastError: 'HTTP 500',
        });
        await outbox.update('y', { status: 'delivered', attempts: 1, nextAttemptAt: 10 });
        const [x, y] = await outbox.list();
        assert.deepEqual(
          { ...x, updatedAt: TS },
          { ...delivery('x', 5000), attempts: 1, lastError: 'HTTP 500' },
        );
        assert.notEqual(x?.updatedAt, TS);
        assert.ok(
          Math.abs(Date.parse(x?.updatedAt ?? '') - Date.now()) < 60_000,
          `updatedAt ${x?.updatedAt}`,
        );
        assert.equal(x?.createdAt, TS);
        assert.deepEqual([y?.status, y?.attempts], ['delivered', 1]);
        assert.deepEqual(await outbox.claim(4999, 1000, 10), []);
        assert.deepEqual(ids(await outbox.claim(5000, 1000, 10)), ['x']);
        assert.deepEqual(ids(await outbox.list({ status: 'delivered' })), ['y']);
        await outbox.update('x', { status: 'undeliverable', attempts: 5, nextAttemptAt: 0 });
        assert.deepEqual(await outbox.claim(Number.MAX_SAFE_INTEGER, 1000, 10), []);
        assert.deepEqual(ids(await outbox.list({ status: 'undeliverable' })), ['x']);
      }),
    );

    test(
      'what list and claim return are copies: changing them changes nothing stored',
      withStore(async (store, t) => {
        const outbox = outboxOf(store, t);
        if (!outbox) return;
        const added = delivery('x', 0);
        await outbox.add([added]);
        added.alert.title = 'tampered';
        const [claimed] = await outbox.claim(0, 1000, 10);
        const [listed] = await outbox.list();
        for (const copy of [claimed, listed]) {
          if (!copy) continue;
          copy.status = 'delivered';
          copy.alert.title = 'tampered';
        }
        assert.deepEqual(await outbox.list(), [{ ...delivery('x', 1000) }]);
      }),
    );

    test(
      'pending deliveries, leases and dead letters survive closing and reopening the store',
      withReopen(async (place, t) => {
        const store = await place.open();
        const outbox = outboxOf(store, t);
        if (!outbox) return;
        await outbox.add([delivery('leased', 0), delivery('waiting', 5000), delivery('dead', 50)]);
        assert.deepEqual(ids(await outbox.claim(100, 1000, 1)), ['leased']);
        await outbox.update('dead', {
          status: 'undeliverable',
          attempts: 5,
          nextAttemptAt: 0,
          lastError: 'HTTP 500',
        });
        const again = outboxOf(await place.reopen(store), t);
        assert.deepEqual(
          (await again?.list())?.map((d) => [d.id, d.status, d.nextAttemptAt, d.lastError]),
          [
            ['leased', 'pending', 1100, undefined],
            ['waiting', 'pending', 5000, undefined],
            ['dead', 'undeliverable', 0, 'HTTP 500'],
          ],
        );
        assert.deepEqual(await again?.claim(1099, 1000, 10), []);
        assert.deepEqual(ids((await again?.claim(5000, 1000, 10)) ?? []), ['leased', 'waiting']);
      }),
    );

    test(
      'two stores on one place never claim the same delivery',
      withReopen(async (place, t) => {
        const [a, b] = [outboxOf(await place.open(), t), outboxOf(await place.open(), t)];
        if (!a || !b) return;
        await a.add(Array.from({ length: 20 }, (_, i) => delivery(`d${i}`, i)));
        const claims = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).claim(100, 60_000, 4)),
        );
        const taken = claims.flatMap(ids).sort();
        assert.equal(taken.length, 20);
        assert.equal(new Set(taken).size, 20);
        assert.deepEqual(await b.claim(100, 60_000, 10), []);
      }),
    );
  });
}

function delivery(id: string, nextAttemptAt: number, status: DeliveryStatus = 'pending'): AlertDelivery {
  return {
    id,
    sink: 'slack',
    alert: {
      key: `anomaly.loop:${id}`,
      severity: 'critical',
      title: `loop: agent ${id}`,
      text: 'the agent repeated the same call',
      code: 'anomaly.loop',
      agent: 'bot',
      at: TS,
      details: { repeats: 3 },
    },
    status,
    attempts: 0,
    nextAttemptAt,
    createdAt: TS,
    updatedAt: TS,
  };
}
