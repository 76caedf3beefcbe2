import Database from 'better-sqlite3';
import { migrate } from '../../store/sqlite/migrations.js';
import { type Change, type Doc, DocBackend, type DocStore } from './doc-backend.js';

/**
 * Counters in the store's SQLite file (table `limit_state`, migration 2), so they survive a
 * restart and are shared by every process on the host that opens the file. Each change is one
 * immediate transaction: processes are serialised by SQLite's write lock. This connection commits
 * with `synchronous = NORMAL` (WAL): a counter survives a process crash; a power cut may lose
 * the last few changes.
 */
export function sqliteBackend(file: string, options: { busyTimeoutMs?: number } = {}): DocBackend {
  return new DocBackend('sqlite', new SqliteDocs(file, options.busyTimeoutMs ?? 5000));
}

const SWEEP_EVERY = 5_000;

class SqliteDocs implements DocStore {
  private readonly db: Database.Database;
  private readonly getOne: Database.Statement<[string, number], { doc: string }>;
  private readonly put: Database.Statement<[string, string, number]>;
  private readonly del: Database.Statement<[string]>;
  private readonly list: Database.Statement<[string, string, number], { key: string }>;
  private readonly sweepStmt: Database.Statement<[number]>;
  private writes = 0;

  constructor(file: string, busyTimeoutMs: number) {
    this.db = new Database(file, { timeout: busyTimeoutMs });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    migrate(this.db, file);
    this.getOne = this.db.prepare('SELECT doc FROM limit_state WHERE key = ? AND exp > ?');
    this.put = this.db.prepare(
      'INSERT INTO limit_state (key, doc, exp) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET doc = excluded.doc, exp = excluded.exp',
    );
    this.del = this.db.prepare('DELETE FROM limit_state WHERE key = ?');
    this.list = this.db.prepare(
      'SELECT key FROM limit_state WHERE key >= ? AND key < ? AND exp > ? ORDER BY key',
    );
    this.sweepStmt = this.db.prepare('DELETE FROM limit_state WHERE exp <= ?');
  }

  private readNow(keys: readonly string[], now: number): (Doc | undefined)[] {
    return keys.map((k) => {
      const row = this.getOne.get(k, now);
      return row ? (JSON.parse(row.doc) as Doc) : undefined;
    });
  }

  async read(keys: readonly string[]): Promise<(Doc | undefined)[]> {
    return this.readNow(keys, Date.now());
  }

  async write<T>(
    keys: readonly string[],
    change: (docs: (Doc | undefined)[], now: number) => Change<T>,
  ): Promise<T> {
    const run = this.db.transaction(() => {
      const now = Date.now();
      const { docs, result } = change(this.readNow(keys, now), now);
      keys.forEach((key, i) => {
        const doc = docs[i];
        if (doc) this.put.run(key, JSON.stringify(doc), doc.exp);
        else this.del.run(key);
      });
      if (++this.writes % SWEEP_EVERY === 0) this.sweepStmt.run(now);
      return result;
    });
    return run.immediate();
  }

  async keys(prefix: string): Promise<string[]> {
    return this.list.all(prefix, `${prefix}\uffff`, Date.now()).map((r) => r.key);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
