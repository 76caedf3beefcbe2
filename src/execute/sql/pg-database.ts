import type pg from 'pg';
import type Cursor from 'pg-cursor';

/** What a query returned: rows up to the cap, and whether more were left unread. */
export interface SqlResult {
  rows: Record<string, unknown>[];
  rowCount: number;
  truncated: boolean;
  fields: string[];
}

export interface QueryOptions {
  timeoutMs: number;
  maxRows: number;
  /** Aborting (kill switch, caller, deadline) cancels the running statement. */
  signal?: AbortSignal;
}

/**
 * A PostgreSQL database for Warden's executor. Reads run as one statement (the extended
 * protocol: a second statement is refused by the server) inside `BEGIN READ ONLY` with
 * `SET LOCAL statement_timeout`, through a cursor that fetches at most `maxRows + 1` rows, and
 * are rolled back. Writes run as one statement in a normal transaction with the same timeout.
 * Parameters always travel separately from the SQL text.
 */
export class PgDatabase {
  #pool: pg.Pool | undefined;
  #Cursor: typeof Cursor | undefined;

  constructor(
    private readonly url: string,
    private readonly schema?: string,
  ) {}

  /** The pool, made at the first query: `pg` loads only when a policy's database is used. */
  private async pool(): Promise<{ pool: pg.Pool; Cursor: typeof Cursor }> {
    if (!this.#pool || !this.#Cursor) {
      const [{ default: pgModule }, { default: cursor }] = await Promise.all([
        import('pg'),
        import('pg-cursor'),
      ]);
      if (!this.#pool) {
        this.#pool = new pgModule.Pool({ connectionString: this.url, max: 4 });
        // An idle client's error (server restart) must not crash the process; the next query fails.
        this.#pool.on('error', () => undefined);
      }
      this.#Cursor = cursor;
    }
    return { pool: this.#pool, Cursor: this.#Cursor };
  }

  /** Runs `sql` read-only. Even a write disguised as a read cannot change anything. */
  async read(sql: string, params: readonly unknown[], options: QueryOptions): Promise<SqlResult> {
    return this.inTransaction(
      'BEGIN READ ONLY',
      options,
      async (client, Cursor) => {
        const cursor = client.query(new Cursor(sql, [...params]));
        try {
          const rows = (await cursor.read(options.maxRows + 1)) as Record<string, unknown>[];
          const truncated = rows.length > options.maxRows;
          if (truncated) rows.length = options.maxRows;
          return { rows, rowCount: rows.length, truncated, fields: rows[0] ? Object.keys(rows[0]) : [] };
        } finally {
          await cursor.close();
        }
      },
      false,
    );
  }

  /** Runs one statement in a transaction that commits when it succeeds. */
  async write(sql: string, params: readonly unknown[], options: QueryOptions): Promise<SqlResult> {
    return this.inTransaction(
      'BEGIN',
      options,
      async (client) => {
        const result = await client.query({
          text: sql,
          values: [...params],
          queryMode: 'extended',
        } as pg.QueryConfig);
        const rows = (result.rows ?? []) as Record<string, unknown>[];
        const truncated = rows.length > options.maxRows;
        return {
          rows: truncated ? rows.slice(0, options.maxRows) : rows,
          rowCount: result.rowCount ?? rows.length,
          truncated,
          fields: (result.fields ?? []).map((f) => f.name),
        };
      },
      true,
    );
  }

  private async inTransaction<T>(
    begin: string,
    options: QueryOptions,
    body: (client: pg.PoolClient, cursor: typeof Cursor) => Promise<T>,
    commit: boolean,
  ): Promise<T> {
    const { pool, Cursor } = await this.pool();
    const client = await pool.connect();
    let broken: Error | undefined;
    // A kill or an abort cancels the statement on the server, from another connection. A cancel
    // that lands between two commands is lost, so it is repeated until the transaction ends.
    const pid = (client as unknown as { processID?: number }).processID;
    let repeat: NodeJS.Timeout | undefined;
    const sendCancel = () => {
      if (pid !== undefined) pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    };
    const cancel = () => {
      sendCancel();
      repeat = setInterval(sendCancel, 200);
    };
    const stopIfAborted = () => {
      if (options.signal?.aborted) throw new Error('the query was aborted');
    };
    options.signal?.addEventListener('abort', cancel, { once: true });
    // A checked-out connection that drops mid-transaction emits `error` on the client, not on the
    // pool: unheard, it would end the process. The next statement then fails, and so does the query.
    const dropped = () => undefined;
    client.on('error', dropped);
    try {
      stopIfAborted();
      await client.query(begin);
      // INVARIANT: only numbers Warden computed and identifiers it quoted are put into SQL text.
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(options.timeoutMs))}`);
      // The guard's parser reads strings the standard way; the server must too (`'a\'` …).
      await client.query('SET LOCAL standard_conforming_strings = on');
      if (this.schema) await client.query(`SET LOCAL search_path TO ${client.escapeIdentifier(this.schema)}`);
      stopIfAborted();
      const result = await body(client, Cursor);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollback) {
        broken = rollback as Error;
      }
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', cancel);
      clearInterval(repeat);
      client.off('error', dropped);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.#pool?.end();
  }
}
