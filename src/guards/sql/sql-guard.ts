import type { Action } from '../../contract/action.js';
import type { Risk } from '../../contract/risk.js';
import { compileNamePatterns, type NameMatcher } from '../../lib/glob.js';
import { sqlAnalysisOf } from '../../lib/resources.js';
import { databaseNameOf, type SqlPolicy, sqlDialectOf } from '../../policy/sections/sql.js';
import type { SqlAnalysis, SqlClass } from '../../sql/sql-analysis.js';
import type { Guard, GuardFinding } from '../guard.js';

const RAISE: Record<Exclude<SqlClass, 'read'>, Risk> = {
  write: 'high',
  ddl: 'critical',
  destructive: 'critical',
  admin: 'critical',
};

const CLASS_WORDS: Record<Exclude<SqlClass, 'read'>, string> = {
  write: 'writes',
  ddl: 'changes the schema',
  destructive: 'is destructive',
  admin: 'is administrative',
};

interface TableRule {
  pattern: string;
  matches: NameMatcher;
  ops: ReadonlySet<string>;
}

/**
 * The SQL guard (`sql.query`): looks at every statement of the query, nested ones included
 * (CTEs, subqueries, function bodies, DO blocks), through the analysis the risk stage already
 * made (`ctx.facts`, parsed once). It denies forbidden operations and tables, dangerous
 * functions and administrative statements, and raises writes, DDL and destructive statements so
 * that they need approval by default.
 *
 * @example
 * // warden.yaml
 * sql:
 *   forbid: [drop, truncate]
 *   forbidTables: { users: [delete] }
 */
export function sqlGuard(policy: SqlPolicy): Guard {
  const forbid = new Set(policy.forbid);
  const tableRules: TableRule[] = Object.entries(policy.forbidTables).map(([pattern, ops]) => ({
    pattern,
    matches: compileNamePatterns([pattern.toLowerCase()]),
    ops: new Set(ops),
  }));
  const denyFunctions = new Set(policy.denyFunctions);
  const hasDatabases = Object.keys(policy.databases).length > 0;
  return {
    name: 'sql',
    appliesTo: (type) => type === 'sql.query',
    inspect: function sqlGuardInspect(action: Action, facts: Map<string, unknown>): GuardFinding[] {
      if (hasDatabases || typeof action.params.database === 'string') {
        const name = databaseNameOf(policy, action.params);
        if (name === undefined || !Object.hasOwn(policy.databases, name))
          return [deny('sql.unknown-database', unknownDatabase(name, policy))];
      }
      const analysis = sqlAnalysisOf(action, facts, sqlDialectOf(policy, action.params));
      if ('error' in analysis) return [deny('sql.unparsable', analysis.error)];
      return verdicts(analysis, policy, forbid, tableRules, denyFunctions);
    },
  };
}

function verdicts(
  a: SqlAnalysis,
  policy: SqlPolicy,
  forbid: ReadonlySet<string>,
  tableRules: readonly TableRule[],
  denyFunctions: ReadonlySet<string>,
): GuardFinding[] {
  for (const { op, table } of a.operations) {
    if (forbid.has(op))
      return [
        deny(
          'sql.forbidden',
          `\`${op.toUpperCase()}\`${table ? ` on \`${table}\`` : ''} is forbidden by \`sql.forbid\``,
        ),
      ];
    if (!table) continue;
    const bare = table.includes('.') ? table.slice(table.lastIndexOf('.') + 1) : table;
    for (const rule of tableRules) {
      if ((rule.ops.has(op) || rule.ops.has('*')) && (rule.matches(table) || rule.matches(bare)))
        return [
          deny(
            'sql.forbidden-table',
            `\`${op.toUpperCase()}\` on \`${table}\` is forbidden by \`sql.forbidTables.${rule.pattern}\``,
          ),
        ];
    }
  }
  for (const fn of a.functions)
    if (denyFunctions.has(fn))
      return [deny('sql.dangerous-function', `\`${fn}()\` is refused by \`sql.denyFunctions\``)];
  if (a.worst === 'read') return [];
  const cls = a.worst;
  const field = cls === 'write' ? 'writes' : cls;
  const verdict = policy[field];
  const finding = a.findings[0];
  const detail =
    cls === 'admin' && finding
      ? finding.message
      : cls === 'destructive' && a.unnarrowed.length > 0
        ? `\`${a.unnarrowed.join('`, `')}\` has no WHERE that narrows the rows`
        : cls === 'destructive' && a.destroying && a.destroying.length > 0
          ? `\`${a.destroying.join('`, `')}\` destroys stored values`
          : `the SQL ${CLASS_WORDS[cls]} (${[...a.kinds].join(', ')})`;
  const code = cls === 'admin' && finding ? finding.code : `sql.${cls}`;
  if (verdict === 'deny') return [deny(code, `${detail}; refused by \`sql.${field}: deny\``)];
  if (verdict === 'ask')
    return [
      {
        effect: 'raise',
        risk: RAISE[cls],
        code,
        message: `${detail}; needs approval (\`sql.${field}: ask\`)`,
      },
    ];
  return [];
}

function deny(code: string, message: string): GuardFinding {
  return { effect: 'deny', code, message };
}

function unknownDatabase(name: string | undefined, policy: SqlPolicy): string {
  const known = Object.keys(policy.databases);
  if (name === undefined)
    return `the action names no \`params.database\` and the policy has several (${known.join(', ')}); name one, or set \`sql.defaultDatabase\``;
  return `database \`${name}\` is not in \`sql.databases\` (${known.join(', ') || 'none'})`;
}
