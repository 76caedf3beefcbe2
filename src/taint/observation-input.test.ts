import assert from 'node:assert/strict';
import test from 'node:test';
import fc from 'fast-check';
import { ObservationError, ObservationSchema } from '../contract/observation.js';
import { observationOf } from './observation-input.js';

const accepts = (input: unknown): boolean => {
  try {
    observationOf(input);
    return true;
  } catch (error) {
    assert.ok(error instanceof ObservationError);
    return false;
  }
};

test('an observation is accepted exactly when the schema accepts it, with what the schema keeps', () => {
  const text = fc.oneof(
    fc.string({ maxLength: 3 }),
    fc.constant('x'.repeat(201)),
    fc.constant('x'.repeat(2001)),
  );
  const field = fc.oneof(text, fc.constant(undefined), fc.integer(), fc.constant(null));
  const observationish = fc.record(
    {
      agent: field,
      session: field,
      source: field,
      content: field,
      trust: fc.oneof(fc.constantFrom('trusted', 'untrusted', 'TRUSTED'), field),
      extra: field,
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(observationish, fc.anything()), (input) => {
      const reference = ObservationSchema.safeParse(input);
      assert.equal(accepts(input), reference.success, JSON.stringify(input));
      if (reference.success) assert.deepEqual(observationOf(input), reference.data);
    }),
    { numRuns: 5000 },
  );
});

test('an invalid observation is refused naming its field', () => {
  assert.throws(
    () => observationOf({ agent: 'a', session: '', source: 'user', content: 'x' }),
    /invalid observation: `session`/,
  );
  assert.throws(() => observationOf({ agent: 'a', session: 's', source: 'user' }), /`content`/);
});

test('changing the input after it was accepted does not change the observation', () => {
  const input = { agent: 'a', session: 's', source: 'user', content: 'hello' };
  const observed = observationOf(input);
  input.content = 'changed';
  assert.equal(observed.content, 'hello');
});
