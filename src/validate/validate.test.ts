import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ActionSchema } from '../contract/action.js';
import { paramSchemaFor } from './param-schemas.js';
import { newActionId, validateAction } from './validate.js';

/** What zod alone says: the reference the fast path must never contradict. */
function zodAccepts(input: unknown): boolean {
  const base = ActionSchema.safeParse(input);
  if (!base.success) return false;
  const schema = paramSchemaFor(base.data.type);
  return !schema || schema.safeParse(base.data.params ?? {}).success;
}

const nameish = fc.oneof(
  fc.string({ maxLength: 5 }),
  fc.constantFrom('', 'a'.repeat(201), 'agent-1'),
  fc.integer(),
);
const typeish = fc.oneof(
  fc.constantFrom(
    'fs.read',
    'fs.write',
    'sql.query',
    'payment.send',
    'crm.update',
    'Fs.Read',
    'fs',
    '.x',
    'a.b.c',
    'shell.exec',
  ),
  fc.string({ maxLength: 12 }),
);
const paramsish = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant([]),
  fc.record({ path: fc.oneof(fc.string({ maxLength: 4 }), fc.integer()) }, { requiredKeys: [] }),
  fc.record({ sql: fc.string({ maxLength: 4 }), content: fc.string({ maxLength: 3 }) }, { requiredKeys: [] }),
  fc.record(
    {
      amount: fc.oneof(fc.double(), fc.integer()),
      currency: fc.constantFrom('USD', 'usd'),
      to: fc.string({ maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
);
const actionish = fc.record(
  {
    agent: nameish,
    type: typeish,
    params: paramsish,
    id: nameish,
    user: nameish,
    session: nameish,
    description: fc.oneof(fc.string({ maxLength: 4 }), fc.integer()),
    extra: fc.string({ maxLength: 2 }),
  },
  { requiredKeys: [] },
);

describe('validateAction', () => {
  test('accepts exactly what the zod schemas accept (fast path included)', () => {
    fc.assert(
      fc.property(actionish, (input) => {
        assert.equal(validateAction(input).ok, zodAccepts(input), JSON.stringify(input));
      }),
      { numRuns: 5000 },
    );
  });

  test('a changed params object after validation does not change the action', () => {
    const params = { path: '/data/a' };
    const v = validateAction({ agent: 'a', type: 'fs.read', params });
    params.path = '/etc/shadow';
    assert.ok(v.ok);
    assert.equal(v.action.params.path, '/data/a');
  });

  test('generated ids are unique and keep the act_ + 32 hex format', () => {
    const ids = new Set(Array.from({ length: 10_000 }, newActionId));
    assert.equal(ids.size, 10_000);
    for (const id of [...ids].slice(0, 10)) assert.match(id, /^act_[0-9a-f]{32}$/);
  });

  test('generated ids cannot be predicted from earlier ones: 80 fresh random bits each, no counter', () => {
    const ids = Array.from({ length: 1000 }, newActionId);
    for (const id of ids) assert.match(id, /^act_[0-9a-f]{32}$/);
    // After the 12-digit time, each id holds 80 fresh random bits: two of 1000 sharing their
    // first or last 8 random hex digits (32 bits) by chance has a probability below 1e-4. The old
    // ids shared a 16-digit per-process prefix and ended in a counter.
    const heads = new Set(ids.map((id) => id.slice(16, 24)));
    assert.ok(heads.size > 990, `only ${heads.size} distinct random heads in 1000 ids`);
    const tails = new Set(ids.map((id) => id.slice(-8)));
    assert.ok(tails.size > 990, `only ${tails.size} distinct endings in 1000 ids`);
  });

  test('generated ids are ordered by time, so the audit index on action ids grows at its end', async () => {
    const first = newActionId();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = newActionId();
    assert.ok(later.slice(0, 16) > first.slice(0, 16), `${later} sorts after ${first}`);
  });
});
