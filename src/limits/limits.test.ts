import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PolicyInput } from '../policy/schema.js';
import { recordingExecutor, testWarden } from '../testing/index.js';

const agents: PolicyInput['agents'] = {
  research: { allow: ['search.web', 'llm.generate', 'http.fetch', 'tool.call'] },
  other: { allow: ['search.web'] },
};

describe('limits (guide)', () => {
  test('with 2 calls a minute the third is refused with limits.rate and when to retry', async () => {
    const warden = await testWarden({ agents, limits: { rate: [{ windows: { '1m': 2 } }] } });
    const run = recordingExecutor('ok');
    const a = { agent: 'research', type: 'search.web', params: { q: 'x' } };
    assert.equal((await warden.run(a, run)).status, 'completed');
    assert.equal((await warden.run(a, run)).status, 'completed');
    const third = await warden.run(a, run);
    assert.equal(third.status, 'denied');
    assert.equal(third.reason?.code, 'limits.rate');
    assert.equal(third.reason?.stage, 'limits');
    assert.match(
      third.reason?.message ?? '',
      /at most 2 actions per 1m for agent `research`; retry in \d+ s/,
    );
    const retry = third.reason?.retryAfterMs ?? 0;
    assert.ok(retry > 59_000 && retry <= 60_001, `retryAfterMs ${retry}`);
    assert.deepEqual(
      { ...third.reason?.limit, resetsAt: undefined },
      {
        name: 'rate:agent:1m',
        kind: 'rate',
        scope: 'agent',
        key: 'research',
        used: 2,
        reserved: 0,
        limit: 2,
        unit: 'calls',
        window: '1m',
        resetsAt: undefined,
      },
    );
    assert.equal(run.calls.length, 2);
    // Another agent has its own counter.
    assert.equal((await warden.run({ ...a, agent: 'other' }, run)).status, 'completed');
    await warden.close();
  });

  test('with a $1 budget an action estimated at $5 is refused with the figures', async () => {
    const warden = await testWarden({ agents, limits: { budgets: [{ usd: 1 }] } });
    const run = recordingExecutor('ok');
    const result = await warden.run({ agent: 'research', type: 'tool.call', cost: { usd: 5 } }, run);
    assert.equal(result.status, 'denied');
    assert.equal(result.reason?.code, 'limits.budget');
    assert.match(
      result.reason?.message ?? '',
      /spent \$0\.00 \+ reserved \$0\.00 \+ this action's estimate \$5\.00 > limit \$1\.00/,
    );
    assert.equal(result.reason?.limit?.limit, 1);
    assert.equal(result.reason?.limit?.used, 0);
    assert.equal(run.calls.length, 0);
    // A cheaper action fits, and its spend counts.
    assert.equal(
      (await warden.run({ agent: 'research', type: 'tool.call', cost: { usd: 0.6 } }, run)).status,
      'completed',
    );
    const next = await warden.run({ agent: 'research', type: 'tool.call', cost: { usd: 0.6 } }, run);
    assert.equal(next.reason?.code, 'limits.budget');
    assert.equal(next.reason?.limit?.used, 0.6);
    await warden.close();
  });

  test('500 concurrent run() calls against 300 a minute admit exactly 300', async () => {
    const warden = await testWarden({ agents, limits: { rate: [{ windows: { '1m': 300 } }] } });
    const results = await Promise.all(
      Array.from({ length: 500 }, () => warden.run({ agent: 'research', type: 'search.web' }, () => 'ok')),
    );
    assert.equal(results.filter((r) => r.status === 'completed').length, 300);
    assert.equal(results.filter((r) => r.reason?.code === 'limits.rate').length, 200);
    await warden.close();
  });

  test('check() only peeks: a hundred checks consume nothing', async () => {
    const warden = await testWarden({
      agents,
      limits: { rate: [{ windows: { '1m': 1 } }], budgets: [{ usd: 1 }] },
    });
    const a = { agent: 'research', type: 'search.web', cost: { usd: 0.9 } };
    for (let i = 0; i < 100; i++) assert.equal((await warden.check(a)).effect, 'allow');
    assert.equal((await warden.run(a, recordingExecutor('ok'))).status, 'completed');
    const d = await warden.check(a);
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0]?.code, 'limits.rate');
    await warden.close();
  });

  test('several windows at once: the per-second window refuses a burst, the minute one the total', async () => {
    const warden = await testWarden({ agents, limits: { rate: [{ windows: { '1s': 2, '1m': 3 } }] } });
    const run = recordingExecutor('ok');
    const a = { agent: 'research', type: 'search.web' };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await warden.run(a, run)).reason?.limit?.window ?? 'ok');
    assert.deepEqual(statuses, ['ok', 'ok', '1s']);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await warden.run(a, run)).status, 'completed');
    assert.equal((await warden.run(a, run)).reason?.limit?.window, '1m');
    await warden.close();
  });

  test('a token bucket admits a burst, then refills at the window rate', async () => {
    const warden = await testWarden({
      agents,
      limits: { rate: [{ windows: { '1s': 2 }, algorithm: 'bucket', burst: 3 }] },
    });
    const run = recordingExecutor('ok');
    const a = { agent: 'research', type: 'search.web' };
    const out = [];
    // 2/s refills one token every 500 ms: the four calls fit well inside that on a loaded machine
    // (at 20/s a token came back during them when the four took over 50 ms).
    for (let i = 0; i < 4; i++) out.push((await warden.run(a, run)).status);
    assert.deepEqual(out, ['completed', 'completed', 'completed', 'denied']);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await warden.run(a, run)).status, 'completed');
    await warden.close();
  });

  test('a rate scoped by agent+type counts each type apart; match limits which actions count', async () => {
    const warden = await testWarden({
      agents,
      limits: {
        rate: [
          { scope: ['agent', 'type'], windows: { '1m': 1 } },
          { name: 'fetches', match: { type: 'http.*' }, windows: { '1h': 1 } },
        ],
      },
    });
    const run = recordingExecutor('ok');
    assert.equal((await warden.run({ agent: 'research', type: 'search.web' }, run)).status, 'completed');
    assert.equal((await warden.run({ agent: 'research', type: 'tool.call' }, run)).status, 'completed');
    const again = await warden.run({ agent: 'research', type: 'tool.call' }, run);
    assert.equal(again.reason?.limit?.name, 'rate:agent+type:1m');
    assert.equal(again.reason?.limit?.key, 'research/tool.call');
    await warden.close();
  });

  test('a refused later limit gives back the earlier rate slot (the action never ran)', async () => {
    const warden = await testWarden({
      agents,
      limits: { rate: [{ windows: { '1m': 1 } }], budgets: [{ usd: 1 }] },
    });
    const run = recordingExecutor('ok');
    const dear = await warden.run({ agent: 'research', type: 'tool.call', cost: { usd: 2 } }, run);
    assert.equal(dear.reason?.code, 'limits.budget');
    assert.equal((await warden.run({ agent: 'research', type: 'tool.call' }, run)).status, 'completed');
    await warden.close();
  });

  test('a failed call keeps its rate slot but releases its budget hold', async () => {
    const warden = await testWarden({
      agents,
      limits: { rate: [{ windows: { '1m': 1 } }], budgets: [{ usd: 1 }] },
    });
    const failing = () => {
      throw new Error('boom');
    };
    const r = await warden.run({ agent: 'research', type: 'tool.call', cost: { usd: 0.9 } }, failing);
    assert.equal(r.status, 'failed');
    const next = await warden.run(
      { agent: 'research', type: 'tool.call', cost: { usd: 0.9 } },
      recordingExecutor(1),
    );
    assert.equal(next.reason?.code, 'limits.rate');
    const [budget] = (await Promise.all(warden.limiters.map((l) => l.usage?.('research') ?? [])))
      .flat()
      .filter((u) => u.kind === 'budget');
    assert.equal(budget?.used, 0);
    assert.equal(budget?.reserved, 0);
    await warden.close();
  });
});

