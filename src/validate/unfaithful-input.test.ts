import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_INPUT_DEPTH, validateAction } from './validate.js';

function nested(levels: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

function refusal(input: unknown): { field: string; message: string } {
  const v = validateAction(input);
  assert.equal(v.ok, false, JSON.stringify(v).slice(0, 200));
  return v as { field: string; message: string };
}

describe('an action JSON can parse but cannot carry faithfully is refused with the field', () => {
  test('a lone surrogate in a string param or a key is refused', () => {
    const a = refusal({ agent: 'a', type: 'fs.read', params: { path: '/data/\ud800.txt' } });
    assert.equal(a.field, 'params.path');
    assert.match(a.message, /lone surrogate/);
    const b = refusal({ agent: 'a', type: 'x.y', params: { 'k\udc00': 1 } });
    assert.match(b.message, /lone surrogate/);
    assert.match(refusal({ agent: 'a\ud800', type: 'x.y' }).field, /agent/);
  });

  test('a well-formed pair (an emoji) and U+FFFD typed on purpose are accepted', () => {
    assert.equal(validateAction({ agent: 'a', type: 'x.y', params: { t: 'ok 😀 \ufffd' } }).ok, true);
  });

  test('a non-finite number (1e309 parses as Infinity) is refused', () => {
    const r = refusal(JSON.parse('{"agent":"a","type":"x.y","params":{"n":[1,1e309]}}'));
    assert.equal(r.field, 'params.n[1]');
    assert.match(r.message, /finite number/);
  });

  test(`params nested deeper than ${MAX_INPUT_DEPTH} levels are refused; ${MAX_INPUT_DEPTH - 2} are fine`, () => {
    assert.match(
      refusal({ agent: 'a', type: 'x.y', params: { deep: nested(600) } }).message,
      /nested deeper/,
    );
    assert.equal(
      validateAction({ agent: 'a', type: 'x.y', params: { deep: nested(MAX_INPUT_DEPTH - 3) } }).ok,
      true,
    );
  });
});
