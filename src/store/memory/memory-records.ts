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

/** Rows in a map keyed by `id`, copied in and out so a caller cannot change what is stored. */
class MemoryTable<T extends { id: string }> {
  protected readonly rows = new Map<string, T>();

  constructor(readonly label: string) {}

  async create(record: T): Promise<void> {
    this.insert(record);
  }

  /** `create`, synchronously (so a caller can make it part of a larger all-or-nothing write). */
  insert(record: T): void {
    if (this.rows.has(record.id)) {
      throw new StoreConflictError(
        `${this.label} \`${record.id}\` already exists: use a new id or update it`,
      );
    }
    this.rows.set(record.id, structuredClone(record));
  }

  async get(id: string): Promise<T | undefined> {
    const row = this.rows.get(id);
    return row === undefined ? undefined : structuredClone(row);
  }

  async update(id: string, change: (current: T) => T): Promise<T> {
    const current = this.rows.get(id);
    if (current === undefined) {
      throw new StoreNotFoundError(`${this.label} \`${id}\` does not exist: create it before updating it`);
    }
    const next = change(structuredClone(current));
    if (next.id !== id)
      throw new TypeError(`${this.label} update must keep \`id\` \`${id}\`, got \`${next.id}\``);
    this.rows.set(id, structuredClone(next));
    return structuredClone(next);
  }
}

/** Actions keyed by agent and id (a client-chosen id is scoped to its agent). */
export class MemoryActionStore implements ActionStore {
  readonly #rows = new Map<string, ActionRecord>();

  constructor(private readonly approvals: MemoryApprovalStore) {}

  async create(record: ActionRecord, approval?: ApprovalRecord): Promise<void> {
    const key = actionKey(record.agent, record.id);
    if (this.#rows.has(key)) {
      throw new StoreConflictError(
        `action \`${record.id}\` of agent \`${record.agent}\` already exists: use a new id or update it`,
      );
    }
    // Both or neither, with no await in between: the approval's insert throws on its own conflict
    // before anything is stored.
    if (approval) this.approvals.insert(approval);
    this.#rows.set(key, structuredClone(record));
  }

  async get(agent: string, id: string): Promise<ActionRecord | undefined> {
    const row = this.#rows.get(actionKey(agent, id));
    return row === undefined ? undefined : structuredClone(row);
  }

  async find(id: string, limit = 10): Promise<ActionRecord[]> {
    const out: ActionRecord[] = [];
    for (const row of this.#rows.values()) {
      if (row.id === id) out.push(structuredClone(row));
      if (out.length >= limit) break;
    }
    return out;
  }

  async list(filter: { status: ActionStatus; agent?: string; limit?: number }): Promise<ActionRecord[]> {
    const out: ActionRecord[] = [];
    for (const row of this.#rows.values()) {
      if (out.length >= (filter.limit ?? 100)) break;
      if (row.status !== filter.status) continue;
      if (filter.agent !== undefined && row.agent !== filter.agent) continue;
      out.push(structuredClone(row));
    }
    return out;
  }

  async update(
    agent: string,
    id: string,
    change: (current: ActionRecord) => ActionRecord,
  ): Promise<ActionRecord> {
    const key = actionKey(agent, id);
    const current = this.#rows.get(key);
    if (current === undefined) {
      throw new StoreNotFoundError(
        `action \`${id}\` of agent \`${agent}\` does not exist: create it before updating it`,
      );
    }
    const next = change(structuredClone(current));
    if (next.id !== id || next.agent !== agent) {
      throw new TypeError(`action update must keep agent \`${agent}\` and id \`${id}\``);
    }
    this.#rows.set(key, structuredClone(next));
    return structuredClone(next);
  }
}

function actionKey(agent: string, id: string): string {
  return JSON.stringify([agent, id]);
}

export class MemoryApprovalStore extends MemoryTable<ApprovalRecord> implements ApprovalStore {
  constructor() {
    super('approval');
  }

  /** Oldest first unless `order` is `desc`, at most `limit` (default 100). */
  async list(filter: ApprovalListFilter = {}): Promise<ApprovalRecord[]> {
    const matching = [...this.rows.values()]
      .filter((r) => filter.status === undefined || r.status === filter.status)
      .sort((a, b) =>
        a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1,
      );
    if (filter.order === 'desc') matching.reverse();
    return structuredClone(matching.slice(0, filter.limit ?? 100));
  }
}
