import type { Database, Statement } from 'better-sqlite3';
import {
  type ActionRecord,
  type ActionStatus,
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
    readonly table: 'approvals',
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
  /** `create`, synchronously: part of the caller's transaction when it runs inside one. */
  insert(record: ApprovalRecord): void {
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

/**
 * Actions of agents that execute themselves, in the `actions` table, keyed by agent and id. An
 * action created with its approval request is written in one transaction with the request.
 */
export class SqliteActionStore implements ActionStore {
  readonly #get: Statement;
  readonly #find: Statement;
  readonly #insert: Statement;
  readonly #replace: Statement;
  readonly #create: { immediate(record: ActionRecord, approval?: ApprovalRecord): void };
  readonly #update: {
    immediate(agent: string, id: string, change: (current: ActionRecord) => ActionRecord): ActionRecord;
  };
  readonly #db: Database;

  constructor(db: Database, approvals: SqliteApprovalStore) {
    this.#db = db;
    this.#get = db.prepare('SELECT record FROM actions WHERE agent = ? AND id = ?').pluck();
    this.#find = db.prepare('SELECT record FROM actions WHERE id = ? ORDER BY rowid LIMIT ?').pluck();
    this.#insert = db.prepare(
      'INSERT INTO actions (agent, id, status, record) VALUES (@agent, @id, @status, @record)',
    );
    this.#replace = db.prepare(
      'UPDATE actions SET status = @status, record = @record WHERE agent = @agent AND id = @id',
    );
    this.#create = db.transaction((record: ActionRecord, approval?: ApprovalRecord) => {
      try {
        this.#insert.run(row(record));
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new StoreConflictError(
            `action \`${record.id}\` of agent \`${record.agent}\` already exists: use a new id or update it`,
          );
        }
        throw error;
      }
      if (approval) approvals.insert(approval);
    });
    this.#update = db.transaction(
      (agent: string, id: string, change: (current: ActionRecord) => ActionRecord) => {
        const current = this.#read(agent, id);
        if (current === undefined) {
          throw new StoreNotFoundError(
            `action \`${id}\` of agent \`${agent}\` does not exist: create it before updating it`,
          );
        }
        const next = change(current);
        if (next.id !== id || next.agent !== agent) {
          throw new TypeError(`action update must keep agent \`${agent}\` and id \`${id}\``);
        }
        this.#replace.run(row(next));
        return next;
      },
    );
  }

  #read(agent: string, id: string): ActionRecord | undefined {
    const json = this.#get.get(agent, id) as string | undefined;
    return json === undefined ? undefined : (JSON.parse(json) as ActionRecord);
  }

  async create(record: ActionRecord, approval?: ApprovalRecord): Promise<void> {
    this.#create.immediate(record, approval);
  }
  async get(agent: string, id: string): Promise<ActionRecord | undefined> {
    return this.#read(agent, id);
  }
  async find(id: string, limit = 10): Promise<ActionRecord[]> {
    return (this.#find.all(id, limit) as string[]).map((json) => JSON.parse(json) as ActionRecord);
  }
  async list(filter: { status: ActionStatus; agent?: string; limit?: number }): Promise<ActionRecord[]> {
    const limit = filter.limit ?? 100;
    const rows = (
      filter.agent === undefined
        ? this.#db
            .prepare('SELECT record FROM actions WHERE status = ? ORDER BY rowid LIMIT ?')
            .pluck()
            .all(filter.status, limit)
        : this.#db
            .prepare('SELECT record FROM actions WHERE status = ? AND agent = ? ORDER BY rowid LIMIT ?')
            .pluck()
            .all(filter.status, filter.agent, limit)
    ) as string[];
    return rows.map((json) => JSON.parse(json) as ActionRecord);
  }
  async update(
    agent: string,
    id: string,
    change: (current: ActionRecord) => ActionRecord,
  ): Promise<ActionRecord> {
    return this.#update.immediate(agent, id, change);
  }
}

function row(record: ActionRecord): Record<string, string> {
  return { agent: record.agent, id: record.id, status: record.status, record: JSON.stringify(record) };
}
