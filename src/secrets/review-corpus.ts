import { readFileSync } from 'node:fs';
import type { ReviewFinding } from './review.js';

/** One text of the output-review corpus (`test/corpus/output/texts.jsonl`) and the values it holds. */
export interface CorpusEntry {
  text: string;
  expect: Array<{ kind: string; value: string }>;
}

export interface KindScore {
  kind: string;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}

/** The shipped corpus; `base` is the repository root as a file URL (tests and the built bench differ). */
export function readOutputCorpus(base: URL): CorpusEntry[] {
  return readFileSync(new URL('test/corpus/output/texts.jsonl', base), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as CorpusEntry);
}

/**
 * Precision and recall per kind: a finding is a true positive when its span overlaps an expected
 * value of the same kind, a false positive otherwise; an expected value no finding of its kind
 * overlaps is a false negative.
 */
export function scoreOutputReview(
  corpus: readonly CorpusEntry[],
  review: (text: string) => readonly ReviewFinding[],
): KindScore[] {
  const counts = new Map<string, { tp: number; fp: number; fn: number }>();
  const at = (kind: string) => {
    const known = counts.get(kind);
    if (known) return known;
    const c = { tp: 0, fp: 0, fn: 0 };
    counts.set(kind, c);
    return c;
  };
  for (const entry of corpus) {
    const spans = entry.expect.map((e) => {
      const start = entry.text.indexOf(e.value);
      return { kind: e.kind, start, end: start + e.value.length, hit: false };
    });
    for (const f of review(entry.text)) {
      const match = spans.find((s) => s.kind === f.kind && f.start < s.end && s.start < f.end);
      if (match) {
        if (!match.hit) at(f.kind).tp++;
        match.hit = true;
      } else at(f.kind).fp++;
    }
    for (const s of spans) if (!s.hit) at(s.kind).fn++;
  }
  return [...counts.entries()]
    .map(([kind, c]) => ({
      kind,
      ...c,
      precision: c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp),
      recall: c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn),
    }))
    .sort((a, b) => a.kind.localeCompare(b.kind));
}
