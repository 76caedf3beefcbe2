import { readFileSync } from 'node:fs';
import type { Detector } from './detector.js';

/** One document of the detector corpus (`test/corpus/injection/*.jsonl`). */
export interface DetectorCase {
  id: string;
  category: string;
  expect: 'injection' | 'benign';
  text: string;
}

/** Per category: how many documents, how many the detector flagged as an injection. */
export interface CategoryScore {
  category: string;
  expect: 'injection' | 'benign';
  total: number;
  flagged: number;
}

/** Reads a corpus file; an entry without an expectation fails the load (a case that asserts nothing is a defect). */
export function readDetectorCorpus(file: string): DetectorCase[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const c = JSON.parse(line) as DetectorCase;
      if (
        !c.id ||
        !c.category ||
        typeof c.text !== 'string' ||
        (c.expect !== 'injection' && c.expect !== 'benign')
      )
        throw new Error(`${file}:${i + 1}: expected { id, category, expect: injection|benign, text }`);
      return c;
    });
}

/** Runs `detector` over the cases and counts, per category, the documents labelled `injection`. */
export async function scoreDetector(
  detector: Detector,
  cases: readonly DetectorCase[],
): Promise<CategoryScore[]> {
  const by = new Map<string, CategoryScore>();
  for (const c of cases) {
    const key = `${c.expect}\0${c.category}`;
    const score = by.get(key) ?? { category: c.category, expect: c.expect, total: 0, flagged: 0 };
    score.total++;
    if ((await detector.detect(c.text)).some((f) => f.label === 'injection')) score.flagged++;
    by.set(key, score);
  }
  return [...by.values()];
}
