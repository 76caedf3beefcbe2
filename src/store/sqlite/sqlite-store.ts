import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../store.js';
import { type AuditSync, applySync, synchronousOf } from './audit-sync.js';
import { migrate } from './migrations.js';
import { SqliteAlertStore } from './sqlite-alerts.js';
import { SqliteAuditStore } from './sqlite-audit.js';
import { SqliteInsights } from './sqlite-insights.js';
import { SqliteKillStore } from './sqlite-kills.js';
import { SqliteObservationStore } from './sqlite-observations.js';
import { SqlitePinStore } from './sqlite-pins.js';
import { SqliteActionStore, SqliteApprovalStore } from './sqlite-records.js';

/** Where the embedded store lives unless told otherwise (SPEC §7). */
export const DEFAULT_SQLITE_PATH = '.warden/warden.db';

export interface SqliteStoreOptions {
  /** How long a write waits for another process holding the lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * `thread`: audit appends (and observations) run on a writer thread beside the event loop, so
   * the event loop keeps working during each fsync. `inline`: on the calling thread (blocks the event loop
   * during each commit). Default: `thread` with `sync: 'full'`; `inline` with `sync: 'normal'`,
   * whose commits do not fsync (a few tens of µs), less than the two thread hops would cost.
   */
  auditWriter?: 'thread' | 'inline';
  /**
   * Durability of every commit, on this connection and the audit writer thread's (policy
   * `audit.sync`). `full` (default): fsync'd, survives power loss. `normal`: survives a crash of
   * the process, not of the OS or a power loss (see {@link AuditSync}).
   */
  sync?: AuditSync;
}

/**
 * The embedded store: one SQLite file, shareable by several processes. WAL journal with
 * `synchronous=FULL` by default, so every resolved write has been fsync'd (`sync: 'normal'`
 * trades that for speed: see {@link SqliteStoreOptions.sync}).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly audit: SqliteAuditStore;
  readonly kills: SqliteKillStore;
  readonly approvals: SqliteApprovalStore;
  readonly actions: SqliteActionStore;
  readonly pins: SqlitePinStore;
  readonly alerts: SqliteAlertStore;
  readonly insights: SqliteInsights;
  readonly observations: SqliteObservationStore;
  readonly #db: Database.Database;
  readonly sync: AuditSync;

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
      applySync(db, options.sync ?? 'full');
      migrate(db, file);
    } catch (error) {
      db.close();
      throw error;
    }
    this.#db = db;
    this.sync = options.sync ?? 'full';
    this.audit = new SqliteAuditStore(db, file, {
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      sync: this.sync,
      writer: options.auditWriter ?? (this.sync === 'normal' ? 'inline' : 'thread'),
    });
    this.kills = new SqliteKillStore(db);
    this.approvals = new SqliteApprovalStore(db);
    this.actions = new SqliteActionStore(db, this.approvals);
    this.pins = new SqlitePinStore(db);
    this.alerts = new SqliteAlertStore(db);
    this.insights = new SqliteInsights(db);
    this.observations = new SqliteObservationStore(db, this.audit);
  }

  /** The `synchronous` setting SQLite reports for this store's connection (read back, not remembered). */
  synchronous(): ReturnType<typeof synchronousOf> {
    return synchronousOf(this.#db);
  }

  async close(): Promise<void> {
    this.kills.stopAll();
    if (this.#db.open) await this.observations.flush();
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
