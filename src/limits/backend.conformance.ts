import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LimitsBackend, RateResult, RateSpec, TakeResult } from './backend.js';

/**
 * The cases every `LimitsBackend` must pass (memory and SQLite in `backends.test.ts`, Redis and
 * PostgreSQL in `test/limits/backends.integration.test.ts`). Keys are unique per call, so a
 * shared server needs no cleaning between cases.
 */
export function backendConformance(name: string, open: () => Promise<LimitsBackend>): void {
  describe(`LimitsBackend conformance: ${name}`, () => {
    let backend: LimitsBackend;
    let n = 0;
    const key = (what: string) => `${what}:t${process.pid}x${Date.now().toString(36)}n${n++}`;
    before(async () => {
      backend = await open();
    });
    after(() => backend.close());

    test('a sliding window admits exactly the limit, then refuses with the time until a slot frees', async () => {
      const spec: RateSpec = { key: key('rate'), windowMs: 60_000, limit: 3 };
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await backend.rate([spec], `m${i}`, true));
      assert.deepEqual(
        results.map((r) => r.ok),
        [true, true, true, false, false],
      );
      const refused = results[3];
      assert.equal(refused?.hit, 0);
      assert.equal(refused?.used[0], 3);
      assert.ok((refused?.retryAfterMs ?? 0) > 59_000 && (refused?.retryAfterMs ?? 0) <= 60_001);
    });

    test('a peek never consumes; unrate gives a slot back', async () => {
      const spec: RateSpec = { key: key('rate'), windowMs: 60_000, limit: 1 };
      for (let i = 0; i < 3; i++) assert.equal((await backend.rate([spec], 'peek', false)).ok, true);
      assert.equal((await backend.rate([spec], 'a', true)).ok, true);
      assert.equal((await backend.rate([spec], 'b', false)).ok, false);
      await backend.unrate([spec], 'a');
      assert.equal((await backend.rate([spec], 'c', true)).ok, true);
    });

    test('several windows are checked and taken together: a refusal in one takes nothing in the others', async () => {
      const k = key('rate');
      const specs: RateSpec[] = [
        { key: `${k}:1s`, windowMs: 60_000, limit: 5 },
        { key: `${k}:1m`, windowMs: 60_000, limit: 2 },
      ];
      assert.equal((await backend.rate(specs, 'a', true)).ok, true);
      assert.equal((await backend.rate(specs, 'b', true)).ok, true);
      const third = await backend.rate(specs, 'c', true);
      assert.equal(third.ok, false);
      assert.equal(third.hit, 1);
      assert.deepEqual(third.used, [2, 2]);
    });

    test('entries leave the window as it slides', async () => {
      const spec: RateSpec = { key: key('rate'), windowMs: 300, limit: 1 };
      assert.equal((await backend.rate([spec], 'a', true)).ok, true);
      assert.equal((await backend.rate([spec], 'b', true)).ok, false);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal((await backend.rate([spec], 'c', true)).ok, true);
    });

    test('a token bucket admits its burst, then one token per refill interval', async () => {
      const spec: RateSpec = { key: key('bucket'), windowMs: 1000, limit: 10, bucket: { capacity: 2 } };
      const burst = [];
      for (let i = 0; i < 3; i++) burst.push((await backend.rate([spec], `m${i}`, true)).ok);
      assert.deepEqual(burst, [true, true, false]);
      await new Promise((r) => setTimeout(r, 150)); // 10 per second: one token every 100 ms
      assert.equal((await backend.rate([spec], 'late', true)).ok, true);
    });

    test('a budget holds, settles with the actual cost, and releases', async () => {
      const budget = { key: key('budget'), limitMicros: 1_000_000, expiresAt: Date.now() + 3_600_000 };
      const hold = (id: string, micros: number) => ({ agent: 'ag', id, micros, ttlMs: 60_000 });
      assert.deepEqual(await backend.reserve(budget, hold('a', 600_000), true), {
        ok: true,
        spent: 0,
        reserved: 0,
      });
      assert.deepEqual(await backend.reserve(budget, hold('b', 500_000), true), {
        ok: false,
        spent: 0,
        reserved: 600_000,
      });
      assert.deepEqual(await backend.holdKeys({ agent: 'ag', id: 'a' }), [budget.key]);
      await backend.settle(budget.key, { agent: 'ag', id: 'a' }, 250_000);
      assert.deepEqual(await backend.reserve(budget, hold('peek', 0), false), {
        ok: true,
        spent: 250_000,
        reserved: 0,
      });
      assert.equal((await backend.reserve(budget, hold('c', 750_000), true)).ok, true);
      await backend.release(budget.key, { agent: 'ag', id: 'c' });
      await backend.settle(budget.key, { agent: 'ag', id: 'gone' }, 100_000); // a hold that expired still spends
      assert.deepEqual(await backend.reserve(budget, hold('peek', 0), false), {
        ok: true,
        spent: 350_000,
        reserved: 0,
      });
    });

    test('two agents holding budget under the same action id keep separate holds: settling one leaves the other held', async () => {
      const budget = { key: key('budget'), limitMicros: 1_000_000, expiresAt: Date.now() + 3_600_000 };
      const alice = { agent: 'alice', id: 'same' };
      const bob = { agent: 'bob', id: 'same' };
      assert.equal(
        (await backend.reserve(budget, { ...alice, micros: 300_000, ttlMs: 60_000 }, true)).ok,
        true,
      );
      assert.deepEqual(await backend.reserve(budget, { ...bob, micros: 400_000, ttlMs: 60_000 }, true), {
        ok: true,
        spent: 0,
        reserved: 300_000,
      });
      assert.deepEqual(await backend.holdKeys(alice), [budget.key]);
      assert.deepEqual(await backend.holdKeys(bob), [budget.key]);
      await backend.settle(budget.key, alice, 100_000);
      // Bob's hold is still held: only alice's 300,000 became her 100,000 spend.
      assert.deepEqual(await backend.reserve(budget, { agent: '', id: 'peek', micros: 0, ttlMs: 0 }, false), {
        ok: true,
        spent: 100_000,
        reserved: 400_000,
      });
      // Settling bob's spends his held amount, not alice's.
      await backend.settle(budget.key, bob, undefined);
      assert.deepEqual(await backend.reserve(budget, { agent: '', id: 'peek', micros: 0, ttlMs: 0 }, false), {
        ok: true,
        spent: 500_000,
        reserved: 0,
      });
    });

    test('two agents holding budget under the same action id keep separate holds: releasing one leaves the other held', async () => {
      const budget = { key: key('budget'), limitMicros: 1_000_000, expiresAt: Date.now() + 3_600_000 };
      // Joined with a plain separator these two would be the same hold (`a:b:c`).
      const first = { agent: 'a:b', id: 'c' };
      const second = { agent: 'a', id: 'b:c' };
      await backend.reserve(budget, { ...first, micros: 300_000, ttlMs: 60_000 }, true);
      await backend.reserve(budget, { ...second, micros: 400_000, ttlMs: 60_000 }, true);
      await backend.release(budget.key, first);
      assert.deepEqual(await backend.reserve(budget, { agent: '', id: 'peek', micros: 0, ttlMs: 0 }, false), {
        ok: true,
        spent: 0,
        reserved: 400_000,
      });
      assert.deepEqual(await backend.holdKeys(second), [budget.key]);
      await backend.release(budget.key, second);
      assert.deepEqual(await backend.reserve(budget, { agent: '', id: 'peek', micros: 0, ttlMs: 0 }, false), {
        ok: true,
        spent: 0,
        reserved: 0,
      });
    });

    test('a hold whose result never comes is released when it expires', async () => {
      const budget = { key: key('budget'), limitMicros: 1_000_000, expiresAt: 0 };
      assert.equal(
        (await backend.reserve(budget, { agent: 'ag', id: 'x', micros: 900_000, ttlMs: 200 }, true)).ok,
        true,
      );
      assert.equal(
        (await backend.reserve(budget, { agent: 'ag', id: 'y', micros: 200_000, ttlMs: 200 }, true)).ok,
        false,
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        await backend.reserve(budget, { agent: 'ag', id: 'z', micros: 200_000, ttlMs: 200 }, true),
        {
          ok: true,
          spent: 0,
          reserved: 0,
        },
      );
    });

    test('a session starts once; a peek does not start it', async () => {
      const k = key('duration');
      assert.equal(await backend.session(k, 60_000, false), undefined);
      const start = await backend.session(k, 60_000, true);
      assert.ok(start !== undefined && Math.abs(start - Date.now()) < 5000);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await backend.session(k, 60_000, true), start);
    });

    test('takeAll (where offered) takes a rate slot and a budget hold together, and nothing when either refuses', async (t) => {
      const takeAll = backend.takeAll?.bind(backend);
      if (!takeAll) return t.skip(`the ${backend.kind} backend takes limits one by one (no takeAll)`);
      const rate: RateSpec = { key: key('rate'), windowMs: 60_000, limit: 2 };
      const budget = { key: key('budget'), limitMicros: 1_000_000, expiresAt: 0 };
      const take = (id: string, micros: number) =>
        takeAll([
          { kind: 'rate', specs: [rate], member: id },
          { kind: 'reserve', budget, hold: { agent: 'a', id, micros, ttlMs: 60_000 } },
        ]);
      const ok = (r: Awaited<ReturnType<typeof take>>) =>
        r.map((x) => (x.kind === 'rate' ? x.rate.ok : x.reserve.ok));
      assert.deepEqual(ok(await take('1', 600_000)), [true, true]);
      // The budget refuses: the rate slot it would have taken stays free.
      assert.deepEqual(ok(await take('2', 600_000)), [true, false]);
      assert.equal((await backend.rate([rate], 'peek', false)).used[0], 1);
      assert.deepEqual(ok(await take('3', 100_000)), [true, true]);
      // The rate refuses: nothing is held against the budget.
      assert.deepEqual(ok(await take('4', 100_000))[0], false);
      const after = await backend.reserve(budget, { agent: 'a', id: 'peek', micros: 0, ttlMs: 0 }, false);
      assert.deepEqual([after.spent, after.reserved], [0, 700_000]);
    });

    test('takeAll (where offered) of one sliding window admits exactly the limit, then refuses with the wait and takes nothing', async (t) => {
      const takeAll = backend.takeAll?.bind(backend);
      if (!takeAll) return t.skip(`the ${backend.kind} backend takes limits one by one (no takeAll)`);
      const spec: RateSpec = { key: key('rate'), windowMs: 60_000, limit: 3 };
      const results: RateResult[] = [];
      for (let i = 0; i < 5; i++) {
        const reply: TakeResult[] = await takeAll([{ kind: 'rate', specs: [spec], member: `m${i}` }]);
        const taken = reply[0] as TakeResult;
        assert.equal(taken.kind, 'rate');
        if (taken.kind === 'rate') results.push(taken.rate);
      }
      assert.deepEqual(
        results.map((r) => r.ok),
        [true, true, true, false, false],
      );
      const refused = results[3];
      assert.equal(refused?.hit, 0);
      assert.equal(refused?.used[0], 3);
      assert.ok((refused?.retryAfterMs ?? 0) > 59_000 && (refused?.retryAfterMs ?? 0) <= 60_001);
      assert.equal((await backend.rate([spec], 'peek', false)).used[0], 3);
    });

    test('keys lists live keys under a prefix', async () => {
      const prefix = key('list');
      await backend.rate([{ key: `${prefix}:a`, windowMs: 60_000, limit: 5 }], 'm', true);
      await backend.reserve(
        { key: `${prefix}:b`, limitMicros: 10, expiresAt: 0 },
        { agent: 'ag', id: 'h', micros: 1, ttlMs: 60_000 },
        true,
      );
      assert.deepEqual(await backend.keys(prefix), [`${prefix}:a`, `${prefix}:b`]);
    });
  });
}
