import type { Reason } from '../contract/decision.js';
import { maxRisk, type Risk } from '../contract/risk.js';
import { sqlAnalysisOf } from '../lib/resources.js';
import type { Context, Stage } from '../policy/context.js';
import { sqlDialectOf } from '../policy/sections/sql.js';
import { loadSqlParser, sqlParserLoaded } from '../sql/pg-parser.js';

const SQL_RISK: Record<'read' | 'write' | 'critical', Risk> = {
  read: 'low',
  write: 'medium',
  critical: 'critical',
};

/**
 * The action's risk: the policy's `risk` entry for its type, else the default matrix (SPEC §2);
 * SQL is classified by walking its whole parse tree (reads low, writes medium, deletes and DDL
 * critical). Risk only goes up from here: guards may raise it, nothing lowers it.
 */
export function riskStage(): Stage {
  const risk = (ctx: Context): Reason | undefined => {
    const { action, policy } = ctx;
    ctx.risk = policy.riskOf(action.type);
    if (action.type === 'sql.query') {
      const analysis = sqlAnalysisOf(action, ctx.facts, sqlDialectOf(policy.config.sql, action.params));
      if ('error' in analysis) {
        return { code: 'risk.sql-unparsable', stage: 'risk', message: analysis.error };
      }
      const sqlRisk = SQL_RISK[analysis.class];
      if (sqlRisk !== 'low' && maxRisk(ctx.risk, sqlRisk) !== ctx.risk) {
        ctx.risk = sqlRisk;
        ctx.reasons.push({
          code: analysis.class === 'write' ? 'risk.sql-write' : 'risk.sql-destructive',
          stage: 'risk',
          message: `the SQL contains ${[...analysis.kinds].join(', ')}: risk raised to ${sqlRisk}`,
        });
      }
    }
    return undefined;
  };
  return {
    name: 'risk',
    run: (ctx) => {
      if (ctx.action.type !== 'sql.query' || sqlParserLoaded()) return risk(ctx);
      // The first SQL action of a Warden whose policy lets no agent run SQL (so the parser was
      // not loaded at start) waits for it once; a parser that cannot load refuses every SQL action.
      return loadSqlParser().then(
        () => risk(ctx),
        (error: unknown): Reason => ({
          code: 'risk.sql-parser-unavailable',
          stage: 'risk',
          message: `the SQL parser could not be loaded (${error instanceof Error ? error.message : String(error)}); the SQL cannot be checked, so it is refused`,
        }),
      );
    },
  };
}
