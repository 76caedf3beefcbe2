import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RateSpec } from '../backend.js';
import { type Doc, rateStep } from './doc-backend.js';

/** Applies calls at the given times (ms), one window, and returns what was decided. */
function replay(spec: RateSpec, times: number[]) {
  let doc: Doc | undefined;
  const admitted: number[] = [];
  const refused: { t: number; retryAfterMs: number }[] = [];
  times.forEach((t, i) => {
    const step = rateStep([spec], [doc], `m${i}`, true, t);
    doc = step.docs[0];
    if (step.result.ok) admitted.push(t);
    else refused.push({ t, retryAfterMs: step.result.retryAfterMs });
  });
  return { admitted, refused };
}

/** Admitted calls that still count at `t`: those at or after t - window. */
const inWindow = (admitted: number[], t: number, windowMs: number) =>
  admitted.filter((a) => a >= t - windowMs && a <= t).length;

const calls = fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 200 }).map((deltas) => {
  let t = 1_000_000;
  return deltas.map((d) => {
    t += d;
    return t;
  });
});

test('the sliding window never admits more than the limit in any window, and refuses only when full', () => {
  fc.assert(
    fc.property(
      calls,
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 2000 }),
      (times, limit, windowMs) => {
        const spec = { key: 'k', windowMs, limit };
        const { admitted, refused } = replay(spec, times);
        for (const t of admitted)
          assert.ok(inWindow(admitted, t, windowMs) <= limit, `over the limit at ${t}`);
        for (const r of refused) {
          assert.equal(inWindow(admitted, r.t, windowMs), limit, `refused at ${r.t} with room left`);
          // When told to retry, there is room again.
          const later = r.t + r.retryAfterMs;
          assert.ok(
            inWindow(
              admitted.filter((a) => a <= r.t),
              later,
              windowMs,
            ) < limit,
            'retryAfterMs too early',
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('a token bucket admits at most its burst plus what refilled in any interval', () => {
  fc.assert(
    fc.property(
      calls,
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 20 }),
      (times, capacity, perSecond) => {
        const spec = { key: 'k', windowMs: 1000, limit: perSecond, bucket: { capacity } };
        const { admitted } = replay(spec, times);
        for (let i = 0; i < admitted.length; i++) {
          for (let j = i; j < admitted.length; j++) {
            const span = (admitted[j] as number) - (admitted[i] as number);
            assert.ok(
              j - i + 1 <= capacity + Math.floor((span * perSecond) / 1000) + 1e-9,
              'bucket overdrawn',
            );
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});
