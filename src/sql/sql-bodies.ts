import { pgQuery } from './pg-parser.js';
import type { Body } from './sql-classes.js';
import type { Collector, WalkSql } from './sql-types.js';

const MAX_DEPTH = 4;

/**
 * Analyses the code inside a function or `DO` block into the same collector, so a `DELETE` in a
 * function body counts like one at the top. A `LANGUAGE sql` body is parsed as SQL; PL/pgSQL is
 * parsed by the PL/pgSQL parser and each embedded statement and expression is parsed as SQL.
 * What cannot be seen (dynamic `EXECUTE`, a body that does not parse) is an admin finding.
 */
export function analyzeBodies(body: Body, textOf: () => string, c: Collector, walkSql: WalkSql): void {
  if (c.depth >= MAX_DEPTH) {
    opaque(c, 'functions are nested too deeply to check');
    return;
  }
  c.depth++;
  try {
    if (body.language === 'sql') {
      try {
        walkSql(body.source, c);
      } catch (error) {
        opaque(c, `a SQL function body does not parse (${(error as Error).message})`);
      }
      return;
    }
    let tree: unknown;
    try {
      tree = pgQuery().parsePlPgSQLSync(textOf());
    } catch (error) {
      opaque(c, `a PL/pgSQL body does not parse (${(error as Error).message})`);
      return;
    }
    walkPlpgsql(tree, c, walkSql);
  } finally {
    c.depth--;
  }
}

function walkPlpgsql(node: unknown, c: Collector, walkSql: WalkSql): void {
  if (Array.isArray(node)) {
    for (const item of node) walkPlpgsql(item, c, walkSql);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const key in obj) {
    const value = obj[key];
    if (key === 'PLpgSQL_stmt_dynexecute' || key === 'PLpgSQL_stmt_dynfors') {
      c.worst = 'admin';
      c.findings.push({
        code: 'sql.dynamic-sql',
        message: 'PL/pgSQL `EXECUTE` runs SQL built at run time, which cannot be checked in advance',
      });
    }
    if (key === 'PLpgSQL_expr' && value && typeof value === 'object') {
      const expr = value as { query?: string; parseMode?: number };
      if (typeof expr.query === 'string') {
        const sql =
          expr.parseMode === 0 || expr.parseMode === undefined ? expr.query : `SELECT ${expr.query}`;
        try {
          walkSql(sql, c);
        } catch (error) {
          opaque(c, `a statement inside PL/pgSQL does not parse (${(error as Error).message})`);
        }
      }
      continue;
    }
    walkPlpgsql(value, c, walkSql);
  }
}

function opaque(c: Collector, message: string): void {
  c.worst = 'admin';
  c.findings.push({ code: 'sql.opaque', message: `${message}; it cannot be checked, so it is refused` });
}
