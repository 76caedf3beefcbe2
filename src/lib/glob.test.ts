import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileNamePatterns } from './glob.js';
import { compileLinearRegex } from './linear-regex.js';

const escapeRe2 = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
const reference = (pattern: string) =>
  compileLinearRegex(`^${pattern.split('*').map(escapeRe2).join('.*')}$`);

test('name patterns match exactly what the RE2 translation of `*` as `.*` matches (a lone `*` matches every name)', () => {
  const alphabet = fc.constantFrom('a', 'b', '.', '-', '*', '\n');
  const pattern = fc.array(alphabet, { maxLength: 10 }).map((cs) => cs.join(''));
  const name = fc
    .array(fc.constantFrom('a', 'b', '.', '-', '\n'), { maxLength: 14 })
    .map((cs) => cs.join(''));
  fc.assert(
    fc.property(pattern, name, (p, n) => {
      assert.equal(
        compileNamePatterns([p])(n),
        p === '*' || reference(p).test(n),
        `pattern ${JSON.stringify(p)}, name ${JSON.stringify(n)}`,
      );
    }),
    { seed: 20261206, numRuns: 3000 },
  );
});

test('a pattern of many stars answers at once for a long name that almost matches', () => {
  const match = compileNamePatterns([`${'*a'.repeat(30)}*b`]);
  assert.equal(match('a'.repeat(199)), false);
  assert.equal(match(`${'a'.repeat(198)}b`), true);
});
