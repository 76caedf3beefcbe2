import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildIncidentReport } from '../../src/incident/report.js';
import { limitsView } from '../../src/limits/usage.js';
import { monitorOf } from '../../src/monitor/monitor.js';
import { Submissions } from '../../src/pipeline/submissions.js';
import type { Warden } from '../../src/pipeline/warden.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import type { AuditRecord } from '../../src/store/store.js';
import { testWarden } from '../../src/testing/index.js';

/**
 * Spend of actions priced by model and tokens, or by the provider's usage in their result, as
 * monitoring, the incident report and budgets count it. Figures are worked out by hand from the
 * price table (USD per million tokens) and the policy's own prices.
 */
const policy: PolicyInput = {
  agents: {
    research: { allow: ['llm.generate'] },
    house: { allow: ['llm.generate'] },
    runaway: { allow: ['llm.generate'] },
  },
  limits: {
    // Overrides the table's $0.15 / $0.60.
    prices: { 'gpt-4o-mini': { input: 1, output: 2 } },
    budgets: [{ scope: 'agent', usd: 1000, match: { agent: ['research', 'house'] } }],
  },
  monitoring: {
    enabled: true,
    logs: { enabled: false },
    anomalies: {
      loop: { enabled: false },
      costSpike: { factor: 2, window: '1m', minBaselineUsd: 1, response: 'none' },
    },
  },
};

/** claude-sonnet-4-5 at $3 / $15: 100,000 × 3 + 20,000 × 15 per million = $0.30 + $0.30. */
const SONNET_CALL = {
  type: 'llm.generate',
  params: { model: 'claude-sonnet-4-5', prompt: 'summarise the page' },
  cost: { model: 'claude-sonnet-4-5', inputTokens: 100_000, outputTokens: 20_000 },
};
const SONNET_USD = 0.6;

/**
 * gpt-4o at $2.50 input, $1.25 cached input, $10 output: (200,000 − 40,000 cached) × 2.5
 * + 40,000 × 1.25 + 30,000 × 10 per million = $0.40 + $0.05 + $0.30.
 */
const GPT4O_OUTPUT = {
  model: 'gpt-4o-2024-08-06',
  choices: [{ message: { content: 'a summary' } }],
  usage: {
    prompt_tokens: 200_000,
    completion_tokens: 30_000,
    prompt_tokens_details: { cached_tokens: 40_000 },
  },
};
const GPT4O_USD = 0.75;

/** claude-haiku-4-5 at $1 / $5: 500,000 × 1 + 100,000 × 5 per million = $0.50 + $0.50. */
const HAIKU_OUTPUT = {
  model: 'claude-haiku-4-5',
  usage: { input_tokens: 500_000, output_tokens: 100_000, cache_read_input_tokens: 0 },
};
const HAIKU_USD = 1;

/** gpt-4o-mini at the policy's $1 / $2: 1,000,000 × 1 + 500,000 × 2 per million = $1 + $1. */
const HOUSE_USD = 2;

