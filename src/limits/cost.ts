import type { Action } from '../contract/action.js';
import type { Context } from '../policy/context.js';
import { toMicros } from './backend.js';
import type { ModelPrice, PriceLookup } from './prices.js';
import { countTokens, loadTokenizer } from './tokens.js';

/** What an action is expected to cost, in micro-dollars, and how that was worked out. */
export interface Estimate {
  micros: number;
  via: 'usd' | 'tokens' | 'none';
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
}

/**
 * What an action actually cost, known once its result is: the provider's usage priced from the
 * table (`usage`), or the `cost.usd` reported with the result (`reported`).
 */
export interface Actual {
  micros: number;
  via: 'usage' | 'reported';
  usage?: Usage;
}

/** Tokens as a provider reports them after the call. */
export interface Usage {
  model?: string;
  /** Input tokens billed at the full input price (cache hits excluded). */
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

/** Per-message overhead of chat formats (OpenAI's documented 3 tokens a message, 3 to prime the reply). */
const PER_MESSAGE = 3;
const PER_REPLY = 3;

/**
 * Prices actions. `cost.usd` is used as given, except that a priced model's estimate wins when it
 * is higher; `cost.model` (or an `llm.generate`'s `params.model`) is priced from the table: input tokens from `cost.inputTokens`,
 * `params.inputTokens`, or counted in `params.prompt` / `params.system` / `params.messages`;
 * output tokens from `cost.outputTokens`, `params.maxOutputTokens` (`max_tokens`), or the policy's
 * `limits.outputTokens`. After the call, the provider's reported usage prices the actual cost.
 */
export class CostModel {
  constructor(
    private readonly prices: PriceLookup,
    private readonly defaultOutputTokens: number,
  ) {}

  /** The model an action is priced by, if any. */
  modelOf(action: Action): string | undefined {
    if (action.cost?.model) return action.cost.model;
    const model = action.params.model;
    return action.type === 'llm.generate' && typeof model === 'string' ? model : undefined;
  }

  /** The estimate, or `{ unpriced }` naming a model missing from the table. */
  async estimate(action: Action): Promise<Estimate | { unpriced: string }> {
    const declared = action.cost?.usd;
    const model = this.modelOf(action);
    if (model === undefined) {
      return declared === undefined ? { micros: 0, via: 'none' } : { micros: toMicros(declared), via: 'usd' };
    }
    const price = this.prices(model);
    if (!price) {
      return declared === undefined ? { unpriced: model } : { micros: toMicros(declared), via: 'usd' };
    }
    const priced = await this.priceTokens(action, model, price);
    // An agent cannot buy a cheaper hold by declaring a lower `cost.usd` than its model's price.
    if (declared !== undefined && toMicros(declared) >= priced.micros) {
      return { micros: toMicros(declared), via: 'usd' };
    }
    return priced;
  }

  private async priceTokens(action: Action, model: string, price: ModelPrice): Promise<Estimate> {
    const p = action.params;
    let inputTokens = action.cost?.inputTokens ?? intParam(p.inputTokens);
    if (inputTokens === undefined) {
      await loadTokenizer();
      inputTokens = countText(p);
    }
    const outputTokens =
      action.cost?.outputTokens ??
      intParam(p.maxOutputTokens) ??
      intParam(p.max_tokens) ??
      this.defaultOutputTokens;
    return {
      micros: tokensMicros(inputTokens, price.input) + tokensMicros(outputTokens, price.output),
      via: 'tokens',
      model,
      inputTokens,
      outputTokens,
    };
  }

  /** The actual cost from a provider's usage in `output`, or undefined when it reports none. */
  actual(action: Action, output: unknown): number | undefined {
    return this.priceOutput(action, output)?.micros;
  }

  /**
   * What a finished action actually cost: the provider's usage in `output` priced from the table,
   * else the `usd` reported with its result (finite and not negative); undefined when neither is
   * known, and then the estimate stands. INVARIANT: the one definition of an actual cost — budgets
   * settle with it and the result audit record carries it (`data.actual`), which is what
   * monitoring and incident reports count.
   */
  actualCost(action: Action, reported: { usd?: number | undefined; output?: unknown }): Actual | undefined {
    const priced = reported.output === undefined ? undefined : this.priceOutput(action, reported.output);
    if (priced) return { micros: priced.micros, via: 'usage', usage: priced.usage };
    const micros = reportedMicros(reported.usd);
    return micros === undefined ? undefined : { micros, via: 'reported' };
  }

