import type { Tiktoken } from 'js-tiktoken/lite';

/**
 * Counts tokens with OpenAI's `o200k_base` encoding (js-tiktoken, pure JavaScript). It is exact
 * for GPT-4o, GPT-4.1, GPT-5 and the o-series; for Anthropic, Google, Mistral and open-weight
 * models it is an approximation (their tokenizers are not public or not shipped), usually within
 * about 10–20% for English text. The provider's reported usage settles the actual cost.
 * The encoding is loaded on first use (0.6–0.8 s, ~70 MB of heap), only when text must be counted.
 */
let encoder: Tiktoken | undefined;
let loading: Promise<Tiktoken> | undefined;

export async function loadTokenizer(): Promise<void> {
  if (encoder) return;
  // The tokenizer itself loads here too, not with the limits: most policies never count tokens.
  loading ??= Promise.all([import('js-tiktoken/lite'), import('js-tiktoken/ranks/o200k_base')]).then(
    ([{ Tiktoken }, ranks]) => {
      encoder = new Tiktoken(ranks.default);
      return encoder;
    },
  );
  await loading;
}

/** Tokens in `text`. Call `loadTokenizer()` once first. */
export function countTokens(text: string): number {
  if (!encoder) throw new Error('the tokenizer is not loaded: await loadTokenizer() first');
  // Special-token text (`<|endoftext|>`) is counted as plain text, never refused.
  return encoder.encode(text, [], []).length;
}
