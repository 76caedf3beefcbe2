import picomatch from 'picomatch';
import { compileLookaheadRegex } from './lookahead-regex.js';
import { backtracksLinearly } from './regex-syntax.js';

/** A compiled glob: whether a string matches it. */
export type GlobMatcher = (input: string) => boolean;

export interface GlobOptions {
  /** Case-insensitive, as picomatch's `nocase` (JavaScript's `i` flag). */
  nocase?: boolean;
}

/** A list of globs compiled together: whether any matches, and which. */
export interface GlobSet {
  test(input: string): boolean;
  /** The index of the first glob that matches `input`, or -1. */
  which(input: string): number;
}

/**
 * A picomatch glob with `dot: true` (`*` and `**` match dotfiles, never a `.` or `..` segment),
 * matched the way `picomatch(glob, { dot: true })` matches, in time linear in the input.
 * picomatch compiles the glob to a regex with lookaheads, which V8 runs by backtracking: fine when
 * the regex has one unbounded repeat (`/data/**`, `*.pem`, `**\/.env`), exponential in the stars
 * for `**\/a*a*a*…b`. The first kind runs as picomatch's own RegExp; every other glob runs on
 * an automaton that sweeps the input once (lookahead-regex.ts). Same semantics either way.
 *
 * @example compileGlob('/data/**')('/data/research/paper.pdf') // true
 */
export function compileGlob(glob: string, options: GlobOptions = {}): GlobMatcher {
  const test = regexTest(glob, options);
  return function globMatch(input: string): boolean {
    // picomatch's own order: nothing matches '', and a glob always matches its own text.
    if (input === '') return false;
    return input === glob || test(input);
  };
}

/** Several globs (`compileGlob` each): the linear-backtracking ones share one RegExp. */
export function compileGlobSet(globs: readonly string[], options: GlobOptions = {}): GlobSet {
  const regexes = globs.map((glob) => ({ glob, re: makeRe(glob, options) }));
  const fast = regexes.filter(({ re }) => backtracksLinearly(re.source, re.flags));
  const together =
    fast.length > 0
      ? new RegExp(fast.map(({ re }) => `(?:${re.source})`).join('|'), fast[0]?.re.flags)
      : undefined;
  const slow = regexes
    .filter((r) => !fast.includes(r))
    .map(({ re }) => compileLookaheadRegex(re.source, re.flags));
  const literal = new Set(globs);
  // Compiled again one by one only when `which` is first asked (after a match, to name the glob):
  // the set itself is built on every start, for each protected name.
  let each: GlobMatcher[] | undefined;
  return {
    test(input) {
      if (input === '') return false;
      if (literal.has(input) || together?.test(input)) return true;
      // A loop, not slow.some(): a closure per call, on every path segment a decision checks.
      for (const re of slow) if (re.test(input)) return true;
      return false;
    },
    which(input) {
      each ??= globs.map((glob) => compileGlob(glob, options));
      return each.findIndex((match) => match(input));
    },
  };
}

function makeRe(glob: string, options: GlobOptions): RegExp {
  if (glob === '') throw new Error('a glob must not be empty; use `**` to match every path');
  // picomatch returns a regex that matches nothing when its output does not compile; so do we.
  return picomatch.makeRe(glob, { dot: true, nocase: options.nocase ?? false });
}

function regexTest(glob: string, options: GlobOptions): GlobMatcher {
  const re = makeRe(glob, options);
  if (backtracksLinearly(re.source, re.flags)) return (input) => re.test(input);
  const linear = compileLookaheadRegex(re.source, re.flags);
  return (input) => linear.test(input);
}
