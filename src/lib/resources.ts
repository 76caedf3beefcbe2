import { posix } from 'node:path';
import type { Action } from '../contract/action.js';
import { analyzeSql, type SqlAnalysis, type SqlDialect } from '../sql/sql-analysis.js';

export type ResourceKind = 'paths' | 'hosts' | 'tables';

/** The resources an action touches, or why they cannot be known (which denies). */
export type Resources =
  | { kind: ResourceKind; values: readonly string[] }
  | { kind: ResourceKind; error: string }
  | undefined;

export const SQL_ANALYSIS = 'sql.analysis';

// What posix.normalize (or the trailing-slash cut) would change: an empty, `.` or `..` segment, or a trailing slash.
const NOT_NORMAL = /\/\/|(?:^|\/)\.\.?(?:\/|$)|\/$/;

/**
 * Lexical path normalisation for grants: `.` and `..` segments and repeated separators are
 * resolved; a relative path that climbs above its start is refused. (The file guard adds the
 * filesystem view: symlinks, encodings, the real root.)
 */
export function normalizeGrantPath(path: string): string | { error: string } {
  if (path.includes('\0'))
    return { error: `path \`${JSON.stringify(path).slice(1, -1)}\` contains a NUL byte` };
  // Most paths are normal already: posix.normalize would rebuild them segment by segment.
  if (path !== '' && !NOT_NORMAL.test(path)) return path;
  const normalized = posix.normalize(path);
  if (normalized === '..' || normalized.startsWith('../')) {
    return { error: `path \`${path}\` climbs out of its starting directory` };
  }
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

export function resourcesOf(action: Action, facts: Map<string, unknown>): Resources {
  const { type, params } = action;
  if (type.startsWith('fs.')) {
    const path = params.path;
    if (typeof path !== 'string') return { kind: 'paths', error: 'the action has no `params.path`' };
    const normalized = normalizeGrantPath(path);
    return typeof normalized === 'string'
      ? { kind: 'paths', values: [normalized] }
      : { kind: 'paths', ...normalized };
  }
  if (type === 'http.request') {
    try {
      const url = new URL(String(params.url));
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      if (!host) return { kind: 'hosts', error: `url \`${String(params.url)}\` has no host` };
      return { kind: 'hosts', values: [host] };
    } catch {
      return { kind: 'hosts', error: `\`${String(params.url)}\` is not a valid absolute URL` };
    }
  }
  if (type === 'sql.query') {
    const analysis = sqlAnalysisOf(action, facts);
    if ('error' in analysis) return { kind: 'tables', error: analysis.error };
    return { kind: 'tables', values: analysis.tables };
  }
  return undefined;
}

/**
 * Parses the action's SQL once per decision and shares the result through `facts`. The risk stage
 * parses first, in the dialect of the action's database (`sql.databases`); later calls reuse it.
 */
export function sqlAnalysisOf(
  action: Action,
  facts: Map<string, unknown>,
  dialect: SqlDialect = 'postgres',
): SqlAnalysis | { error: string } {
  const cached = facts.get(SQL_ANALYSIS) as SqlAnalysis | { error: string } | undefined;
  if (cached) return cached;
  let result: SqlAnalysis | { error: string };
  try {
    result = analyzeSql(String(action.params.sql), dialect);
  } catch (error) {
    result = {
      error: `the SQL does not parse (${(error as Error).message}); it cannot be checked, so it is refused`,
    };
  }
  facts.set(SQL_ANALYSIS, result);
  return result;
}
