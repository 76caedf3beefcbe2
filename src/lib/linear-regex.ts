import { RE2JS } from 're2js';

/**
 * Regexes that come from a policy run on RE2 semantics (the `re2js` engine): matching takes time
 * linear in the input, so no pattern and no input can stall the event loop the way a backtracking
 * `(a+)+$` does. RE2 has no backreferences and no lookaround; such patterns are refused at load.
 */
export interface LinearRegex {
  /** Whether the pattern matches somewhere in `input` (like `RegExp.prototype.test`). */
  test(input: string): boolean;
}

export const LINEAR_REGEX_CASE_INSENSITIVE = RE2JS.CASE_INSENSITIVE;

/** Compiles `source`; throws an `Error` whose message says why it cannot run in linear time. */
export function compileLinearRegex(source: string, flags = 0): LinearRegex {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source, flags);
  } catch (error) {
    throw new Error(linearRegexProblem(source, error));
  }
  return { test: (input) => compiled.test(input) };
}

function linearRegexProblem(source: string, error: unknown): string {
  const shown = `\`${source.length > 80 ? `${source.slice(0, 80)}…` : source}\``;
  const feature = /\(\?<?[=!]/.test(source)
    ? 'a lookahead or lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`)'
    : /\\[1-9]|\\k</.test(source)
      ? 'a backreference (`\\1`, `\\k<name>`)'
      : undefined;
  if (feature)
    return `regex ${shown} uses ${feature}, which cannot be matched in linear time; policy regexes run on RE2 so that no input can stall the server: rewrite it without it (e.g. a separate rule or a \`notEquals\`/\`notIn\` condition)`;
  const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
  return `invalid regex ${shown}: ${reason} (policy regexes use RE2 syntax, which runs in linear time; see docs/policy.md)`;
}
