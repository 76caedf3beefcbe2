import type { Database, Statement } from 'better-sqlite3';
import type { ObservationRecord } from '../../contract/observation.js';
import type { ObservationStore } from '../store.js';

/** Observations (SPEC §2b) in the `observations` table, one JSON record per row, by session. */
export class SqliteObservationStore implements ObservationStore {
  readonly #insert: Statement;
  readonly #list: Statement;

  constructor(db: Database) {
    this.#insert = db.prepare('INSERT INTO observations (agent, session, record) VALUES (?, ?, ?)');
    this.#list = db
      .prepare(
        'SELECT seq, record FROM observations WHERE agent = ? AND session = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .raw();
  }

  async append(record: ObservationRecord): Promise<ObservationRecord> {
    const { seq: _ignored, ...rest } = record;
    const info = this.#insert.run(record.agent, record.session, JSON.stringify(rest));
    return { ...rest, seq: Number(info.lastInsertRowid) };
  }

  async list(
    agent: string,
    session: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<ObservationRecord[]> {
    const limit = Math.min(Math.max(options.limit ?? 1000, 1), 10_000);
    const rows = this.#list.all(agent, session, options.afterSeq ?? 0, limit) as [number, string][];
    return rows.map(([seq, json]) => ({ ...(JSON.parse(json) as ObservationRecord), seq }));
  }
}
