/**
 * Model prices in US dollars per million tokens: input, output and cached input (a prompt-cache
 * hit). Compiled by hand from each provider's public pricing page; `asOf` says when. Prices
 * change: check them before relying on a budget, and override or add models in the policy
 * (`limits.prices`). Where a provider has tiers (Gemini 2.5 Pro above 200k tokens, batch
 * discounts), the table holds the standard on-demand tier for prompts up to 200k tokens.
 * Open-weight models are priced at one named host (`host`); other hosts differ.
 */

export interface ModelPrice {
  /** USD per million input tokens. */
  input: number;
  /** USD per million output tokens. */
  output: number;
  /** USD per million cached input tokens; the input price when the provider has no discount. */
  cachedInput?: number | undefined;
}

interface PriceEntry extends ModelPrice {
  provider: string;
  host?: string;
}

export const PRICES_SOURCE =
  "the providers' public pricing pages (openai.com/api/pricing, anthropic.com/pricing, ai.google.dev/pricing, mistral.ai/pricing, api-docs.deepseek.com, together.ai/pricing)";
export const PRICES_AS_OF = '2025-11';

export const PRICE_TABLE: Readonly<Record<string, PriceEntry>> = {
  // OpenAI
  'gpt-5': { provider: 'openai', input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { provider: 'openai', input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { provider: 'openai', input: 0.05, cachedInput: 0.005, output: 0.4 },
  'gpt-4.1': { provider: 'openai', input: 2, cachedInput: 0.5, output: 8 },
  'gpt-4.1-mini': { provider: 'openai', input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1-nano': { provider: 'openai', input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gpt-4o': { provider: 'openai', input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4o-mini': { provider: 'openai', input: 0.15, cachedInput: 0.075, output: 0.6 },
  o3: { provider: 'openai', input: 2, cachedInput: 0.5, output: 8 },
  'o4-mini': { provider: 'openai', input: 1.1, cachedInput: 0.275, output: 4.4 },
  o1: { provider: 'openai', input: 15, cachedInput: 7.5, output: 60 },
  // Anthropic (cached input = cache read)
  'claude-opus-4-5': { provider: 'anthropic', input: 5, cachedInput: 0.5, output: 25 },
  'claude-opus-4-1': { provider: 'anthropic', input: 15, cachedInput: 1.5, output: 75 },
  'claude-opus-4': { provider: 'anthropic', input: 15, cachedInput: 1.5, output: 75 },
  'claude-sonnet-4-5': { provider: 'anthropic', input: 3, cachedInput: 0.3, output: 15 },
  'claude-sonnet-4': { provider: 'anthropic', input: 3, cachedInput: 0.3, output: 15 },
  'claude-3-7-sonnet': { provider: 'anthropic', input: 3, cachedInput: 0.3, output: 15 },
  'claude-haiku-4-5': { provider: 'anthropic', input: 1, cachedInput: 0.1, output: 5 },
  'claude-3-5-haiku': { provider: 'anthropic', input: 0.8, cachedInput: 0.08, output: 4 },
  // Google (prompts up to 200k tokens)
  'gemini-2.5-pro': { provider: 'google', input: 1.25, cachedInput: 0.125, output: 10 },
  'gemini-2.5-flash': { provider: 'google', input: 0.3, cachedInput: 0.03, output: 2.5 },
  'gemini-2.5-flash-lite': { provider: 'google', input: 0.1, cachedInput: 0.01, output: 0.4 },
  'gemini-2.0-flash': { provider: 'google', input: 0.1, cachedInput: 0.025, output: 0.4 },
  // Mistral (no cached-input discount)
  'mistral-large': { provider: 'mistral', input: 2, output: 6 },
  'mistral-medium': { provider: 'mistral', input: 0.4, output: 2 },
  'mistral-small': { provider: 'mistral', input: 0.1, output: 0.3 },
  codestral: { provider: 'mistral', input: 0.3, output: 0.9 },
  'magistral-medium': { provider: 'mistral', input: 2, output: 5 },
  'ministral-8b': { provider: 'mistral', input: 0.1, output: 0.1 },
  // Open-weight models, hosted
  'deepseek-chat': { provider: 'deepseek', host: 'deepseek', input: 0.28, cachedInput: 0.028, output: 0.42 },
  'deepseek-reasoner': {
    provider: 'deepseek',
    host: 'deepseek',
    input: 0.28,
    cachedInput: 0.028,
    output: 0.42,
  },
  'llama-3.3-70b-instruct': { provider: 'meta', host: 'together', input: 0.88, output: 0.88 },
  'llama-4-maverick': { provider: 'meta', host: 'together', input: 0.27, output: 0.85 },
  'llama-4-scout': { provider: 'meta', host: 'together', input: 0.18, output: 0.59 },
  'qwen3-235b-a22b': { provider: 'qwen', host: 'together', input: 0.2, output: 0.6 },
  'gpt-oss-120b': { provider: 'openai', host: 'together', input: 0.15, output: 0.6 },
  'gpt-oss-20b': { provider: 'openai', host: 'together', input: 0.05, output: 0.2 },
};

/** Finds a model's price: the policy's own entries first, then the table. */
export type PriceLookup = (model: string) => ModelPrice | undefined;

/**
 * Builds a lookup over `overrides` and the table. A model name matches an entry exactly; else with
 * a `provider/` prefix removed (`openai/gpt-4o`); else the longest entry it starts with followed by
 * `-` (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`);
 * `-latest` and dots in versions (`claude-sonnet-4.5`) are normalised.
 */
export function priceLookup(overrides: Readonly<Record<string, ModelPrice>> = {}): PriceLookup {
  const entries = new Map<string, ModelPrice>();
  for (const [name, price] of Object.entries(PRICE_TABLE)) entries.set(name, price);
  for (const [name, price] of Object.entries(overrides)) entries.set(name.toLowerCase(), price);
  const names = [...entries.keys()].sort((a, b) => b.length - a.length);
  const memo = new Map<string, ModelPrice | null>();
  const find = (model: string): ModelPrice | undefined => {
    const exact = entries.get(model);
    if (exact) return exact;
    for (const name of names) if (model.startsWith(`${name}-`)) return entries.get(name);
    return undefined;
  };
  return (model) => {
    const cached = memo.get(model);
    if (cached !== undefined) return cached ?? undefined;
    const lower = model.toLowerCase();
    const bare = lower.slice(lower.lastIndexOf('/') + 1).replace(/-latest$/, '');
    const price =
      entries.get(model) ??
      find(lower) ??
      find(bare) ??
      find(bare.replace(/(\d)\.(\d)/g, '$1-$2')) ??
      find(bare.replace(/-instruct(-turbo)?$/, '-instruct'));
    if (memo.size > 10_000) memo.clear();
    memo.set(model, price ?? null);
    return price;
  };
}
