import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { SecretScanner, secretScanner } from '../src/secrets/detect.js';
import { reviewText } from '../src/secrets/review.js';
import { readOutputCorpus, scoreOutputReview } from '../src/secrets/review-corpus.js';
import { type BenchRow, microsRow, percentile } from './report.js';

/**
 * Scenario `output-review`: precision and recall of output review per kind on the shipped corpus
 * (`test/corpus/output/texts.jsonl`, 600 generated texts), and its p50 per KB of text beside
 * secretlint's own async `lintSource` over the same texts with the same rules (the API Warden
 * runs synchronously instead, see `src/secrets/secretlint-rules.ts`).
 */

const ROUNDS = Number(process.env.BENCH_REVIEW_ROUNDS ?? 20);
const REDACT_ALL = {
  secret: 'redact',
  email: 'redact',
  phone: 'redact',
  card: 'redact',
  iban: 'redact',
  'national-id': 'redact',
} as const;

async function perKb(texts: readonly string[], fn: (t: string, round: number) => unknown): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of texts) {
      const t0 = process.hrtime.bigint();
      await fn(t, r);
      samples.push(Number(process.hrtime.bigint() - t0) / 1000 / (Buffer.byteLength(t) / 1024));
    }
  }
  return percentile(
    samples.sort((a, b) => a - b),
    50,
  );
}

export async function benchOutputReview(): Promise<BenchRow[]> {
  const corpus = readOutputCorpus(new URL('../../', import.meta.url));
  const rows: BenchRow[] = [];
  for (const s of scoreOutputReview(corpus, (t) => reviewText(t, REDACT_ALL).findings)) {
    rows.push(
      { scenario: 'output-review', metric: `${s.kind} precision`, value: round(s.precision), unit: 'ratio' },
      { scenario: 'output-review', metric: `${s.kind} recall`, value: round(s.recall), unit: 'ratio' },
    );
  }
  const texts = corpus.map((e) => e.text);
  secretScanner().scan(texts[0] ?? ''); // rules created before timing
  const config = { rules: [{ id: recommended.meta.id, rule: recommended }] };
  const baseline = await perKb(texts, (t) =>
    lintSource({
      source: { content: t, filePath: '/t.txt', ext: '.txt', contentType: 'text' },
      options: { config },
    }),
  );
  // A scanner remembers short texts it found clean: each round gets scanners that have seen none of
  // the corpus, so these rows time the rules, not the memo (which has its own row).
  const fresh = () =>
    Array.from({ length: ROUNDS }, (_, i) => {
      const scanner = new SecretScanner();
      scanner.scan(`rules created before timing ${i}`);
      return scanner;
    });
  const scanners = fresh();
  const scan = await perKb(texts, (t, r) => (scanners[r] as SecretScanner).scan(t));
  const reviewers = fresh();
  const review = await perKb(texts, (t, r) => reviewText(t, REDACT_ALL, reviewers[r]));
  const seen = await perKb(texts, (t) => secretScanner().scan(t));
  const base = { name: 'secretlint lintSource (async), same rules', value: round(baseline) };
  rows.push(
    microsRow('output-review', 'secret scan p50 per KB, text not seen before', round(scan), base),
    microsRow(
      'output-review',
      'output review (secrets + PII) p50 per KB, text not seen before',
      round(review),
      base,
    ),
    microsRow(
      'output-review',
      'secret scan p50 per KB, text seen before (clean-text memo)',
      round(seen),
      base,
    ),
  );
  return rows;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
