import pg from 'pg';
import { BackendUnavailableError } from '../backend.js';
import { type Change, type Doc, DocBackend, type DocStore, type LedgerEntry } from './doc-backend.js';

export interface PostgresBackendOptions {
  url: string;
  /** Schema holding `limit_state` and `limit_ledger`; created when missing. */
  schema: string;
  /** Longest wait for a connection and for one statement (lock waits included). */
  timeoutMs: number;
}

/**
 * Counters and budgets in PostgreSQL. Each change locks its rows (`SELECT … FOR UPDATE`, keys in
 * sorted order) inside one transaction, so processes on any host share exact limits; every
 * reservation, settlement, release and expiry is appended to `limit_ledger` in the same
 * transaction: a durable record of where each budget's money went. Unreachable or too slow:
 * the operation fails within the timeout and the limiter denies (`limits.unavailable`); the pool
 * opens new connections when the server is back.
 */
export function postgresBackend(options: PostgresBackendOptions): DocBackend & { pool: pg.Pool } {
  const docs = new PgDocs(options);
  return Object.assign(new DocBackend('postgres', docs), { pool: docs.pool });
}

class PgDocs implements DocStore {
  readonly pool: pg.Pool;
  private readonly state: string;
  private readonly ledger: string;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: PostgresBackendOptions) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new Error(
        `invalid postgres schema \`${options.schema}\`: expected lowercase letters, digits and \`_\``,
      );
    }
    this.state = `"${options.schema}".limit_state`;
    this.ledger = `"${options.schema}".limit_ledger`;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      connectionTimeoutMillis: options.timeoutMs,
      query_timeout: options.timeoutMs,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection dropped by the server must not crash the process.
    this.pool.on('error', () => undefined);
  }

  private setup(): Promise<void> {
    this.ready ??= this.transaction(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtext('warden.limits.schema'))");
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.options.schema}"`);
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${this.state} (key text PRIMARY KEY, doc jsonb, exp bigint NOT NULL)`,
      );
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${this.ledger} (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), key text NOT NULL, hold text NOT NULL, kind text NOT NULL, micros bigint NOT NULL)`,
      );
    }).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new BackendUnavailableError(`postgres: ${(error as Error).message}`);
    }
    // A checked-out connection that drops between two statements emits `error` on the client, not
    // on the pool: unheard, it would end the process. The next statement then fails and rolls back.
    const dropped = () => undefined;
    client.on('error', dropped);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.off('error', dropped);
      client.release();
      return result;
    } catch (error) {
      // A connection in an unknown state is thrown away rather than reused.
      client.off('error', dropped);
      client.release(error as Error);
      throw new BackendUnavailableError(`postgres: ${(error as Error).message}`);
    }
  }

  async read(keys: readonly string[]): Promise<(Doc | undefined)[]> {
    await this.setup();
    let rows: { key: string; doc: Doc | null }[];
    try {
      rows = (
        await this.pool.query<{ key: string; doc: Doc | null }>(
          `SELECT key, doc FROM ${this.state} WHERE key = ANY($1) AND exp > $2`,
          [keys, Date.now()],
        )
      ).rows;
    } catch (error) {
      throw new BackendUnavailableError(`postgres: ${(error as Error).message}`);
    }
    const byKey = new Map(rows.map((r) => [r.key, r.doc ?? undefined]));
    return keys.map((k) => byKey.get(k));
  }

  async write<T>(
    keys: readonly string[],
    change: (docs: (Doc | undefined)[], now: number) => Change<T>,
  ): Promise<T> {
    await this.setup();
    const sorted = [...new Set(keys)].sort();
    return this.transaction(async (c) => {
      await c.query(
        `INSERT INTO ${this.state} (key, doc, exp) SELECT k, NULL, 0 FROM unnest($1::text[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING`,
        [sorted],
      );
      const { rows } = await c.query<{ key: string; doc: Doc | null; exp: string }>(
        `SELECT key, doc, exp FROM ${this.state} WHERE key = ANY($1) ORDER BY key FOR UPDATE`,
        [sorted],
      );
      const now = Date.now();
      const byKey = new Map(rows.map((r) => [r.key, Number(r.exp) > now ? (r.doc ?? undefined) : undefined]));
      const { docs, result, ledger } = change(
        keys.map((k) => byKey.get(k)),
        now,
      );
      await c.query(
        `UPDATE ${this.state} AS t SET doc = v.doc::jsonb, exp = v.exp FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(key, doc, exp) WHERE t.key = v.key`,
        [keys, docs.map((d) => (d ? JSON.stringify(d) : null)), docs.map((d) => d?.exp ?? 0)],
      );
      if (ledger && ledger.length > 0) await this.appendLedger(c, ledger);
      return result;
    });
  }

  private async appendLedger(c: pg.PoolClient, entries: readonly LedgerEntry[]): Promise<void> {
    await c.query(
      `INSERT INTO ${this.ledger} (key, hold, kind, micros) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])`,
      [
        entries.map((e) => e.key),
        entries.map((e) => e.hold),
        entries.map((e) => e.kind),
        entries.map((e) => e.micros),
      ],
    );
  }

  async keys(prefix: string): Promise<string[]> {
    await this.setup();
    try {
      const { rows } = await this.pool.query<{ key: string }>(
        `SELECT key FROM ${this.state} WHERE starts_with(key, $1) AND exp > $2 ORDER BY key`,
        [prefix, Date.now()],
      );
      return rows.map((r) => r.key);
    } catch (error) {
      throw new BackendUnavailableError(`postgres: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
