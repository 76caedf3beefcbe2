import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import picomatch from 'picomatch';
import { globsOverlap } from './glob-overlap.js';

describe('glob overlap', () => {
  test('a word that can expand to a protected name overlaps it, in any glob form', () => {
    for (const [word, pattern] of [
      ['.en?', '.env'],
      ['.e*', '.env'],
      ['.[e]nv', '.env'],
      ['.[a-f]nv', '.env'],
      ['.[!x]nv', '.env'],
      ['.ENV', '.env'],
      ['*.p?m', '*.pem'],
      ['*', '*.pem'],
      ['id_*', 'id_rsa*'],
      ['??????', 'id_rsa*'],
      ['.env.*', '.env.*'],
      ['*.[kK][eE][yY]', '*.key'],
    ])
      assert.equal(
        globsOverlap(word as string, pattern as string, { shellDot: true }),
        true,
        `${word} ~ ${pattern}`,
      );
  });

  test('a word that cannot reach a protected name does not overlap it (benign neighbours)', () => {
    for (const [word, pattern] of [
      ['*.ts', '*.pem'],
      ['*', '.env'],
      ['?env', '.env'],
      ['[a-z]env', '.env'],
      ['src', '.env'],
      ['.en', '.env'],
      ['*.md', 'config.json'],
      ['.env?', '.env'],
      ['env*', '.env.*'],
      ['.[!e]nv', '.env'],
    ])
      assert.equal(
        globsOverlap(word as string, pattern as string, { shellDot: true }),
        false,
        `${word} ~ ${pattern}`,
      );
  });

  test('when a literal word overlaps a pattern, the pattern matches it (agrees with picomatch)', () => {
    const name = fc.stringMatching(/^[.a-zA-Z_]{1,8}$/);
    const pattern = fc.constantFrom(
      '.env',
      '.env.*',
      '*.pem',
      'id_rsa*',
      'config.json',
      '.?sh',
      '[a-c]*.key',
    );
    fc.assert(
      fc.property(name, pattern, (n, p) => {
        assert.equal(globsOverlap(n, p), picomatch(p, { nocase: true, dot: true })(n), `${n} ~ ${p}`);
      }),
      { seed: 19, numRuns: 500 },
    );
  });
});
