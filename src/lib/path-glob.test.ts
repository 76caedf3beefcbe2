import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import picomatch from 'picomatch';
import { compileLookaheadRegex } from './lookahead-regex.js';
import { compileGlob, compileGlobSet } from './path-glob.js';
import { backtracksLinearly } from './regex-syntax.js';

// Glob pieces picomatch gives meaning to, and characters that meet them in paths.
const PIECES = [
  'a',
  'b',
  'A',
  '.',
  '-',
  '/',
  '@',
  '*',
  '**',
  '?',
  '[ab]',
  '[!a]',
  '[^a]',
  '[a-c]',
  '[[:alpha:]]',
  '{a,b}',
  '{a,*}',
  '{1..3}',
  '@(a|b)',
  '!(a)',
  '+(a)',
  '*(b)',
  '?(a)',
  '\\*',
  '.env',
  '**/',
];
const glob = fc
  .tuple(fc.boolean(), fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 7 }))
  .map(([negated, pieces]) => `${negated ? '!' : ''}${pieces.join('')}`);
const path = fc
  .array(fc.constantFrom('a', 'b', 'A', 'B', '.', '/', '-', '1', '@', '*', 'e', 'n', 'v', '\n'), {
    maxLength: 14,
  })
  .map((cs) => cs.join(''));
const RUNS = { seed: 20261206, numRuns: 2000 };

function agree(actual: () => boolean, expected: () => boolean, what: string): void {
  let want: boolean | string;
  try {
    want = expected();
  } catch (error) {
    want = `throws: ${(error as Error).message}`;
  }
  if (typeof want === 'string') assert.throws(actual, Error, what);
  else assert.equal(actual(), want, what);
}

test('a path glob matches exactly what picomatch with `dot: true` matches', () => {
  fc.assert(
    fc.property(glob, path, fc.boolean(), (g, p, nocase) => {
      agree(
        () => compileGlob(g, { nocase })(p),
        () => picomatch(g, { dot: true, nocase })(p),
        `glob ${JSON.stringify(g)}, path ${JSON.stringify(p)}, nocase ${nocase}`,
      );
    }),
    RUNS,
  );
});

test('the linear automaton decides exactly what the backtracking RegExp decides, on every glob', () => {
  // Several paths per compiled glob: the automaton keeps what it learnt from one path for the next.
  fc.assert(
    fc.property(glob, fc.array(path, { minLength: 1, maxLength: 6 }), fc.boolean(), (g, paths, nocase) => {
      const re = picomatch.makeRe(g, { dot: true, nocase });
      const linear = compileLookaheadRegex(re.source, re.flags);
      for (const p of paths)
        assert.equal(linear.test(p), re.test(p), `regex ${re.source}, path ${JSON.stringify(p)}`);
    }),
    RUNS,
  );
});

test('a list of globs matches a path when any of them does, and names the first that does', () => {
  fc.assert(
    fc.property(fc.array(glob, { minLength: 1, maxLength: 4 }), path, (globs, p) => {
      const set = compileGlobSet(globs, { nocase: true });
      const each = globs.map((g) => picomatch(g, { dot: true, nocase: true })(p));
      assert.equal(
        set.test(p),
        each.includes(true),
        `globs ${JSON.stringify(globs)}, path ${JSON.stringify(p)}`,
      );
      assert.equal(set.which(p), each.indexOf(true));
    }),
    { ...RUNS, numRuns: 1000 },
  );
});

test('a glob of many stars decides at once against a long path that almost matches', () => {
  const g = '**/a*a*a*a*a*a*a*a*a*b';
  const long = `x/${'a'.repeat(5000)}`;
  assert.equal(compileGlob(g)(long), false);
  assert.equal(compileGlob(g)(`${long}b`), true);
  // The automaton's work grows with the path's length times its size, never with the stars'
  // combinations (a backtracking RegExp tries C(5000, 9) splits here).
  const re = picomatch.makeRe(g, { dot: true });
  const linear = compileLookaheadRegex(re.source, re.flags);
  assert.equal(linear.test(long), false);
  assert.ok(
    linear.lastSteps <= 4 * (long.length + 1) * linear.states,
    `${linear.lastSteps} steps for ${long.length} characters and ${linear.states} states`,
  );
  const twice = `x/${'a'.repeat(10_000)}`;
  linear.test(twice);
  assert.ok(linear.lastSteps <= 4 * (twice.length + 1) * linear.states);
});

test('the usual globs keep picomatch’s RegExp; several stars in a row go to the automaton', () => {
  const linear = (g: string) => {
    const re = picomatch.makeRe(g, { dot: true });
    return backtracksLinearly(re.source, re.flags);
  };
  for (const g of [
    '/data/**',
    '/data/research/**',
    '**/.env',
    '*.pem',
    'id_rsa*',
    '/srv/docs/*.md',
    '.env.*',
  ])
    assert.equal(linear(g), true, g);
  for (const g of ['**/a*a*b', '*a*', '/data/**/*.md', '+(a|b)', '*@!(example.com)'])
    assert.equal(linear(g), false, g);
});

test('an empty glob is refused, saying what to write instead', () => {
  assert.throws(() => compileGlob(''), /must not be empty; use `\*\*`/);
});

test('regex features that need backtracking are refused by name', () => {
  assert.throws(() => compileLookaheadRegex('(?<=a)b'), /lookbehind/);
  assert.throws(() => compileLookaheadRegex('(a)\\1'), /backreferences/);
  assert.throws(() => compileLookaheadRegex('\\bword'), /not supported/);
});
