import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../store.js';
import { migrate } from './migrations.js';
import { SqliteAuditStore } from './sqlite-audit.js';
import { SqliteKillStore } from './sqlite-kills.js';
import { SqliteActionStore, SqliteApprovalStore } from './sqlite-records.js';

/** Where the embedded store lives unless told otherwise (SPEC §7). */
export const DEFAULT_SQLITE_PATH = '.warden/warden.db';

export interface SqliteStoreOptions {
  /** How long a write waits for another process holding the lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * `thread` (default): audit appends run on a writer thread beside the event loop.
   * `inline`: on the calling thread (simpler to debug; blocks the event loop during each fsync).
   */
  auditWriter?: 'thread' | 'inline';
}

/**
 * The embedded store: one SQLite file, shareable by several processes. WAL journal with
 * `synchronous=FULL`, so every resolved write has been fsync'd.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly audit: SqliteAuditStore;
  readonly kills: SqliteKillStore;
  readonly approvals: SqliteApprovalStore;
  readonly actions: SqliteActionStore;
  readonly #db: Database.Database;

  constructor(
    readonly file: string,
    options: SqliteStoreOptions = {},
  ) {
    mkdirSync(dirname(file), { recursive: true });
    const created = !existsSync(file);
    const db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    // The store holds every action's params: readable by its owner only (SQLite gives the
    // -wal and -shm files the same mode).
    if (created) chmodSync(file, 0o600);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      migrate(db, file);
    } catch (error) {
      db.close();
      throw error;
    }
    this.#db = db;
    this.audit = new SqliteAuditStore(db, file, {
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      ...(options.auditWriter ? { writer: options.auditWriter } : {}),
    });
    this.kills = new SqliteKillStore(db);
    this.approvals = new SqliteApprovalStore(db);
    this.actions = new SqliteActionStore(db);
  }

  async close(): Promise<void> {
    this.kills.stopAll();
    await this.audit.close();
    if (this.#db.open) this.#db.close();
  }
}

/**
 * Opens (creating and migrating as needed) the SQLite store at `path`.
 *
 * @example
 * const store = await openSqliteStore('.warden/warden.db');
 * await store.audit.append([{ type: 'decision', agent: 'bot', data: { effect: 'deny' } }]);
 * await store.close();
 */
export async function openSqliteStore(
  path: string = DEFAULT_SQLITE_PATH,
  options: SqliteStoreOptions = {},
): Promise<SqliteStore> {
  return new SqliteStore(resolve(path), options);
}
