import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Action } from '../contract/action.js';
import type { PolicyInput } from '../policy/schema.js';
import { testWarden } from '../testing/index.js';
import { CostModel, tokensMicros, usageOf } from './cost.js';
import { PRICE_TABLE, PRICES_AS_OF, priceLookup } from './prices.js';

// Token counts known independently of the code under test: in o200k_base, `hello` and ` world`
// are one token each, and `The quick brown fox jumps over the lazy dog.` is 10 tokens, a leading
// space joining the next `The` (so n sentences joined by spaces are 10n tokens).
const hello = (n: number) => Array.from({ length: n }, () => 'hello world').join(' '); // 2n tokens
const fox = (n: number) =>
  Array.from({ length: n }, () => 'The quick brown fox jumps over the lazy dog.').join(' '); // 10n

const agents: PolicyInput['agents'] = { bot: { allow: ['llm.generate', 'tool.call'] } };
const action = (a: Partial<Action>): Action => ({
  agent: 'bot',
  type: 'llm.generate',
  params: {},
  id: 'x',
  ...a,
});

describe('cost estimates from the price table', () => {
  const model = new CostModel(priceLookup(), 1024);
  const cases = [
    {
      what: 'gpt-4o, 100,000 prompt tokens + 20,000 max output: $2.50/M in, $10/M out',
      action: action({ params: { model: 'gpt-4o', prompt: hello(50_000), maxOutputTokens: 20_000 } }),
      // 100,000 × 2.50 / 1e6 = 0.25; 20,000 × 10 / 1e6 = 0.20
      usd: 0.45,
    },
    {
      what: 'claude-sonnet-4-5 (dated id), 200,000 prompt tokens + 4,000 output: $3/M in, $15/M out',
      action: action({
        params: { model: 'claude-sonnet-4-5-20250929', prompt: fox(20_000), maxOutputTokens: 4_000 },
      }),
      // 200,000 × 3 / 1e6 = 0.60; 4,000 × 15 / 1e6 = 0.06
      usd: 0.66,
    },
    {
      what: 'cost.model on a tool call, mistral-large-latest, 200,000 tokens + 10,000 output: $2/M in, $6/M out',
      action: action({
        type: 'tool.call',
        params: { prompt: hello(100_000) },
        cost: { model: 'mistral-large-latest', outputTokens: 10_000 },
      }),
      // 200,000 × 2 / 1e6 = 0.40; 10,000 × 6 / 1e6 = 0.06
      usd: 0.46,
    },
  ];
  for (const c of cases) {
    test(`${c.what} = $${c.usd.toFixed(2)}`, async () => {
      const e = await model.estimate(c.action);
      assert.ok(!('unpriced' in e));
      assert.equal(Math.round(e.micros / 10_000), Math.round(c.usd * 100), `estimate ${e.micros} µ$`);
      assert.equal(e.micros, Math.round(c.usd * 1e6));
    });
  }

  test('a budget denial shows the estimate to the cent', async () => {
    const warden = await testWarden({ agents, limits: { budgets: [{ usd: 0.4 }] } });
    const d = await warden.check(cases[0]?.action as Action);
    assert.equal(d.reasons[0]?.code, 'limits.budget');
    assert.match(d.reasons[0]?.message ?? '', /this action's estimate \$0\.45 > limit \$0\.40/);
    await warden.close();
  });

  test('cost.usd is used as given; cost.inputTokens skips the tokenizer; messages count 3 tokens each plus 3', async () => {
    const micros = (e: Awaited<ReturnType<CostModel['estimate']>>) => ('micros' in e ? e.micros : Number.NaN);
    assert.equal(micros(await model.estimate(action({ cost: { usd: 1.234567 } }))), 1_234_567);
    const e = await model.estimate(
      action({ params: { model: 'gpt-4o-mini' }, cost: { inputTokens: 1_000_000, outputTokens: 1_000_000 } }),
    );
    assert.equal(micros(e), 150_000 + 600_000);
    const m = await model.estimate(
      action({
        params: { model: 'gpt-4o', messages: [{ role: 'user', content: hello(5) }], maxOutputTokens: 0 },
      }),
    );
    assert.equal('inputTokens' in m ? m.inputTokens : 0, 10 + 3 + 3);
  });

  test('a declared cost.usd below the model’s price does not buy a cheaper hold', async () => {
    const micros = (e: Awaited<ReturnType<CostModel['estimate']>>) => ('micros' in e ? e.micros : Number.NaN);
    const priced = { model: 'gpt-4o', inputTokens: 100_000, maxOutputTokens: 0 }; // $0.25
    assert.equal(micros(await model.estimate(action({ params: priced, cost: { usd: 0.001 } }))), 250_000);
    assert.equal(micros(await model.estimate(action({ params: priced, cost: { usd: 0.3 } }))), 300_000);
    // A model without a price, with a declared cost: the declared cost is all there is.
    assert.equal(
      micros(await model.estimate(action({ params: { model: 'house-7b' }, cost: { usd: 0.02 } }))),
      20_000,
    );
  });

  test('dated, provider-prefixed and -latest names find their entry; unknown models do not', () => {
    const find = priceLookup({ 'my-model': { input: 1, output: 2 } });
    assert.equal(find('gpt-4o-2024-08-06'), PRICE_TABLE['gpt-4o']);
    assert.equal(find('gpt-4o-mini-2024-07-18'), PRICE_TABLE['gpt-4o-mini']);
    assert.equal(find('openai/gpt-4.1'), PRICE_TABLE['gpt-4.1']);
    assert.equal(find('anthropic/claude-sonnet-4.5'), PRICE_TABLE['claude-sonnet-4-5']);
    assert.equal(find('mistral-small-latest'), PRICE_TABLE['mistral-small']);
    assert.equal(find('meta-llama/Llama-3.3-70B-Instruct-Turbo'), PRICE_TABLE['llama-3.3-70b-instruct']);
    assert.deepEqual(find('my-model'), { input: 1, output: 2 });
    assert.equal(find('gpt-99'), undefined);
    assert.match(PRICES_AS_OF, /^\d{4}-\d{2}$/);
    for (const provider of ['openai', 'anthropic', 'google', 'mistral', 'meta', 'deepseek', 'qwen']) {
      assert.ok(
        Object.values(PRICE_TABLE).some((p) => p.provider === provider),
        provider,
      );
    }
  });

  test('tokensMicros rounds up to the micro-dollar and stays exact in integers', () => {
    assert.equal(tokensMicros(3, 0.075), 1); // 0.225 µ$ → 1
    assert.equal(tokensMicros(1_000_000, 0.075), 75_000);
    assert.equal(tokensMicros(123_457, 2.5), 308_643); // 308,642.5 → 308,643
  });
});

describe('actual cost from the provider’s reported usage', () => {
  test('reads OpenAI, Anthropic, Google and AI SDK usage shapes', () => {
    assert.deepEqual(
      usageOf({
        usage: { prompt_tokens: 100, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 40 } },
      }),
      {
        inputTokens: 60,
        cachedInputTokens: 40,
        outputTokens: 5,
      },
    );
    assert.deepEqual(
      usageOf({
        model: 'claude-haiku-4-5',
        usage: { input_tokens: 10, output_tokens: 2, cache_read_input_tokens: 90 },
      }),
      { model: 'claude-haiku-4-5', inputTokens: 10, cachedInputTokens: 90, outputTokens: 2 },
    );
    assert.deepEqual(
      usageOf({
        usageMetadata: {
          promptTokenCount: 50,
          candidatesTokenCount: 7,
          thoughtsTokenCount: 3,
          cachedContentTokenCount: 20,
        },
      }),
      { inputTokens: 30, cachedInputTokens: 20, outputTokens: 10 },
    );
    assert.deepEqual(usageOf({ usage: { inputTokens: 8, outputTokens: 4, cachedInputTokens: 0 } }), {
      inputTokens: 8,
      cachedInputTokens: 0,
      outputTokens: 4,
    });
    assert.equal(usageOf('text'), undefined);
  });

  test('the actual cost is the usage priced, else a reported cost.usd that is a real amount, else unknown', () => {
    const model = new CostModel(priceLookup(), 1024);
    const a = action({ params: { model: 'gpt-4o' } });
    const usage = { usage: { prompt_tokens: 1000, completion_tokens: 500 } };
    // 1,000 × $2.50/M + 500 × $10/M = $0.0075, whatever the agent says it cost
    assert.equal(model.actualCost(a, { output: usage, usd: 0.0001 })?.micros, 7500);
    assert.deepEqual(model.actualCost(a, { output: 'no usage', usd: 0.25 }), {
      micros: 250_000,
      via: 'reported',
    });
    // A negative or infinite report would refund a budget: it is no actual cost, the hold stands.
    assert.equal(model.actualCost(a, { usd: -5 }), undefined);
    assert.equal(model.actualCost(a, { usd: Number.POSITIVE_INFINITY }), undefined);
    assert.equal(
      model.actualCost(action({ params: {} }), { output: usage }),
      undefined,
      'no model, no price',
    );
    // Any other tool could return a usage object naming an expensive model: it is not priced.
    assert.equal(
      model.actualCost(action({ type: 'http.request', params: {} }), {
        output: { model: 'gpt-4o', usage: { prompt_tokens: 1e9, completion_tokens: 1e9 } },
      }),
      undefined,
      'only a model call prices its output',
    );
  });

  test('run() settles the budget with the usage the executor returned, not the estimate', async () => {
    const warden = await testWarden({ agents, limits: { budgets: [{ usd: 1 }] } });
    const result = await warden.run(
      {
        agent: 'bot',
        type: 'llm.generate',
        params: { model: 'gpt-4o', prompt: 'hi', maxOutputTokens: 50_000 },
      },
      () => ({
        usage: { prompt_tokens: 1000, completion_tokens: 500, prompt_tokens_details: { cached_tokens: 200 } },
      }),
    );
    assert.equal(result.status, 'completed');
    const [budget] = (await Promise.all(warden.limiters.map((l) => l.usage?.('bot') ?? []))).flat();
    // 800 × $2.50/M + 200 × $1.25/M + 500 × $10/M = $0.00725 (the estimate was over $0.50)
    assert.equal(budget?.used, 0.00725);
    assert.equal(budget?.reserved, 0);
    await warden.close();
  });

  test('a model with no price is refused with limits.unpriced while a budget applies; the policy can price it', async () => {
    const a = { agent: 'bot', type: 'llm.generate', params: { model: 'house-model-7b', inputTokens: 10 } };
    const strict = await testWarden({ agents, limits: { budgets: [{ usd: 1 }] } });
    const d = await strict.check(a);
    assert.equal(d.reasons[0]?.code, 'limits.unpriced');
    assert.match(d.reasons[0]?.message ?? '', /`house-model-7b` has no price.*limits\.prices/);
    await strict.close();
    const priced = await testWarden({
      agents,
      limits: { budgets: [{ usd: 1 }], prices: { 'house-model-7b': { input: 0.1, output: 0.1 } } },
    });
    assert.equal((await priced.check(a)).effect, 'allow');
    await priced.close();
  });
});
