import Database from 'better-sqlite3';

/**
 * The child process that runs SQLite queries for `SqliteDatabase`: better-sqlite3 is
 * synchronous and has no interrupt, so a runaway query is stopped by killing this process.
 * Each query opens its own connection (read-only for reads), so nothing a query does to the
 * connection (ATTACH, PRAGMA) outlives it.
 */
interface Request {
  id: number;
  file: string;
  mode: 'read' | 'write';
  sql: string;
  params: unknown[];
  maxRows: number;
}

process.on('message', (message: Request) => {
  try {
    process.send?.({ id: message.id, ok: true, result: run(message) });
  } catch (error) {
    process.send?.({ id: message.id, ok: false, error: (error as Error).message });
  }
});

process.send?.({ ready: true });

function run({ file, mode, sql, params, maxRows }: Request) {
  const db = new Database(file, { readonly: mode === 'read', fileMustExist: true });
  try {
    const stmt = db.prepare(sql); // one statement only: better-sqlite3 refuses a second
    if (mode === 'read' && !stmt.readonly)
      throw new Error('the statement would change the database and this is a read-only run');
    const exec = () => {
      if (!stmt.reader) {
        const info = stmt.run(...params);
        return { rows: [], rowCount: info.changes, truncated: false, fields: [] };
      }
      const rows: Record<string, unknown>[] = [];
      let truncated = false;
      for (const row of stmt.iterate(...params) as IterableIterator<Record<string, unknown>>) {
        if (rows.length >= maxRows) {
          truncated = true;
          break;
        }
        rows.push(row);
      }
      return { rows, rowCount: rows.length, truncated, fields: stmt.columns().map((c) => c.name) };
    };
    return mode === 'write' ? db.transaction(exec)() : exec();
  } finally {
    db.close();
  }
}
