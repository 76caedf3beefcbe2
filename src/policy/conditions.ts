import { compileLinearRegex } from '../lib/linear-regex.js';
import { compileGlob } from '../lib/path-glob.js';
import type { Condition } from './schema.js';

/** One precompiled test of `match.params.<key>` against an action's params. */
export interface ParamTest {
  key: string;
  test(params: Record<string, unknown>): boolean;
}

/** Reads a dotted path (`headers.authorization`) from params; own properties only. */
function reader(key: string): (params: Record<string, unknown>) => unknown {
  const parts = key.split('.');
  if (parts.length === 1) return (params) => (Object.hasOwn(params, key) ? params[key] : undefined);
  return (params) => {
    let value: unknown = params;
    for (const part of parts) {
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
      value = (value as Record<string, unknown>)[part];
    }
    return value;
  };
}

/** Compiles a condition; every operator given must hold (AND). Bad patterns are reported at load. */
export function compileCondition(
  key: string,
  condition: Condition,
  report: (message: string) => void,
): ParamTest {
  const read = reader(key);
  if (condition === null || typeof condition !== 'object') {
    return { key, test: (params) => read(params) === condition };
  }
  const checks: Array<(value: unknown) => boolean> = [];
  const c = condition;
  if (c.exists !== undefined) {
    const want = c.exists;
    checks.push((v) => (v !== undefined) === want);
  }
  if (c.equals !== undefined) checks.push((v) => v === c.equals);
  if (c.notEquals !== undefined) checks.push((v) => v !== c.notEquals);
  if (c.in) {
    const set = new Set<unknown>(c.in);
    checks.push((v) => set.has(v));
  }
  if (c.notIn) {
    const set = new Set<unknown>(c.notIn);
    checks.push((v) => !set.has(v));
  }
  if (c.glob !== undefined) {
    // picomatch's semantics, matched in linear time (a backtracking `*a*a*a*…b` is exponential).
    try {
      const isMatch = compileGlob(c.glob);
      checks.push((v) => typeof v === 'string' && isMatch(v));
    } catch (error) {
      report((error as Error).message);
    }
  }
  if (c.regex !== undefined) {
    // RE2 semantics: linear-time matching, so no input can stall the server (a backtracking
    // `(a+)+$` took 16 s on 28 characters). Backreferences and lookaround are refused here.
    try {
      const re = compileLinearRegex(c.regex);
      checks.push((v) => typeof v === 'string' && re.test(v));
    } catch (error) {
      report((error as Error).message);
    }
  }
  if (c.contains !== undefined) {
    const needle = c.contains;
    checks.push((v) => typeof v === 'string' && v.includes(needle));
  }
  const num = (op: (v: number) => boolean) => (v: unknown) => typeof v === 'number' && op(v);
  if (c.gt !== undefined) checks.push(num((v) => v > (c.gt as number)));
  if (c.gte !== undefined) checks.push(num((v) => v >= (c.gte as number)));
  if (c.lt !== undefined) checks.push(num((v) => v < (c.lt as number)));
  if (c.lte !== undefined) checks.push(num((v) => v <= (c.lte as number)));
  return { key, test: (params) => checks.every((check) => check(read(params))) };
}
