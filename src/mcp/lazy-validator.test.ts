import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { lazyValidator } from './lazy-validator.js';

const schema = {
  type: 'object',
  properties: { approve: { type: 'boolean' }, email: { type: 'string', format: 'email' } },
  required: ['approve'],
} as const;

test('the lazy validator accepts and refuses exactly what the SDK validator does', () => {
  const lazy = lazyValidator().getValidator<Record<string, unknown>>(schema);
  const eager = new AjvJsonSchemaValidator().getValidator<Record<string, unknown>>(schema);
  const inputs: unknown[] = [
    { approve: true },
    { approve: 'yes' },
    {},
    { approve: false, email: 'a@example.com' },
    { approve: false, email: 'not an address' },
    null,
    [],
  ];
  for (const input of inputs) {
    const [a, b] = [lazy(input), eager(input)];
    assert.equal(a.valid, b.valid, JSON.stringify(input));
    assert.equal(a.errorMessage, b.errorMessage, JSON.stringify(input));
  }
});

test('a schema that cannot compile fails when it is first used, not silently', () => {
  const validate = lazyValidator().getValidator({ type: 'no-such-type' } as never);
  assert.throws(() => validate({}), /type must be JSONType/);
});
