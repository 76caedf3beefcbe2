import { compileLinearRegex, type LinearRegex } from './linear-regex.js';
import { compileGlobSet } from './path-glob.js';

/** A compiled name matcher: exact names by set lookup, patterns by one precompiled regex. */
export type NameMatcher = (name: string) => boolean;

const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/**
 * Patterns over action types, agent and user names: `*` matches any run of characters (dots
 * included; not a line break), everything else is literal. `fs.*` matches `fs.read`; `*` matches
 * everything. Matching is linear in the name: a trailing `*` is a prefix test, other patterns
 * run on RE2 (a backtracking regex of `*a*a*a…` is polynomial in the name's length).
 */
export function compileNamePatterns(patterns: readonly string[]): NameMatcher {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const wild: string[][] = [];
  for (const p of patterns) {
    const star = p.indexOf('*');
    if (star === -1) exact.add(p);
    else if (star === p.length - 1) prefixes.push(p.slice(0, -1));
    else wild.push(p.split('*'));
  }
  if (prefixes.includes('')) return () => true;
  // A name with a line break goes to RE2, where `*` (`.*`) stops at it; every other name is
  // matched segment by segment, in time linear in the name for each pattern.
  const re =
    wild.length > 0
      ? compileLinearRegex(`^(?:${wild.map((parts) => parts.map(escapeRegex).join('.*')).join('|')})$`)
      : undefined;
  const byPrefix =
    prefixes.length === 0
      ? undefined
      : (name: string) => prefixes.some((pre) => name.startsWith(pre) && !name.includes('\n', pre.length));
  const bySegments =
    wild.length === 0
      ? undefined
      : (name: string) =>
          name.includes('\n')
            ? (re as LinearRegex).test(name)
            : wild.some((parts) => segmentsMatch(parts, name));
  if (!bySegments && !byPrefix) {
    if (exact.size === 0) return () => false;
    if (exact.size === 1) {
      const only = [...exact][0];
      return (name) => name === only;
    }
    return (name) => exact.has(name);
  }
  return (name) => exact.has(name) || (byPrefix?.(name) ?? false) || (bySegments?.(name) ?? false);
}

/**
 * Whether `name` is `parts[0]`, then anything, then `parts[1]`, … then `parts[last]` (the pattern
 * split at its `*`s). Taking each middle part at its leftmost place is never wrong when `*` is the
 * only wildcard, so this is one left-to-right scan: no backtracking, whatever the pattern.
 */
function segmentsMatch(parts: readonly string[], name: string): boolean {
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last))
    return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    const found = name.indexOf(part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/**
 * Path globs (`/data/**`, `*.md`), dotfiles included, with picomatch's semantics and in time
 * linear in the path (path-glob.ts). Paths are normalised before matching.
 */
export function compilePathGlobs(globs: readonly string[]): NameMatcher {
  if (globs.length === 0) return () => false;
  const set = compileGlobSet(globs);
  return (path) => set.test(path);
}

/** Why a host pattern can never match, or undefined when it is well formed. */
export function hostPatternProblem(pattern: string): string | undefined {
  if (pattern === '*') return undefined;
  const star = pattern.indexOf('*');
  if (star === -1)
    return /[/:@\s]/.test(pattern)
      ? `\`${pattern}\` is not a host name (no scheme, port or path)`
      : undefined;
  if (star === 0 && pattern.startsWith('*.') && !pattern.slice(1).includes('*')) return undefined;
  return `\`${pattern}\` is not a host pattern: use \`example.com\`, \`*.example.com\` (subdomains) or \`*\``;
}

/**
 * Host patterns: `example.com` matches that host only, `*.example.com` any subdomain of it (not
 * the apex), `*` any host. Case-insensitive; a trailing dot is ignored.
 */
export function compileHostPatterns(patterns: readonly string[]): NameMatcher {
  const lowered = patterns.map((p) => p.toLowerCase().replace(/\.$/, ''));
  const exact = new Set(lowered.filter((p) => !p.includes('*')));
  const suffixes = lowered.filter((p) => p.startsWith('*.')).map((p) => p.slice(1));
  const any = lowered.includes('*');
  return (host) => {
    const h = host.toLowerCase().replace(/\.$/, '');
    return any || exact.has(h) || suffixes.some((s) => h.endsWith(s) && h.length > s.length);
  };
}