describe('limits for agents that execute themselves (decide)', () => {
  test('an ask holds its budget when submitted, so an approval later cannot bypass it', async () => {
    const warden = await testWarden({
      agents: { payer: { allow: ['payment.send'] } },
      limits: { budgets: [{ usd: 1 }], rate: [{ windows: { '1m': 2 } }] },
    });
    const pay = {
      agent: 'payer',
      type: 'payment.send',
      params: { amount: 5, currency: 'EUR', to: 'x' },
      cost: { usd: 0.7 },
    };
    const first = await warden.decide(pay);
    assert.equal(first.decision.effect, 'ask');
    const second = await warden.decide(pay);
    assert.equal(second.decision.effect, 'deny');
    assert.equal(second.decision.reasons[0]?.code, 'limits.budget');
    assert.match(second.decision.reasons[0]?.message ?? '', /reserved \$0\.70/);
    // The first is approved and executed; the agent reports what it cost.
    await warden.settle(first.action?.id as string, { completed: true, usd: 0.2 });
    assert.equal((await warden.decide(pay)).decision.effect, 'ask');
    await warden.close();
  });
});

describe('limits: steps, duration, loops', () => {
  test('max steps per session (max_iterations): the 4th action of a 3-step session is refused', async () => {
    const warden = await testWarden({ agents, limits: { steps: { max: 3 } } });
    const run = recordingExecutor('ok');
    const a = { agent: 'research', type: 'search.web', session: 's1' };
    for (let i = 0; i < 3; i++)
      assert.equal((await warden.run({ ...a, params: { i } }, run)).status, 'completed');
    const fourth = await warden.run({ ...a, params: { i: 4 } }, run);
    assert.equal(fourth.reason?.code, 'limits.steps');
    assert.match(
      fourth.reason?.message ?? '',
      /session `s1` of agent `research` has used all 3 of its steps/,
    );
    assert.equal((await warden.run({ ...a, session: 's2' }, run)).status, 'completed');
    await warden.close();
  });

  test('max duration per session: an action after the deadline is refused with limits.duration', async () => {
    const warden = await testWarden({ agents, limits: { duration: { max: '200ms' } } });
    const run = recordingExecutor('ok');
    const a = { agent: 'research', type: 'search.web', session: 's1' };
    assert.equal((await warden.run(a, run)).status, 'completed');
    await new Promise((r) => setTimeout(r, 300));
    const late = await warden.run(a, run);
    assert.equal(late.reason?.code, 'limits.duration');
    assert.equal(late.reason?.limit?.unit, 'ms');
    assert.ok((late.reason?.limit?.used ?? 0) >= 300);
    await warden.close();
  });

  test('loop detection: the same type and params more than N times is refused; other params pass', async () => {
    const warden = await testWarden({ agents, limits: { loop: { max: 2, window: '1m' } } });
    const run = recordingExecutor('ok');
    const a = { agent: 'research', type: 'search.web', session: 's', params: { q: 'same', page: 1 } };
    assert.equal((await warden.run(a, run)).status, 'completed');
    // Key order does not make it a different call: params are compared as canonical JSON.
    assert.equal((await warden.run({ ...a, params: { page: 1, q: 'same' } }, run)).status, 'completed');
    const third = await warden.run(a, run);
    assert.equal(third.reason?.code, 'limits.loop');
    assert.equal((await warden.run({ ...a, params: { q: 'other', page: 1 } }, run)).status, 'completed');
    await warden.close();
  });
});
