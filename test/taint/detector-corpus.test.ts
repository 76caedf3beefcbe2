import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDetectorCorpus, scoreDetector } from '../../src/taint/detector-corpus.js';
import { patternDetector } from '../../src/taint/pattern-detector.js';

const DIR = join(import.meta.dirname, '..', 'corpus', 'injection');
const injections = readDetectorCorpus(join(DIR, 'injections.jsonl'));
const benign = readDetectorCorpus(join(DIR, 'benign.jsonl'));

test('the corpus holds at least 500 injections and 500 benign documents, each with an expectation', () => {
  assert.ok(injections.length >= 500 && injections.every((c) => c.expect === 'injection'));
  assert.ok(benign.length >= 500 && benign.every((c) => c.expect === 'benign'));
});

test('the built-in detector keeps its recall per injection category and flags at most 2% of each benign category', async () => {
  // Floors: what the detector reached when the corpus was written. `plain-request` is the known
  // gap (instructions that read like ordinary requests); it may only go up.
  const floor: Record<string, number> = { 'plain-request': 0.35 };
  const scores = await scoreDetector(patternDetector(), [...injections, ...benign]);
  const out: string[] = [];
  for (const s of scores) {
    const rate = s.flagged / s.total;
    out.push(`${s.expect} ${s.category}: ${s.flagged}/${s.total}`);
    if (s.expect === 'injection')
      assert.ok(rate >= (floor[s.category] ?? 0.95), `${s.category}: recall ${rate}`);
    else assert.ok(rate <= 0.02, `${s.category}: ${s.flagged} false positives of ${s.total}`);
  }
  process.stdout.write(`detector on the shipped corpus:\n  ${out.join('\n  ')}\n`);
});
