import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { RateSpec } from '../../src/limits/backend.js';
import { RedisBackend } from '../../src/limits/backends/redis-backend.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { testWarden } from '../../src/testing/index.js';
import { uniquePrefix } from './workers.js';

const REDIS_URL = process.env.WARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The take of Warden before the sliding log moved from a sorted set to a list (its TAKE_ONE, as it
 * shipped): what a process not yet upgraded runs during a rolling upgrade.
 */
const EARLIER_TAKE_ONE = `
local t = redis.call('TIME')
local key = KEYS[1]
local used = redis.call('ZCARD', key)
local lim = tonumber(ARGV[3])
if used >= lim then
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  local w = tonumber(ARGV[2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%d', now - w))
  used = redis.call('ZCARD', key)
  if used >= lim then
    local e = redis.call('ZRANGE', key, used - lim, used - lim, 'WITHSCORES')
    return { used, now, math.max(1, tonumber(e[2]) + w - now + 1) }
  end
end
redis.call('ZADD', key, t[1] .. string.sub('00000' .. t[2], -6, -4), ARGV[1])
redis.call('PEXPIRE', key, ARGV[2])
return used
`;

const client = new Redis(REDIS_URL, { lazyConnect: true });
let backend: RedisBackend;
let prefix: string;

before(async () => {
  try {
    await client.connect();
  } catch {
    assert.fail(
      `these tests need Redis at ${REDIS_URL}: start it (\`redis-server --daemonize yes --port 6379\`) or set WARDEN_TEST_REDIS_URL`,
    );
  }
  prefix = uniquePrefix('log');
  backend = new RedisBackend({ url: REDIS_URL, prefix, timeoutMs: 5000 });
  await backend.connect();
});

after(async () => {
  await backend.close();
  client.disconnect();
});

const spec = (key: string, limit = 3, windowMs = 60_000): RateSpec => ({ key, windowMs, limit });
const stored = (key: string) => `${prefix}:lim:${key}`;

/** A log as an earlier Warden left it: members scored by their time in ms, the key expiring with the window. */
async function earlierLog(key: string, ages: number[]): Promise<void> {
  const now = Date.now();
  for (const [i, age] of ages.entries()) await client.zadd(stored(key), now - age, `old${i}`);
  await client.pexpire(stored(key), 60_000);
}

