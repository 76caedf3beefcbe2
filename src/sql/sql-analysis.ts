import { pgQuery } from './pg-parser.js';
import { analyzeBodies } from './sql-bodies.js';
import { classifyStatement, worseClass } from './sql-classes.js';
import { isDangerousFunction } from './sql-functions.js';
import type { Collector, SqlAnalysis, SqlDialect } from './sql-types.js';
import { translateSqlite } from './sqlite-dialect.js';

/** Loads the parser (WebAssembly) once; must complete before `analyzeSql`. */
export { loadSqlParser, sqlParserLoaded } from './pg-parser.js';
export type { SqlClass } from './sql-classes.js';
export type { Collector, SqlAnalysis, SqlDialect, SqlFinding, SqlOperation } from './sql-types.js';

type Node = Record<string, unknown>;

/**
 * Parses and walks the whole tree of every statement, including statements nested in CTEs,
 * subqueries, `EXPLAIN`, `PREPARE`, and the bodies of SQL and PL/pgSQL functions and `DO`
 * blocks. Throws the parser's error for SQL that does not parse (the caller denies).
 *
 * For `sqlite`, SQLite's lexical differences are translated first and its own statements
 * (`PRAGMA`, `ATTACH`, `DETACH`) are recognised apart (see `sqlite-dialect.ts`).
 */
export function analyzeSql(sql: string, dialect: SqlDialect = 'postgres'): SqlAnalysis {
  const c: Collector = {
    kinds: new Set(),
    tables: new Set(),
    operations: [],
    functions: new Set(),
    findings: [],
    unnarrowed: [],
    destroying: [],
    worst: 'read',
    depth: 0,
  };
  let statements = 0;
  if (dialect === 'sqlite') {
    const translated = translateSqlite(sql);
    for (const s of translated.special) {
      statements++;
      c.kinds.add(s.kind);
      c.operations.push({ op: s.op });
      c.worst = worseClass(c.worst, s.class);
      if (s.finding) c.findings.push(s.finding);
    }
    // INVARIANT: each SQLite statement is parsed alone (see translateSqlite).
    for (const text of translated.statements) statements += walkSql(text, c);
    return finish(c, statements);
  }
  statements += walkSql(sql, c);
  return finish(c, statements);
}

/** Parses `sql` and walks it into `c`; returns the number of top-level statements. */
export function walkSql(sql: string, c: Collector): number {
  const tree = pgQuery().parseSync(sql) as {
    stmts?: Array<{ stmt?: Node; stmt_location?: number; stmt_len?: number }>;
  };
  const stmts = tree.stmts ?? [];
  let bytes: Buffer | undefined;
  for (const entry of stmts) {
    if (!entry.stmt) continue;
    const textOf = () => {
      bytes ??= Buffer.from(sql);
      const start = entry.stmt_location ?? 0;
      const end = entry.stmt_len ? start + entry.stmt_len : bytes.length;
      return bytes.subarray(start, end).toString();
    };
    walkStatement(entry.stmt, c, textOf);
  }
  return stmts.length;
}

function finish(c: Collector, statements: number): SqlAnalysis {
  const worst = c.worst;
  return {
    kinds: c.kinds,
    tables: [...c.tables],
    // SPEC §2: deletes are critical risk even when narrowed (the guard's classes tell them apart).
    class: worst === 'read' ? 'read' : worst === 'write' && !c.kinds.has('DeleteStmt') ? 'write' : 'critical',
    worst,
    statements,
    operations: c.operations,
    functions: c.functions,
    findings: c.findings,
    unnarrowed: c.unnarrowed,
    destroying: c.destroying,
  };
}

/**
 * Walks one top-level statement. CTE names are scoped the way PostgreSQL scopes them: a `WITH`
 * name is visible in the statement's body and in the CTEs after it (in all of them when
 * `RECURSIVE`), so `WITH users AS (SELECT * FROM users) …` still reads the real `users` table.
 */
function walkStatement(root: Node, c: Collector, textOf: () => string): void {
  const targets = new Map<object, string>();
  const none: ReadonlySet<string> = new Set();
  const walk = (node: unknown, scope: ReadonlySet<string>): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, scope);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Node;
    if (typeof obj.relname === 'string') {
      const name = relationName(obj);
      const op = targets.get(obj);
      // INVARIANT: only an unqualified read can name a CTE; write targets are always real tables.
      if (op || obj.schemaname !== undefined || !scope.has(name)) {
        c.tables.add(name);
        c.operations.push({ op: op ?? 'select', table: name });
      }
    }
    let inner = scope;
    const withClause = obj.withClause as Node | undefined;
    if (withClause && Array.isArray(withClause.ctes)) {
      const ctes = withClause.ctes.map(
        (x) => (x as { CommonTableExpr?: Node }).CommonTableExpr ?? (x as Node),
      );
      const names = ctes.map((cte) => String(cte.ctename ?? '').toLowerCase());
      const all = new Set([...scope, ...names]);
      ctes.forEach((cte, i) => {
        walk(cte.ctequery, withClause.recursive === true ? all : new Set([...scope, ...names.slice(0, i)]));
      });
      inner = all;
    }
    for (const key in obj) {
      if (key === 'withClause') continue;
      const value = obj[key];
      if (value === null || typeof value !== 'object') continue;
      if (key === 'FuncCall') noteFunction((value as Node).funcname, c);
      else if (key.endsWith('Stmt') && isNodeName(key)) {
        const stmt = value as Node;
        c.kinds.add(key);
        const verdict = classifyStatement(key, stmt);
        c.worst = worseClass(c.worst, verdict.class);
        if (verdict.op && verdict.targets.length === 0 && verdict.namedTargets.length === 0)
          c.operations.push({ op: verdict.op });
        for (const t of verdict.targets) targets.set(t, verdict.op ?? key);
        for (const name of verdict.namedTargets) {
          c.tables.add(name);
          c.operations.push({ op: verdict.op ?? key, table: name });
        }
        if (verdict.finding) c.findings.push(verdict.finding);
        if (verdict.unnarrowed) c.unnarrowed.push(verdict.unnarrowed);
        if (verdict.destroys) c.destroying.push(verdict.destroys);
        if (key === 'CallStmt') noteFunction((stmt.funccall as Node | undefined)?.funcname, c);
        if (verdict.body) analyzeBodies(verdict.body, textOf, c, walkSql);
      }
      walk(value, inner);
    }
  };
  walk(root, none);
}

/** Node type names are capitalised (`SelectStmt`); fields are not (`selectStmt` of an INSERT). */
function isNodeName(key: string): boolean {
  const first = key.charCodeAt(0);
  return first >= 65 && first <= 90;
}

function relationName(rel: Node): string {
  const name = String(rel.relname).toLowerCase();
  return typeof rel.schemaname === 'string' ? `${rel.schemaname.toLowerCase()}.${name}` : name;
}

function noteFunction(funcname: unknown, c: Collector): void {
  if (!Array.isArray(funcname) || funcname.length === 0) return;
  const last = funcname[funcname.length - 1] as { String?: { sval?: string } };
  const name = last.String?.sval?.toLowerCase();
  if (!name) return;
  c.functions.add(name);
  if (isDangerousFunction(name)) {
    c.worst = 'admin';
    c.findings.push({
      code: 'sql.dangerous-function',
      message: `the SQL calls \`${name}()\`, which reads or writes server files, reaches other servers, runs SQL from a string or stalls the server`,
    });
  }
}