  private priceOutput(action: Action, output: unknown): { micros: number; usage: Usage } | undefined {
    // Only a model call's output is priced: any other tool or endpoint could return a `usage`
    // object (and a `model`) of its choosing and so inflate what it is said to have cost.
    const named = this.modelOf(action);
    if (named === undefined) return undefined;
    const usage = usageOf(output);
    if (!usage) return undefined;
    const model = usage.model ?? named;
    const price = this.prices(model);
    if (!price) return undefined;
    return { micros: priceUsage(usage, price), usage: { ...usage, model } };
  }
}

const ESTIMATE = 'limits.estimate';

/**
 * The action's estimate, priced once per decision and shared through `ctx.facts`: the limits
 * stage prices it for the decision record and every budget holds the same figure.
 */
export async function estimateFor(ctx: Context, cost: CostModel): Promise<Estimate | { unpriced: string }> {
  let e = estimateIn(ctx);
  if (!e) {
    e = await cost.estimate(ctx.action);
    ctx.facts.set(ESTIMATE, e);
  }
  return e;
}

/** The estimate already priced for this decision, if any. */
export function estimateIn(ctx: Context): Estimate | { unpriced: string } | undefined {
  return ctx.facts.get(ESTIMATE) as Estimate | { unpriced: string } | undefined;
}

/** Micro-dollars of a reported cost in USD; undefined unless a finite, non-negative number. */
export function reportedMicros(usd: unknown): number | undefined {
  return typeof usd === 'number' && Number.isFinite(usd) && usd >= 0 ? toMicros(usd) : undefined;
}

/** Micro-dollars for `tokens` at `perMillion` USD per million tokens, rounded up. */
export function tokensMicros(tokens: number, perMillion: number): number {
  // USD per million tokens is micro-dollars per token; scale to integers so the product is exact.
  return Math.ceil((tokens * Math.round(perMillion * 1e6)) / 1e6);
}

export function priceUsage(usage: Usage, price: ModelPrice): number {
  return (
    tokensMicros(usage.inputTokens, price.input) +
    tokensMicros(usage.cachedInputTokens, price.cachedInput ?? price.input) +
    tokensMicros(usage.outputTokens, price.output)
  );
}

function intParam(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

function countText(p: Record<string, unknown>): number {
  let n = 0;
  if (typeof p.system === 'string') n += countTokens(p.system);
  if (typeof p.prompt === 'string') n += countTokens(p.prompt);
  if (Array.isArray(p.messages)) {
    for (const m of p.messages) {
      n += PER_MESSAGE;
      const content = (m as { content?: unknown } | null)?.content;
      if (typeof content === 'string') n += countTokens(content);
      else if (Array.isArray(content)) {
        for (const part of content) {
          const text = (part as { text?: unknown } | null)?.text;
          if (typeof text === 'string') n += countTokens(text);
        }
      }
    }
    n += PER_REPLY;
  }
  return n;
}

type Obj = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

/**
 * Reads token usage in the shapes providers return: OpenAI Chat Completions (`usage.prompt_tokens`)
 * and Responses (`usage.input_tokens` + `input_tokens_details`), Anthropic (`usage.input_tokens`
 * + `cache_read_input_tokens`), Google (`usageMetadata`), the Vercel AI SDK (`usage.inputTokens`).
 * Mistral and most open-weight hosts use the OpenAI shape.
 */
export function usageOf(output: unknown): Usage | undefined {
  if (!isObj(output)) return undefined;
  const model = typeof output.model === 'string' ? output.model : undefined;
  const withModel = (u: Usage): Usage => (model ? { ...u, model } : u);
  const g = output.usageMetadata;
  if (isObj(g)) {
    const cached = num(g.cachedContentTokenCount);
    return withModel({
      inputTokens: Math.max(0, num(g.promptTokenCount) - cached),
      cachedInputTokens: cached,
      outputTokens: num(g.candidatesTokenCount) + num(g.thoughtsTokenCount),
    });
  }
  const u = isObj(output.usage)
    ? output.usage
    : isObj(output.response)
      ? (output.response as Obj).usage
      : undefined;
  if (!isObj(u)) return undefined;
  if ('prompt_tokens' in u) {
    const details = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
    const cached = num(details.cached_tokens);
    return withModel({
      inputTokens: Math.max(0, num(u.prompt_tokens) - cached),
      cachedInputTokens: cached,
      outputTokens: num(u.completion_tokens),
    });
  }
  if ('input_tokens' in u) {
    if ('cache_read_input_tokens' in u || 'cache_creation_input_tokens' in u) {
      // Anthropic: input_tokens excludes cache reads; cache writes are billed as input here.
      return withModel({
        inputTokens: num(u.input_tokens) + num(u.cache_creation_input_tokens),
        cachedInputTokens: num(u.cache_read_input_tokens),
        outputTokens: num(u.output_tokens),
      });
    }
    const details = isObj(u.input_tokens_details) ? u.input_tokens_details : {};
    const cached = num(details.cached_tokens);
    return withModel({
      inputTokens: Math.max(0, num(u.input_tokens) - cached),
      cachedInputTokens: cached,
      outputTokens: num(u.output_tokens),
    });
  }
  if ('inputTokens' in u || 'outputTokens' in u) {
    const cached = num(u.cachedInputTokens);
    return withModel({
      inputTokens: Math.max(0, num(u.inputTokens) - cached),
      cachedInputTokens: cached,
      outputTokens: num(u.outputTokens),
    });
  }
  return undefined;
}
