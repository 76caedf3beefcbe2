import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson } from '../audit/canonical-json.js';
import type { Decision } from '../contract/decision.js';
import { decisionEntry } from './records.js';

const deny: Decision = {
  id: 'act_1',
  effect: 'deny',
  risk: 'low',
  reasons: [{ code: 'validate.invalid', stage: 'validate', message: 'invalid action' }],
};

function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('the decision record of an unvalidated input can always be written', () => {
  test('non-finite numbers, bigints, deep nesting and cycles are summarised, never thrown on', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const inputs = [
      { agent: 'a', type: 'fs.read', params: { n: Number.POSITIVE_INFINITY, m: Number.NaN } },
      { agent: 'a', type: 'fs.read', params: { deep: nested(600) } },
      { agent: 'a', type: 'fs.read', params: { big: 10n, cycle } },
      {
        agent: 'x'.repeat(10_000),
        type: 'fs.read',
        params: { list: Array.from({ length: 5000 }, (_, i) => i) },
      },
    ];
    for (const input of inputs) {
      const entry = decisionEntry(undefined, input, deny);
      const text = canonicalJson(entry);
      assert.ok(text.length < 10_000, `summary of ${text.length} characters`);
    }
    const entry = decisionEntry(undefined, inputs[0], deny);
    assert.deepEqual((entry.data as { action: unknown }).action, {
      invalid: true,
      type: 'fs.read',
      params: { n: '[not a finite number: Infinity]', m: '[not a finite number: NaN]' },
    });
    assert.match(canonicalJson(decisionEntry(undefined, inputs[1], deny)), /nested deeper than 8 levels/);
    assert.equal(decisionEntry(undefined, inputs[3], deny).agent, undefined);
  });
});
