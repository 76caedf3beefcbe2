import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { generateOutputCorpus } from '../../test/corpus/output/generate.js';
import { ibanValid, luhnValid } from './pii.js';
import { reviewText } from './review.js';
import { readOutputCorpus, scoreOutputReview } from './review-corpus.js';

const REDACT_ALL = {
  secret: 'redact',
  email: 'redact',
  phone: 'redact',
  card: 'redact',
  iban: 'redact',
  'national-id': 'redact',
} as const;
const ROOT = new URL('../../', import.meta.url);

describe('output review on the shipped corpus', () => {
  test('the corpus on disk is what the generator makes from its seed', () => {
    const disk = readOutputCorpus(ROOT);
    assert.deepEqual(disk, generateOutputCorpus());
  });

  test('every kind is found with recall and precision of at least 0.95', () => {
    const scores = scoreOutputReview(readOutputCorpus(ROOT), (t) => reviewText(t, REDACT_ALL).findings);
    for (const s of scores) {
      assert.ok(s.recall >= 0.95, `${s.kind} recall ${s.recall.toFixed(3)} (${s.fn} missed)`);
      assert.ok(s.precision >= 0.95, `${s.kind} precision ${s.precision.toFixed(3)} (${s.fp} false)`);
    }
    assert.deepEqual(scores.map((s) => s.kind).sort(), [
      'card',
      'email',
      'iban',
      'national-id',
      'phone',
      'secret',
    ]);
  });

  test('no finding’s value survives in the redacted text', () => {
    for (const entry of readOutputCorpus(ROOT).slice(0, 200)) {
      const { text } = reviewText(entry.text, REDACT_ALL);
      for (const e of entry.expect) assert.ok(!text.includes(e.value), `${e.kind} left in: ${text}`);
    }
  });
});

describe('checksums', () => {
  test('a card number passes Luhn, and changing one digit breaks it', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 9 }), (i, delta) => {
        const digits = [...'4111111111111111'];
        digits[i] = String((Number(digits[i]) + delta) % 10);
        return !luhnValid(digits.join(''));
      }),
      { seed: 18, numRuns: 200 },
    );
  });

  test('an IBAN passes mod 97 with or without spaces; a changed check digit fails', () => {
    assert.equal(ibanValid('GB82 WEST 1234 5698 7654 32'), true);
    assert.equal(ibanValid('GB82WEST12345698765432'), true);
    assert.equal(ibanValid('GB83WEST12345698765432'), false);
  });

  test('a policy of `allow` for a kind leaves it in the text and in the findings', () => {
    const r = reviewText('mail bob@example.com', { ...REDACT_ALL, email: 'allow' });
    assert.equal(r.text, 'mail bob@example.com');
    assert.equal(r.effect, 'allow');
    assert.equal(r.findings[0]?.kind, 'email');
  });
});
