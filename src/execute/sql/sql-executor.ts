import { durationMs } from '../../policy/schema.js';
import { databaseNameOf, type SqlPolicy } from '../../policy/sections/sql.js';
import { analyzeSql } from '../../sql/sql-analysis.js';
import type { Executor } from '../execute.js';
import { PgDatabase, type SqlResult } from './pg-database.js';
import { SqliteDatabase } from './sqlite-database.js';

export interface SqlOutput extends SqlResult {
  database: string;
  /** `read` ran in a read-only transaction (PostgreSQL) or connection (SQLite). */
  mode: 'read' | 'write';
}

export type SqlDatabase = PgDatabase | SqliteDatabase;

/** Opens (lazily) the databases named in `sql.databases`. */
export function openDatabases(policy: SqlPolicy): Map<string, SqlDatabase> {
  const dbs = new Map<string, SqlDatabase>();
  for (const [name, config] of Object.entries(policy.databases)) {
    dbs.set(
      name,
      config.driver === 'postgres'
        ? new PgDatabase(config.url, config.schema)
        : new SqliteDatabase(config.file),
    );
  }
  return dbs;
}

/**
 * Warden's executor for `sql.query`: the statement runs on the database the action names. It is
 * classified again here (the executor trusts nothing it did not see): a read runs read-only, with
 * the statement timeout (`sql.statementTimeout`, or less if the action's deadline is nearer) and
 * the row cap (`sql.maxRows`); anything else runs as a write in its own transaction.
 */
export function sqlExecutor(policy: SqlPolicy, dbs: ReadonlyMap<string, SqlDatabase>): Executor<SqlOutput> {
  const statementTimeoutMs = durationMs(policy.statementTimeout);
  return async function sqlQuery(action, { deadline, signal }) {
    const name = databaseNameOf(policy, action.params);
    const db = name === undefined ? undefined : dbs.get(name);
    if (!db || name === undefined)
      throw new Error(`no database \`${name ?? '(none named)'}\` in \`sql.databases\``);
    const sql = String(action.params.sql);
    const params = Array.isArray(action.params.params) ? action.params.params : [];
    const analysis = analyzeSql(sql, db instanceof SqliteDatabase ? 'sqlite' : 'postgres');
    const options = {
      timeoutMs: Math.max(1, Math.min(statementTimeoutMs, deadline - Date.now())),
      maxRows: policy.maxRows,
      signal,
    };
    const mode = analysis.worst === 'read' ? 'read' : 'write';
    const result =
      mode === 'read' ? await db.read(sql, params, options) : await db.write(sql, params, options);
    return { database: name, mode, ...result };
  };
}
