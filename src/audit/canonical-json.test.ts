import assert from 'node:assert/strict';
import { test } from 'node:test';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalJson, sha256Hex } from './canonical-json.js';

const json = fc.jsonValue({ maxDepth: 4 });

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, seed));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  entries.sort((a, b) => ((a[0].length * 31 + seed) % 7) - ((b[0].length * 31 + seed) % 7));
  entries.reverse();
  return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, seed)]));
}

test('key order does not change the output', () => {
  fc.assert(
    fc.property(json, fc.integer(), (value, seed) => {
      assert.equal(canonicalJson(shuffleKeys(value, seed)), canonicalJson(value));
    }),
  );
});

test('output parses back to an equal value', () => {
  fc.assert(
    fc.property(json, (value) => {
      assert.deepEqual(JSON.parse(canonicalJson(value)), JSON.parse(JSON.stringify(value)));
    }),
  );
});

test('canonicalising canonical output again changes nothing', () => {
  fc.assert(
    fc.property(json, (value) => {
      const once = canonicalJson(value);
      assert.equal(canonicalJson(JSON.parse(once)), once);
    }),
  );
});

test('agrees with the reference RFC 8785 implementation', () => {
  fc.assert(
    fc.property(json, (value) => {
      assert.equal(canonicalJson(value), canonicalize(value));
    }),
  );
});

test('sorts keys by UTF-16 code units and formats numbers like ECMAScript', () => {
  assert.equal(
    canonicalJson({ b: 1, a: 2, é: 3, '\u{1F600}': 4, '\uFFFF': 5 }),
    '{"a":2,"b":1,"é":3,"😀":4,"\uFFFF":5}',
  );
  assert.equal(canonicalJson([1e21, 1e-7, -0, 0.1]), '[1e+21,1e-7,0,0.1]');
});

test('drops undefined object fields and writes undefined array items as null', () => {
  assert.equal(canonicalJson({ a: undefined, b: [undefined, 1] }), '{"b":[null,1]}');
});

test('rejects non-finite numbers, naming where they are', () => {
  assert.throws(() => canonicalJson({ a: [Number.NaN] }), /`NaN` at `\$\.a\[0\]`/);
  assert.throws(() => canonicalJson(Number.POSITIVE_INFINITY), /finite/);
  assert.throws(() => canonicalJson({ n: 1n }), /bigint/);
});

test('rejects cycles instead of overflowing the stack', () => {
  const a: Record<string, unknown> = {};
  a.self = a;
  assert.throws(() => canonicalJson(a), /cycle/);
});

test('sha256Hex hashes UTF-8', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex(Buffer.from('abc')), sha256Hex('abc'));
});

test('a toJSON that canonicalises something itself does not disturb the outer output', () => {
  const inner = { toJSON: () => canonicalJson({ z: 1, a: [2] }) };
  assert.equal(
    canonicalJson({ b: inner, a: [inner] }),
    '{"a":["{\\"a\\":[2],\\"z\\":1}"],"b":"{\\"a\\":[2],\\"z\\":1}"}',
  );
});

test('a value that cannot be serialised leaves nothing behind for the next one', () => {
  assert.throws(() => canonicalJson({ a: 'x', b: [1, 2, { c: 10n }] }), /bigint/);
  assert.equal(canonicalJson({ b: 1, a: 'y' }), '{"a":"y","b":1}');
  const big = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i]));
  assert.equal(canonicalJson(big), JSON.stringify(Object.fromEntries(Object.entries(big).sort())));
  assert.equal(canonicalJson([1, 'two']), '[1,"two"]');
});