describe('the sliding log in Redis', () => {
  const entryPoints: [string, (key: string) => Promise<number>][] = [
    [
      'a take of one window (TAKE_ONE)',
      async (key) => (await backend.rate([spec(key)], 'new', true)).used[0] as number,
    ],
    [
      'a take of several limits (TAKE)',
      async (key) => {
        const [first] = await backend.takeAll([
          { kind: 'rate', specs: [spec(key)], member: 'new' },
          { kind: 'rate', specs: [spec(`${key}:other`)], member: 'new' },
        ]);
        assert.equal(first?.kind, 'rate');
        return first.kind === 'rate' ? (first.rate.used[0] as number) : -1;
      },
    ],
    ['a peek (RATE)', async (key) => (await backend.rate([spec(key)], 'peek', false)).used[0] as number],
  ];
  for (const [what, call] of entryPoints) {
    test(`a log an earlier Warden kept as a sorted set is counted by ${what}, and from then on is a list`, async () => {
      const key = `zset-${what.replace(/\W+/g, '-')}`;
      await earlierLog(key, [20, 10]);
      assert.equal(await call(key), 2, 'both entries of the earlier log count');
      assert.equal(await client.type(stored(key)), 'list');
      const ttl = await client.pttl(stored(key));
      assert.ok(ttl > 50_000 && ttl <= 120_000, `the key still expires, within two windows (${ttl} ms)`);
    });
  }

  test('after the rewrite, the earlier entries keep their times: the limit is reached, and the wait counts from the oldest', async () => {
    await earlierLog('carry', [30_000, 10]);
    assert.equal((await backend.rate([spec('carry')], 'a', true)).ok, true);
    const refused = await backend.rate([spec('carry')], 'b', true);
    assert.equal(refused.ok, false);
    assert.deepEqual(refused.used, [3]);
    assert.ok(
      refused.retryAfterMs > 29_000 && refused.retryAfterMs <= 30_001,
      `a slot frees when the 30 s old entry leaves (${refused.retryAfterMs} ms)`,
    );
  });

  test('an earlier entry can be given back after the rewrite', async () => {
    await earlierLog('giveback', [20, 10, 5]);
    await backend.unrate([spec('giveback')], 'old1');
    assert.equal(await client.type(stored('giveback')), 'list');
    assert.equal(await client.llen(stored('giveback')), 2);
    assert.equal((await backend.rate([spec('giveback')], 'c', true)).ok, true, 'the slot given back is free');
  });

  test('a process still on the sorted set fails on a log already rewritten, so its limiter denies instead of counting apart', async () => {
    assert.equal((await backend.rate([spec('mixed')], 'new', true)).ok, true);
    await assert.rejects(
      client.eval(EARLIER_TAKE_ONE, 1, stored('mixed'), 'old', 60_000, 3),
      /WRONGTYPE/,
      'the earlier take errors, and an earlier limiter denies on an error (limits.unavailable)',
    );
    assert.equal(await client.llen(stored('mixed')), 1, 'it took nothing');
  });

  test('a limiter meeting WRONGTYPE on its key denies with limits.unavailable, naming the error', async () => {
    const own = uniquePrefix('wrongtype');
    const warden = await testWarden({
      agents: { research: { allow: ['search.web'] } },
      limits: {
        backend: 'redis',
        redis: { url: REDIS_URL, prefix: own, timeout: '5s' },
        rate: [{ windows: { '1m': 3 } }],
      } as PolicyInput['limits'],
    });
    try {
      const act = { agent: 'research', type: 'search.web', params: { q: 'x' } };
      assert.equal((await warden.decide(act)).decision.effect, 'allow');
      const keys = await client.keys(`${own}:lim:*`);
      assert.equal(keys.length, 1);
      // What an earlier Warden meets on a rewritten log; here, a log rewritten into a hash.
      await client.del(keys[0] as string);
      await client.hset(keys[0] as string, 'not', 'a log');
      const { decision: denied } = await warden.decide(act);
      assert.equal(denied.effect, 'deny');
      assert.equal(denied.reasons[0]?.code, 'limits.unavailable');
      assert.match(denied.reasons[0]?.message ?? '', /WRONGTYPE/);
    } finally {
      await warden.close();
    }
  });

  test('entries that left the window together are trimmed at once; the rest still count, oldest first', async () => {
    const s = spec('slide', 5, 300);
    for (const m of ['a', 'b', 'c']) assert.equal((await backend.rate([s], m, true)).ok, true);
    await sleep(150);
    for (const m of ['d', 'e']) assert.equal((await backend.rate([s], m, true)).ok, true);
    assert.equal((await backend.rate([s], 'f', true)).ok, false, 'five in the window');
    await sleep(200); // a, b and c have left the window; d and e have not
    assert.deepEqual(
      (await backend.rate([s], 'peek', false)).used,
      [2],
      'a peek counts only the two still in it',
    );
    for (const m of ['g', 'h', 'i']) assert.equal((await backend.rate([s], m, true)).ok, true);
    const refused = await backend.rate([s], 'j', true);
    assert.equal(refused.ok, false);
    assert.deepEqual(refused.used, [5]);
    assert.ok(refused.retryAfterMs <= 150, `the wait is until d leaves (${refused.retryAfterMs} ms)`);
    assert.deepEqual(
      (await client.lrange(stored('slide'), 0, -1)).map((e) => e.slice(14)),
      ['d', 'e', 'g', 'h', 'i'],
      'the three expired entries are gone, the rest in order',
    );
  });

  test('a take of several limits refuses when one log is full, takes nothing, and admits once its oldest entry leaves', async () => {
    const short = spec('multi-short', 2, 250);
    const long = spec('multi-long', 100);
    const take = (member: string) =>
      backend.takeAll([
        { kind: 'rate', specs: [long], member },
        { kind: 'rate', specs: [short], member },
      ]);
    const okOf = (results: Awaited<ReturnType<typeof take>>) =>
      results.every((r) => r.kind === 'rate' && r.rate.ok);
    assert.equal(okOf(await take('a')), true);
    await sleep(100);
    assert.equal(okOf(await take('b')), true);
    const refused = await take('c');
    assert.equal(okOf(refused), false);
    const second = refused[1];
    assert.ok(second?.kind === 'rate' && !second.rate.ok);
    assert.ok(second.rate.retryAfterMs <= 151, `the wait is until a leaves (${second.rate.retryAfterMs} ms)`);
    assert.equal(await client.llen(stored('multi-long')), 2, 'the refusal took nothing in the other log');
    await sleep(second.rate.retryAfterMs + 10);
    assert.equal(okOf(await take('d')), true);
    assert.deepEqual(
      (await client.lrange(stored('multi-short'), 0, -1)).map((e) => e.slice(14)),
      ['b', 'd'],
      'a was trimmed when the log reached its limit',
    );
  });

  test('after the server clock stepped back, an entry still in the window is never trimmed with the expired ones behind it', async () => {
    // Arrival order, as a backward step leaves it: expired, in the window, then expired again
    // (stamped before the step's target time).
    const now = Date.now();
    const entry = (ms: number, member: string) => `${ms} ${member}`;
    await client.rpush(
      stored('stepped'),
      entry(now - 2_000, 'old'),
      entry(now, 'fresh'),
      entry(now - 3_000, 'stepped'),
    );
    await client.pexpire(stored('stepped'), 10_000);
    const s = spec('stepped', 3, 1_000);
    assert.equal((await backend.rate([s], 'new', true)).ok, true, 'the expired head left: a slot');
    assert.deepEqual(
      (await client.lrange(stored('stepped'), 0, -1)).map((e) => e.slice(14)),
      ['fresh', 'stepped', 'new'],
      'only the head was trimmed: the scan stops at the entry still in the window',
    );
    assert.equal(
      (await backend.rate([s], 'more', true)).ok,
      false,
      'still full: the entry in the window counts',
    );
  });
});
