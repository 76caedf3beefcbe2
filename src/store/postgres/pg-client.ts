import { createHash } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError } from '../store.js';

/** How one PostgreSQL store connects: the server, the schema holding its tables, and its patience. */
export interface PgStoreOptions {
  /** `postgres://user@host:port/db`. A `schema` query parameter is taken out and used as {@link schema}. */
  url: string;
  /** Schema holding Warden's tables; created when missing. Default `warden`. */
  schema?: string;
  /** Longest wait for a connection and for one statement (lock waits included), in ms. Default 5000. */
  timeoutMs?: number;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /**
   * `redis://…`: announce changes (kills, approvals, overrides, events, tokens) on Redis pub/sub
   * instead of PostgreSQL `LISTEN/NOTIFY`. A `changes` query parameter of {@link url} sets it too.
   */
  changes?: string;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The URL without its `schema` and `changes` parameters, the schema (the parameter's, the
 * option's, or `warden`) and the change feed's Redis URL when `changes` names one.
 */
export function splitUrl(url: string, schema?: string): { url: string; schema: string; changes?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `invalid postgres URL \`${redact(url)}\`: expected postgres://user@host:5432/database`,
    );
  }
  const fromUrl = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  const changes = parsed.searchParams.get('changes') ?? undefined;
  parsed.searchParams.delete('changes');
  if (changes !== undefined && !/^rediss?:\/\//.test(changes)) {
    throw new TypeError(
      `invalid \`changes\` in the postgres URL: expected a redis:// URL (to announce changes on Redis pub/sub), got \`${redact(changes)}\``,
    );
  }
  const chosen = fromUrl ?? schema ?? 'warden';
  if (!SCHEMA.test(chosen)) {
    throw new TypeError(
      `invalid postgres schema \`${chosen}\`: expected lowercase letters, digits and \`_\`, starting with a letter or \`_\``,
    );
  }
  return { url: parsed.toString(), schema: chosen, ...(changes ? { changes } : {}) };
}

/** The URL with any password replaced, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * The pool every part of one store shares. Every connection's `search_path` is the store's schema,
 * so statements name tables unqualified and can be prepared once per connection (named queries).
 */
export class PgClient {
  readonly pool: pg.Pool;
  readonly url: string;
  readonly schema: string;
  readonly timeoutMs: number;
  /** The channel NOTIFY uses for this schema: stores on other schemas do not hear it. */
  readonly channel: string;
  /** The Redis URL changes are announced on instead of NOTIFY, when configured. */
  readonly changes: string | undefined;

  constructor(options: PgStoreOptions) {
    const { url, schema, changes } = splitUrl(options.url, options.schema);
    this.url = url;
    this.changes = options.changes ?? changes;
    this.schema = schema;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.channel = `warden_${schema}`.slice(0, 63);
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      idleTimeoutMillis: 30_000,
      options: `-c search_path=${schema}`,
    });
    // An idle connection dropped by the server must not crash the process; the next use reconnects.
    this.pool.on('error', () => undefined);
  }

  /** One statement, prepared once per connection under a name derived from its text. */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>({ name: nameOf(text), text, values })).rows;
    } catch (error) {
      throw unavailable(error, this.url);
    }
  }

  /**
   * Runs `work` in one transaction. An error thrown by `work` itself (a change callback refusing)
   * rolls back and propagates unchanged; a failure to reach the server becomes `store.unavailable`.
   */
  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw unavailable(error, this.url);
    }
    const url = this.url;
    // A checked-out connection that drops between two statements emits `error` on the client, not
    // on the pool: unheard, it would end the process. The next statement then fails and rolls back.
    const dropped = () => undefined;
    client.on('error', dropped);
    const tx: Tx = {
      async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
        try {
          return (await client.query<R>({ name: nameOf(text), text, values })).rows;
        } catch (error) {
          throw unavailable(error, url);
        }
      },
      async exec(text: string) {
        try {
          await client.query(text);
        } catch (error) {
          throw unavailable(error, url);
        }
      },
    };
    try {
      await tx.exec('BEGIN');
      const result = await work(tx);
      await tx.exec('COMMIT');
      client.off('error', dropped);
      client.release();
      return result;
    } catch (error) {
      // Rolled back when the connection still works; a connection in an unknown state is dropped.
      let broken: Error | undefined;
      try {
        await client.query('ROLLBACK');
      } catch (rollback) {
        broken = rollback as Error;
      }
      client.off('error', dropped);
      client.release(broken);
      throw error;
    }
  }

  async end(): Promise<void> {
    await this.pool.end();
  }
}

/** What a transaction body may run. */
export interface Tx {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Statements without parameters, unprepared (a migration's several statements). */
  exec(text: string): Promise<void>;
}

function nameOf(text: string): string {
  return `w_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
}

/** PostgreSQL's SQLSTATE for a unique key already taken. */
export const UNIQUE_VIOLATION = '23505';

/**
 * A server that cannot be reached, closed the connection, is shutting down or did not answer in
 * time becomes `store.unavailable`; an error the server returned about the statement itself
 * (a constraint, a syntax error) and errors of Warden's own pass through unchanged.
 */
export function unavailable(error: unknown, url: string): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const code = (error as { code?: unknown }).code;
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  // No SQLSTATE: the driver's own failure (refused, reset, timed out, connection ended).
  if (sqlstate !== undefined && !/^(08|53|57P)/.test(sqlstate)) return error;
  return new StoreUnavailableError(
    `the PostgreSQL store at ${redact(url)} is unavailable (${(error as Error).message}); every decision is denied until it answers again`,
    { cause: error },
  );
}
