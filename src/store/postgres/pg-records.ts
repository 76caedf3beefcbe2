import {
  type ActionRecord,
  type ActionStatus,
  type ActionStore,
  type ApprovalListFilter,
  type ApprovalRecord,
  type ApprovalStore,
  type ChangeFeed,
  StoreConflictError,
  StoreNotFoundError,
} from '../store.js';
import { type PgClient, type Tx, UNIQUE_VIOLATION } from './pg-client.js';
import { afterCommit, PgEvents, payloadOf } from './pg-events.js';

const parse = <T>(rows: { record: string }[]): T[] => rows.map((r) => JSON.parse(r.record) as T);

/** Approval requests in the `approvals` table; a change notifies every server on the schema (`approvals:<id>`). */
export class PgApprovalStore implements ApprovalStore {
  readonly #pg: PgClient;
  readonly #feed: ChangeFeed | undefined;

  constructor(pg: PgClient, feed?: ChangeFeed) {
    this.#pg = pg;
    this.#feed = feed;
  }

  async create(record: ApprovalRecord): Promise<void> {
    await this.#pg.transaction((tx) => this.insert(tx, record));
    this.announced(record.id);
  }

  /** Announces a committed change of request `id` on a feed other than NOTIFY (Redis). */
  announced(id: string): void {
    if (this.#feed) afterCommit(this.#feed, 'approvals', id);
  }

  /** `create`, inside the caller's transaction. */
  async insert(tx: Tx, record: ApprovalRecord): Promise<void> {
    try {
      await tx.query('INSERT INTO approvals (id, status, created_at, record) VALUES ($1, $2, $3, $4)', [
        record.id,
        record.status,
        record.createdAt,
        JSON.stringify(record),
      ]);
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new StoreConflictError(`approval \`${record.id}\` already exists: use a new id or update it`);
      }
      throw error;
    }
    await tx.query(PgEvents.notify, [this.#pg.channel, payloadOf('approvals', record.id)]);
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    return parse<ApprovalRecord>(await this.#pg.query('SELECT record FROM approvals WHERE id = $1', [id]))[0];
  }

  async list(filter: ApprovalListFilter = {}): Promise<ApprovalRecord[]> {
    const order = filter.order === 'desc' ? 'ORDER BY created_at DESC, id DESC' : 'ORDER BY created_at, id';
    const limit = filter.limit ?? 100;
    const rows =
      filter.status === undefined
        ? await this.#pg.query<{ record: string }>(`SELECT record FROM approvals ${order} LIMIT $1`, [limit])
        : await this.#pg.query<{ record: string }>(
            `SELECT record FROM approvals WHERE status = $1 ${order} LIMIT $2`,
            [filter.status, limit],
          );
    return parse<ApprovalRecord>(rows);
  }

  /** Read-modify-write under the row's lock (`FOR UPDATE`): votes cast on two servers at once apply one after the other. */
  async update(id: string, change: (current: ApprovalRecord) => ApprovalRecord): Promise<ApprovalRecord> {
    const updated = await this.#pg.transaction(async (tx) => {
      const [current] = parse<ApprovalRecord>(
        await tx.query('SELECT record FROM approvals WHERE id = $1 FOR UPDATE', [id]),
      );
      if (current === undefined) {
        throw new StoreNotFoundError(`approval \`${id}\` does not exist: create it before updating it`);
      }
      const next = change(current);
      if (next.id !== id)
        throw new TypeError(`approval update must keep \`id\` \`${id}\`, got \`${next.id}\``);
      await tx.query('UPDATE approvals SET status = $2, created_at = $3, record = $4 WHERE id = $1', [
        id,
        next.status,
        next.createdAt,
        JSON.stringify(next),
      ]);
      await tx.query(PgEvents.notify, [this.#pg.channel, payloadOf('approvals', id)]);
      return next;
    });
    this.announced(id);
    return updated;
  }
}

/** Actions of agents that execute themselves, keyed by agent and id, in insertion order (`n`). */
export class PgActionStore implements ActionStore {
  readonly #pg: PgClient;
  readonly #approvals: PgApprovalStore;

  constructor(pg: PgClient, approvals: PgApprovalStore) {
    this.#pg = pg;
    this.#approvals = approvals;
  }

  async create(record: ActionRecord, approval?: ApprovalRecord): Promise<void> {
    await this.#pg.transaction(async (tx) => {
      try {
        await tx.query('INSERT INTO actions (agent, id, status, record) VALUES ($1, $2, $3, $4)', [
          record.agent,
          record.id,
          record.status,
          JSON.stringify(record),
        ]);
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
          throw new StoreConflictError(
            `action \`${record.id}\` of agent \`${record.agent}\` already exists: use a new id or update it`,
          );
        }
        throw error;
      }
      if (approval) await this.#approvals.insert(tx, approval);
    });
    if (approval) this.#approvals.announced(approval.id);
  }

  async get(agent: string, id: string): Promise<ActionRecord | undefined> {
    return parse<ActionRecord>(
      await this.#pg.query('SELECT record FROM actions WHERE agent = $1 AND id = $2', [agent, id]),
    )[0];
  }

  async find(id: string, limit = 10): Promise<ActionRecord[]> {
    return parse<ActionRecord>(
      await this.#pg.query('SELECT record FROM actions WHERE id = $1 ORDER BY n LIMIT $2', [id, limit]),
    );
  }

  async list(filter: { status: ActionStatus; agent?: string; limit?: number }): Promise<ActionRecord[]> {
    const limit = filter.limit ?? 100;
    const rows =
      filter.agent === undefined
        ? await this.#pg.query<{ record: string }>(
            'SELECT record FROM actions WHERE status = $1 ORDER BY n LIMIT $2',
            [filter.status, limit],
          )
        : await this.#pg.query<{ record: string }>(
            'SELECT record FROM actions WHERE status = $1 AND agent = $2 ORDER BY n LIMIT $3',
            [filter.status, filter.agent, limit],
          );
    return parse<ActionRecord>(rows);
  }

  async update(
    agent: string,
    id: string,
    change: (current: ActionRecord) => ActionRecord,
  ): Promise<ActionRecord> {
    return this.#pg.transaction(async (tx) => {
      const [current] = parse<ActionRecord>(
        await tx.query('SELECT record FROM actions WHERE agent = $1 AND id = $2 FOR UPDATE', [agent, id]),
      );
      if (current === undefined) {
        throw new StoreNotFoundError(
          `action \`${id}\` of agent \`${agent}\` does not exist: create it before updating it`,
        );
      }
      const next = change(current);
      if (next.id !== id || next.agent !== agent) {
        throw new TypeError(`action update must keep agent \`${agent}\` and id \`${id}\``);
      }
      await tx.query('UPDATE actions SET status = $3, record = $4 WHERE agent = $1 AND id = $2', [
        agent,
        id,
        next.status,
        JSON.stringify(next),
      ]);
      return next;
    });
  }
}
