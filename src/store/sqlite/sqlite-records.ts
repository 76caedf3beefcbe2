import type { Database, Statement } from 'better-sqlite3';
import {
  type ActionRecord,
  type ActionStore,
  type ApprovalListFilter,
  type ApprovalRecord,
  type ApprovalStore,
  StoreConflictError,
  StoreNotFoundError,
} from '../store.js';

/** Rows stored as JSON, keyed by `id`, changed only by read-modify-write in one transaction. */
class JsonTable<T extends { id: string }> {
  readonly #get: Statement;
  readonly #insert: Statement;
  readonly #replace: Statement;
  readonly #update: { immediate(id: string, change: (current: T) => T): T };

  constructor(
    db: Database,
    readonly table: 'approvals' | 'actions',
    readonly label: string,
    columns: Record<string, (record: T) => string>,
  ) {
    const extra = Object.entries(columns);
    const names = ['id', 'record', ...extra.map(([name]) => name)];
    this.#get = db.prepare(`SELECT record FROM ${table} WHERE id = ?`).pluck();
    this.#insert = db.prepare(
      `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`,
    );
    this.#replace = db.prepare(
      `UPDATE ${table} SET ${names.map((n) => `${n} = @${n}`).join(', ')} WHERE id = @id`,
    );
    this.row = (record) => {
      const row: Record<string, string> = { id: record.id, record: JSON.stringify(record) };
      for (const [name, value] of extra) row[name] = value(record);
      return row;
    };
    this.#update = db.transaction((id: string, change: (current: T) => T) => {
      const current = this.get(id);
      if (current === undefined) {
        throw new StoreNotFoundError(`${label} \`${id}\` does not exist: create it before updating it`);
      }
      const next = change(current);
      if (next.id !== id) {
        throw new TypeError(`${label} update must keep \`id\` \`${id}\`, got \`${next.id}\``);
      }
      this.#replace.run(this.row(next));
      return this.get(id) as T;
    });
  }

  readonly row: (record: T) => Record<string, string>;

  create(record: T): void {
    try {
      this.#insert.run(this.row(record));
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new StoreConflictError(
          `${this.label} \`${record.id}\` already exists: use a new id or update it`,
        );
      }
      throw error;
    }
  }

  get(id: string): T | undefined {
    const json = this.#get.get(id) as string | undefined;
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  update(id: string, change: (current: T) => T): T {
    return this.#update.immediate(id, change);
  }
}

/** Approval requests in the `approvals` table. */
export class SqliteApprovalStore implements ApprovalStore {
  readonly #table: JsonTable<ApprovalRecord>;
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
    this.#table = new JsonTable<ApprovalRecord>(db, 'approvals', 'approval', {
      status: (r) => r.status,
      created_at: (r) => r.createdAt,
    });
  }

  async create(record: ApprovalRecord): Promise<void> {
    this.#table.create(record);
  }
  async get(id: string): Promise<ApprovalRecord | undefined> {
    return this.#table.get(id);
  }
  async update(id: string, change: (current: ApprovalRecord) => ApprovalRecord): Promise<ApprovalRecord> {
    return this.#table.update(id, change);
  }

  /** Oldest first unless `order` is `desc`, at most `limit` (default 100). */
  async list(filter: ApprovalListFilter = {}): Promise<ApprovalRecord[]> {
    const limit = filter.limit ?? 100;
    const order = filter.order === 'desc' ? 'ORDER BY created_at DESC, id DESC' : 'ORDER BY created_at, id';
    const rows = (
      filter.status === undefined
        ? this.#db.prepare(`SELECT record FROM approvals ${order} LIMIT ?`).pluck().all(limit)
        : this.#db
            .prepare(`SELECT record FROM approvals WHERE status = ? ${order} LIMIT ?`)
            .pluck()
            .all(filter.status, limit)
    ) as string[];
    return rows.map((json) => JSON.parse(json) as ApprovalRecord);
  }
}

/** Actions of agents that execute themselves, in the `actions` table. */
export class SqliteActionStore implements ActionStore {
  readonly #table: JsonTable<ActionRecord>;

  constructor(db: Database) {
    this.#table = new JsonTable<ActionRecord>(db, 'actions', 'action', {});
  }

  async create(record: ActionRecord): Promise<void> {
    this.#table.create(record);
  }
  async get(id: string): Promise<ActionRecord | undefined> {
    return this.#table.get(id);
  }
  async update(id: string, change: (current: ActionRecord) => ActionRecord): Promise<ActionRecord> {
    return this.#table.update(id, change);
  }
}
