import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { normalizeGrantPath } from './resources.js';

/** The rule as written before any shortcut: posix.normalize, refuse a climb, drop a trailing slash. */
function byNormalize(path: string): string | { error: string } {
  if (path.includes('\0')) return { error: 'nul' };
  const normalized = posix.normalize(path);
  if (normalized === '..' || normalized.startsWith('../')) return { error: 'climbs' };
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

test('a grant path normalises exactly as posix.normalize does, whatever mix of `.`, `..`, empty and ordinary segments it has', () => {
  const segment = fc.constantFrom('', '.', '..', '...', '.a', 'a.', 'a', 'b..', '..c');
  fc.assert(
    fc.property(fc.boolean(), fc.array(segment, { maxLength: 7 }), fc.boolean(), (abs, segs, slash) => {
      const path = `${abs ? '/' : ''}${segs.join('/')}${slash ? '/' : ''}`;
      const got = normalizeGrantPath(path);
      const want = byNormalize(path);
      if (typeof want === 'string') assert.equal(got, want, path);
      else assert.equal(typeof got, 'object', path);
    }),
    { numRuns: 2000 },
  );
  assert.equal(normalizeGrantPath('/data/r/1.txt'), '/data/r/1.txt');
  assert.deepEqual(Object.keys(normalizeGrantPath('a/../../x') as object), ['error']);
});
