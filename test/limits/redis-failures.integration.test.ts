import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TakeResult } from '../../src/limits/backend.js';
import { RedisBackend } from '../../src/limits/backends/redis-backend.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { testWarden } from '../../src/testing/index.js';
import { privateRedis, waitFor } from './private-redis.js';
import { uniquePrefix } from './workers.js';

const agents: PolicyInput['agents'] = { research: { allow: ['search.web'] } };

describe('limits over Redis: fail closed, then recover', () => {
  const redis = privateRedis();

  test('with Redis down, limited actions are denied with limits.unavailable within the timeout; it recovers by itself', async () => {
    const warden = await testWarden({
      agents,
      limits: {
        backend: 'redis',
        redis: { url: redis.url(), prefix: uniquePrefix('down'), timeout: '300ms' },
        rate: [{ windows: { '1m': 100 } }],
      },
    });
    const a = { agent: 'research', type: 'search.web' };
    const ok = () => 'ok';
    assert.equal((await warden.run(a, ok)).status, 'completed');

    redis.stop();
    await waitFor(() => {
      try {
        redis.cli('ping');
        return false;
      } catch {
        return true;
      }
    });
    const t0 = performance.now();
    const down = await warden.run(a, ok);
    const took = performance.now() - t0;
    assert.equal(down.status, 'denied');
    assert.equal(down.reason?.code, 'limits.unavailable');
    assert.match(down.reason?.message ?? '', /redis limits backend did not answer .*fails closed/);
    assert.ok(took < 5000, `the denial came after ${took} ms; it must not wait for Redis to return`);
    assert.equal((await warden.check(a)).reasons[0]?.code, 'limits.unavailable');

    redis.start();
    // No restart of Warden: the client reconnects in the background.
    await waitFor(async () => (await warden.run(a, ok)).status === 'completed', 15_000);
    await warden.close();
  });

  test('with Redis hung (connected, answering nothing), a limited action is denied with limits.unavailable at the timeout, not admitted when Redis wakes', async () => {
    const warden = await testWarden({
      agents,
      limits: {
        backend: 'redis',
        redis: { url: redis.url(), prefix: uniquePrefix('hung'), timeout: '300ms' },
        rate: [{ windows: { '1m': 100 } }],
      },
    });
    const a = { agent: 'research', type: 'search.web' };
    const ok = () => 'ok';
    assert.equal((await warden.run(a, ok)).status, 'completed');
    // Every command waits 2 s; without its timeout the action would wait and then be admitted.
    redis.cli('CLIENT', 'PAUSE', '2000', 'ALL');
    const hung = await warden.run(a, ok);
    assert.equal(hung.status, 'denied');
    assert.equal(hung.reason?.code, 'limits.unavailable');
    assert.match(hung.reason?.message ?? '', /timed out/);
    await waitFor(async () => (await warden.run(a, ok)).status === 'completed', 15_000);
    await warden.close();
  });

  test('after SCRIPT FLUSH (a restarted Redis), takes load their scripts again and still count exactly', async () => {
    const backend = new RedisBackend({ url: redis.url(), prefix: uniquePrefix('flush'), timeoutMs: 2000 });
    await backend.connect();
    const one = { key: 'rate:r:agent=research:1m', windowMs: 60_000, limit: 2 };
    const two = [
      { key: 'rate:r2:agent=research:1s', windowMs: 1000, limit: 5 },
      { key: 'rate:r2:agent=research:1m', windowMs: 60_000, limit: 5 },
    ];
    const ok = (reply: TakeResult[]) => reply.map((r) => (r.kind === 'rate' ? r.rate.ok : r.reserve.ok));
    const takeOne = (member: string) => backend.takeAll([{ kind: 'rate', specs: [one], member }]);
    const takeTwo = (member: string) => backend.takeAll([{ kind: 'rate', specs: two, member }]);
    try {
      assert.deepEqual(ok(await takeOne('a')), [true]);
      assert.deepEqual(ok(await takeTwo('a')), [true]);
      redis.cli('SCRIPT', 'FLUSH');
      assert.deepEqual(ok(await takeOne('b')), [true]);
      redis.cli('SCRIPT', 'FLUSH');
      assert.deepEqual(ok(await takeTwo('b')), [true]);
      // Two of two taken before and after the flush: the third is refused.
      const refused = (await takeOne('c'))[0];
      assert.equal(refused?.kind === 'rate' && refused.rate.ok, false);
      assert.equal(refused?.kind === 'rate' && refused.rate.used[0], 2);
      assert.equal((await backend.rate(two, 'peek', false)).used[1], 2);
    } finally {
      await backend.close();
    }
  });
});
