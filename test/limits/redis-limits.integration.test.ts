import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBackend } from '../../src/limits/backends/redis-backend.js';
import { buildLimiters } from '../../src/limits/build-limiters.js';
import { limitsView } from '../../src/limits/usage.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { LimitsSchema } from '../../src/policy/sections/limits.js';
import { testWarden } from '../../src/testing/index.js';
import { runWorkers, uniquePrefix } from './workers.js';

const REDIS_URL = process.env.WARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

before(async () => {
  const probe = new RedisBackend({ url: REDIS_URL, prefix: 'probe', timeoutMs: 1000 });
  await probe.connect();
  try {
    assert.equal(await probe.ping(), 'PONG');
  } catch {
    assert.fail(
      `these tests need Redis at ${REDIS_URL}: start it (\`redis-server --daemonize yes --port 6379\`) or set WARDEN_TEST_REDIS_URL`,
    );
  } finally {
    await probe.close();
  }
});

const agents: PolicyInput['agents'] = { research: { allow: ['search.web', 'tool.call'] } };

function redisLimits(prefix: string, extra: Record<string, unknown>) {
  return { backend: 'redis', redis: { url: REDIS_URL, prefix, timeout: '5s' }, ...extra };
}

describe('limits over Redis, one round trip', () => {
  test('every limit of an action (rate, loop, steps, budget) is taken in one script call, and a refusal takes none of them', async () => {
    const prefix = uniquePrefix('onetrip');
    const warden = await testWarden({
      agents,
      limits: redisLimits(prefix, {
        rate: [{ windows: { '1s': 100, '1m': 1000 } }],
        loop: { max: 50, window: '1m' },
        steps: { max: 100 },
        budgets: [{ usd: 0.35 }],
      }) as PolicyInput['limits'],
    });
    const client = new Redis(REDIS_URL);
    const monitor = await client.monitor();
    const calls: string[][] = [];
    // Commands a client sent (a script's own commands are reported with the source `lua`).
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((a) => a.startsWith(prefix))) calls.push(args);
    });
    const act = (i: number) => ({
      agent: 'research',
      session: 's1',
      type: 'tool.call',
      params: { i },
      cost: { usd: 0.1 },
    });
    try {
      // Warm: the first call may load the script (EVALSHA answered NOSCRIPT, then EVAL).
      assert.equal((await warden.decide(act(0))).decision.effect, 'allow');
      await warden.settle((await warden.decide(act(1))).decision.id, { completed: true }, 'research');
      await new Promise((r) => setTimeout(r, 200)); // MONITOR reports asynchronously
      calls.length = 0;
      const allowed = await warden.decide(act(2));
      assert.equal(allowed.decision.effect, 'allow');
      const refused = await warden.decide(act(3)); // $0.40 of $0.35: the budget refuses
      assert.equal(refused.decision.reasons[0]?.code, 'limits.budget');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(
        calls.map((c) => c[0]?.toLowerCase()),
        ['evalsha', 'evalsha'],
        `one script call per decision: ${JSON.stringify(calls.map((c) => c.slice(0, 2)))}`,
      );
      // The refused action took no slot: of the four decided, three were admitted and counted.
      const view = await limitsView(warden.limiters, 'research');
      const steps = view.agents.flatMap((a) => a.limits).find((u) => u.kind === 'steps');
      assert.equal(steps?.used, 3, JSON.stringify(view));
    } finally {
      monitor.disconnect();
      client.disconnect();
      await warden.close();
    }
  });
});

describe('limits over Redis, across processes', () => {
  test('4 processes × 500 concurrent attempts against 300 a minute admit exactly 300', async () => {
    const prefix = uniquePrefix('rate');
    const results = await runWorkers(4, {
      policy: { agents, limits: redisLimits(prefix, { rate: [{ windows: { '1m': 300 } }] }) },
      attempts: 500,
      action: { agent: 'research', type: 'search.web' },
    });
    const admitted = results.reduce((s, r) => s + r.admitted, 0);
    const refused = results.reduce((s, r) => s + (r.denied['limits.rate'] ?? 0), 0);
    assert.equal(admitted, 300, `admitted per process: ${results.map((r) => r.admitted).join(', ')}`);
    assert.equal(refused, 1700, JSON.stringify(results));
  });

  test('4 processes × 200 concurrent $0.10 actions against $5 spend exactly $5.00', async () => {
    const prefix = uniquePrefix('budget');
    const limits = redisLimits(prefix, { budgets: [{ usd: 5 }] });
    const results = await runWorkers(4, {
      policy: { agents, limits },
      attempts: 200,
      action: { agent: 'research', type: 'tool.call', cost: { usd: 0.1 } },
    });
    const admitted = results.reduce((s, r) => s + r.admitted, 0);
    assert.equal(admitted, 50, JSON.stringify(results));
    assert.equal(
      results.reduce((s, r) => s + (r.denied['limits.budget'] ?? 0), 0),
      750,
    );
    const usage = await budgetUsage(limits);
    assert.deepEqual(
      { used: usage?.used, reserved: usage?.reserved, limit: usage?.limit },
      { used: 5, reserved: 0, limit: 5 },
    );
  });

  test('two agents acting under the same action id each take a slot of a rate limit they share', async () => {
    const limits = redisLimits(uniquePrefix('rate-ids'), { rate: [{ scope: 'type', windows: { '1m': 2 } }] });
    const warden = await testWarden({
      agents: { alice: { allow: ['search.web'] }, bob: { allow: ['search.web'] } },
      limits: limits as never,
    });
    const decide = (agent: string) => warden.decide({ id: 'job-1', agent, type: 'search.web' });
    assert.equal((await decide('alice')).decision.effect, 'allow');
    assert.equal((await decide('bob')).decision.effect, 'allow');
    // Two slots taken, not one slot taken twice: a third action of the type is refused.
    const third = await warden.check({ agent: 'alice', type: 'search.web' });
    assert.equal(third.reasons[0]?.code, 'limits.rate');
    await warden.close();
  });

  test('a hold taken by decide() in one process is settled by another (the reservation lives in Redis)', async () => {
    const prefix = uniquePrefix('hold');
    const limits = redisLimits(prefix, { budgets: [{ usd: 1 }] });
    const first = await testWarden({ agents, limits: limits as never });
    const { decision, action } = await first.decide({
      agent: 'research',
      type: 'tool.call',
      cost: { usd: 0.8 },
    });
    assert.equal(decision.effect, 'allow');
    await first.close(); // the process that held it is gone
    const second = await testWarden({ agents, limits: limits as never });
    const refused = await second.check({ agent: 'research', type: 'tool.call', cost: { usd: 0.3 } });
    assert.equal(
      refused.reasons[0]?.code,
      'limits.budget',
      'the hold still counts after its process went away',
    );
    await second.settle(action?.id as string, { completed: true, usd: 0.5 }, 'research');
    const usage = await budgetUsage(limits);
    assert.deepEqual({ used: usage?.used, reserved: usage?.reserved }, { used: 0.5, reserved: 0 });
    await second.close();
  });
});

async function budgetUsage(limits: Record<string, unknown>) {
  const config = LimitsSchema.parse(limits);
  const backend = new RedisBackend({ url: REDIS_URL, prefix: config.redis?.prefix ?? '', timeoutMs: 2000 });
  await backend.connect();
  try {
    const usage = (
      await Promise.all(buildLimiters(config, backend, ['research']).map((l) => l.usage?.() ?? []))
    ).flat();
    return usage.find((u) => u.kind === 'budget' && u.key === 'research');
  } finally {
    await backend.close();
  }
}
