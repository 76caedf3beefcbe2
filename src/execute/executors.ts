import type { Reason } from '../contract/decision.js';
import type { Executor } from './execute.js';

/**
 * Warden's own executors by action type: `fs.read`, a family such as `sql.*`, or `*`. `run()`
 * uses the table when the caller passes no executor of its own.
 */
export type ExecutorTable = Readonly<Record<string, Executor<unknown>>>;

/** The most specific executor for `type`: the exact type, then `family.*`, then `*`. */
export function executorFor(table: ExecutorTable, type: string): Executor<unknown> | undefined {
  const exact = table[type];
  if (exact) return exact;
  const dot = type.indexOf('.');
  if (dot > 0) {
    const family = table[`${type.slice(0, dot)}.*`];
    if (family) return family;
  }
  return table['*'];
}

/** The caller's executors win over the policy's, also by family: a caller's `fs.*` covers `fs.list`. */
export function mergeExecutors(own: ExecutorTable, callers: ExecutorTable | undefined): ExecutorTable {
  if (!callers) return own;
  const merged: Record<string, ExecutorTable[string]> = {};
  for (const [type, executor] of Object.entries(own))
    if (!executorFor(callers, type)) merged[type] = executor;
  return { ...merged, ...callers };
}

/** Why an allowed action cannot run: nobody can execute its type here. */
export function noExecutor(type: string): Reason {
  return {
    code: 'execute.unavailable',
    stage: 'execute',
    message: `no executor for \`${type}\`: pass one to run(), or use POST /v1/actions and execute it yourself`,
  };
}
