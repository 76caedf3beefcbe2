import picomatch from 'picomatch';
import { compileLinearRegex } from './linear-regex.js';

/** A compiled name matcher: exact names by set lookup, patterns by one precompiled regex. */
export type NameMatcher = (name: string) => boolean;

const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/**
 * Patterns over action types, agent and user names: `*` matches any run of characters (dots
 * included), everything else is literal. `fs.*` matches `fs.read`; `*` matches everything.
 */
export function compileNamePatterns(patterns: readonly string[]): NameMatcher {
  const exact = new Set<string>();
  const wild: string[] = [];
  for (const p of patterns) {
    if (p.includes('*')) wild.push(p.split('*').map(escapeRegex).join('.*'));
    else exact.add(p);
  }
  if (wild.includes('.*')) return () => true;
  const re = wild.length > 0 ? compileLinearRegex(`^(?:${wild.join('|')})$`) : undefined;
  if (!re) {
    if (exact.size === 0) return () => false;
    if (exact.size === 1) {
      const only = [...exact][0];
      return (name) => name === only;
    }
    return (name) => exact.has(name);
  }
  return (name) => exact.has(name) || re.test(name);
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
