import picomatch from 'picomatch';
import { compileLinearRegex } from './linear-regex.js';

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
  const wild: string[] = [];
  for (const p of patterns) {
    const star = p.indexOf('*');
    if (star === -1) exact.add(p);
    else if (star === p.length - 1) prefixes.push(p.slice(0, -1));
    else wild.push(p.split('*').map(escapeRegex).join('.*'));
  }
  if (prefixes.includes('')) return () => true;
  const re = wild.length > 0 ? compileLinearRegex(`^(?:${wild.join('|')})$`) : undefined;
  const byPrefix =
    prefixes.length === 0
      ? undefined
      : (name: string) => prefixes.some((pre) => name.startsWith(pre) && !name.includes('\n', pre.length));
  if (!re && !byPrefix) {
    if (exact.size === 0) return () => false;
    if (exact.size === 1) {
      const only = [...exact][0];
      return (name) => name === only;
    }
    return (name) => exact.has(name);
  }
  return (name) => exact.has(name) || (byPrefix?.(name) ?? false) || (re?.test(name) ?? false);
}

/** Path globs (`/data/**`, `*.md`), dotfiles included. Paths are normalised before matching. */
export function compilePathGlobs(globs: readonly string[]): NameMatcher {
  if (globs.length === 0) return () => false;
  return picomatch([...globs], { dot: true });
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
