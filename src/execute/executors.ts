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
