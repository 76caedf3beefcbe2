import { openDatabases, sqlExecutor } from '../../execute/sql/sql-executor.js';
import { sqlGuard } from '../../guards/sql/sql-guard.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { Store } from '../../store/store.js';
import type { Assembly } from '../assembly.js';

/** The `sql` section's parts: the SQL guard, and the `sql.query` executor when databases are named. */
export function assembleSql(parts: Assembly, policy: CompiledPolicy, _store: Store): void {
  const sql = policy.config.sql;
  parts.guards.push(sqlGuard(sql));
  if (Object.keys(sql.databases).length === 0) return;
  const dbs = openDatabases(sql);
  parts.executors['sql.query'] = sqlExecutor(sql, dbs) as Assembly['executors'][string];
  parts.closers.push(async () => {
    await Promise.allSettled([...dbs.values()].map((db) => db.close()));
  });
}