describe('spend of actions priced by model, tokens and provider usage', () => {
  let warden: Warden;
  const spend = async (agent: string) => {
    const json = await monitorOf(warden)?.metrics?.registry.getMetricsAsJSON();
    const family = json?.find((m) => m.name === 'warden_spend_usd_total');
    return family?.values.find((v) => v.labels.agent === agent)?.value ?? 0;
  };
  const records = async (type: string, agent: string): Promise<AuditRecord[]> =>
    warden.store.audit.query({ type, agent, limit: 10_000 });

  before(async () => {
    warden = await testWarden(policy);
    // Priced from `cost.model` + tokens; the executor's output reports no usage.
    const priced = await warden.run({ agent: 'research', id: 'act_priced', ...SONNET_CALL }, () => 'ok');
    assert.equal(priced.status, 'completed');
    // The estimate is small (a short prompt, 100 output tokens); the provider's usage is the cost.
    const used = await warden.run(
      {
        agent: 'research',
        id: 'act_usage',
        type: 'llm.generate',
        params: { model: 'gpt-4o', prompt: 'summarise the page', maxOutputTokens: 100 },
      },
      () => GPT4O_OUTPUT,
    );
    assert.equal(used.status, 'completed');
    // An agent that executes itself reports the provider's usage (and an under-stated `cost.usd`,
    // which the usage overrules, as budgets settle).
    const submissions = new Submissions(warden);
    const submitted = await submissions.submit({
      agent: 'research',
      id: 'act_reported',
      type: 'llm.generate',
      params: { model: 'claude-haiku-4-5', prompt: 'summarise the page' },
    });
    assert.equal(submitted.status, 'allowed');
    await submissions.report('act_reported', 'research', {
      status: 'completed',
      output: HAIKU_OUTPUT,
      cost: { usd: 0.01 },
    });
    // Priced with the policy's own price for a table model.
    await warden.run(
      {
        agent: 'house',
        type: 'llm.generate',
        params: { model: 'gpt-4o-mini', prompt: 'x' },
        cost: { model: 'gpt-4o-mini', inputTokens: 1_000_000, outputTokens: 500_000 },
      },
      () => 'ok',
    );
    // A runaway loop of model-priced calls: five × $0.60 in well under a minute, over 2 × $1.
    for (let i = 0; i < 5; i++) {
      const r = await warden.run({ agent: 'runaway', session: 's1', ...SONNET_CALL }, () => 'ok');
      assert.equal(r.status, 'completed');
    }
    await warden.audit.flush();
    await monitorOf(warden)?.idle();
  });
  after(async () => {
    await warden?.close();
  });

  test('warden_spend_usd_total counts model-priced actions and provider usage at their USD price', async () => {
    assert.ok(Math.abs((await spend('research')) - (SONNET_USD + GPT4O_USD + HAIKU_USD)) < 1e-6);
    assert.ok(Math.abs((await spend('house')) - HOUSE_USD) < 1e-6, 'the policy price overrides the table');
    assert.ok(Math.abs((await spend('runaway')) - 5 * SONNET_USD) < 1e-6);
  });

  test('the audit records carry the estimate and the actual cost, so every reader agrees without re-pricing', async () => {
    const [decision] = await warden.store.audit.query({ type: 'decision', actionId: 'act_priced' });
    assert.deepEqual(decision?.data.estimate, {
      usd: SONNET_USD,
      via: 'tokens',
      model: 'claude-sonnet-4-5',
      inputTokens: 100_000,
      outputTokens: 20_000,
    });
    const [result] = await warden.store.audit.query({ type: 'result', actionId: 'act_usage' });
    assert.deepEqual(result?.data.actual, {
      usd: GPT4O_USD,
      via: 'usage',
      model: 'gpt-4o-2024-08-06',
      inputTokens: 160_000,
      cachedInputTokens: 40_000,
      outputTokens: 30_000,
    });
    const [reported] = await warden.store.audit.query({ type: 'result', actionId: 'act_reported' });
    assert.deepEqual(reported?.data.cost, { usd: 0.01 }, 'what the agent said is kept as it said it');
    assert.equal((reported?.data.actual as { usd?: number } | undefined)?.usd, HAIKU_USD);
  });

  test('the budget settled the same figures the spend metric counts', async () => {
    const used = (await limitsView(warden.limiters, 'research')).agents[0]?.limits[0]?.used;
    assert.ok(used !== undefined && Math.abs(used - (await spend('research'))) < 1e-6, `budget used ${used}`);
  });

  test('a loop of model-priced calls raises a cost spike, as a `cost.usd` loop does', async () => {
    const anomalies = await records('anomaly', 'runaway');
    const spike = anomalies.find((a) => a.data.code === 'anomaly.cost-spike');
    assert.ok(spike, `anomalies: ${anomalies.map((a) => a.data.code).join(', ')}`);
    assert.match(String(spike.data.message), /spent \$\d+\.\d\d within 1m, over 2× its baseline of \$1\.00/);
  });

  test('the incident report totals model-priced and usage-priced actions', async () => {
    const window = [new Date(Date.now() - 60_000), new Date(Date.now() + 60_000)] as const;
    const research = await buildIncidentReport(warden.store.audit, 'research', ...window);
    assert.equal(research.cost.totalUsd, SONNET_USD + GPT4O_USD + HAIKU_USD);
    assert.deepEqual(research.cost.byType, { 'llm.generate': SONNET_USD + GPT4O_USD + HAIKU_USD });
    const runaway = await buildIncidentReport(warden.store.audit, 'runaway', ...window);
    assert.equal(runaway.cost.totalUsd, 5 * SONNET_USD);
    const house = await buildIncidentReport(warden.store.audit, 'house', ...window);
    assert.equal(house.cost.totalUsd, HOUSE_USD);
  });
});
