import { type SecretScanner, secretScanner } from './detect.js';
import { findPii, type PiiKind } from './pii.js';
import { replaceSpans, type Span, valueHash } from './redact-text.js';

/** The kinds output review reports: `secret` (any secret rule) and the personal-data kinds. */
export type ReviewKind = 'secret' | PiiKind;
export type ReviewEffect = 'allow' | 'redact' | 'ask' | 'deny';

/** One finding of output review. The value itself is never returned, only its hash. */
export interface ReviewFinding {
  kind: ReviewKind;
  /** The rule that found it: a secret rule (`aws`, `github`, `entropy`, …) or `email`, `card`, `iban`, `us-ssn`, … */
  rule: string;
  start: number;
  end: number;
  /** First 12 hex digits of the value's SHA-256. */
  hash: string;
  /** What the policy does with this kind. */
  effect: ReviewEffect;
}

/** What {@link reviewText} returns: the strictest effect, the text with redactable findings replaced, the findings. */
export interface ReviewResult {
  effect: ReviewEffect;
  text: string;
  findings: ReviewFinding[];
}

const ORDER: Record<ReviewEffect, number> = { allow: 0, redact: 1, ask: 2, deny: 3 };

/**
 * Output review: scans generated text (a model's answer, a tool's result) for secrets and
 * personal data. Every finding whose kind is not `allow` is replaced in `text` by a marker
 * (`[REDACTED:<rule>:<hash>]`), whatever the effect: a denied or asked output is never shown
 * as it came. `effect` is the strictest of the findings' effects (`allow` when none).
 *
 * @example
 * reviewText('mail bob@example.com', { email: 'redact' })
 * // → { effect: 'redact', text: 'mail [REDACTED:email:5ff8…]', findings: [{ kind: 'email', … }] }
 */
export function reviewText(
  text: string,
  effects: Readonly<Record<ReviewKind, ReviewEffect>>,
  scanner: SecretScanner = secretScanner(),
): ReviewResult {
  const spans: Array<Span & { kind: ReviewKind }> = [
    ...scanner.scan(text).map((h) => ({ ...h, kind: 'secret' as const })),
  ];
  for (const p of findPii(text)) {
    // A secret's text may hold what looks like an email or a number: the secret names it.
    if (!spans.some((s) => p.start < s.end && s.start < p.end)) spans.push(p);
  }
  spans.sort((a, b) => a.start - b.start);
  let effect: ReviewEffect = 'allow';
  const findings: ReviewFinding[] = [];
  const redacted: Span[] = [];
  for (const s of spans) {
    const e = effects[s.kind];
    if (ORDER[e] > ORDER[effect]) effect = e;
    findings.push({
      kind: s.kind,
      rule: s.rule,
      start: s.start,
      end: s.end,
      hash: valueHash(s.value),
      effect: e,
    });
    if (e !== 'allow') redacted.push(s);
  }
  return { effect, text: replaceSpans(text, redacted), findings };
}
