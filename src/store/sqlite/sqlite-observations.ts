import type { Database, Statement } from 'better-sqlite3';
import { LATER_MAX_MS } from '../../audit/audit-log.js';
import type { ObservationRecord } from '../../contract/observation.js';
import type { ObservationStore } from '../store.js';
import type { AuditWriterThread } from './audit-writer.js';
import type { SqliteAuditStore } from './sqlite-audit.js';

interface Queued {
  record: Omit<ObservationRecord, 'seq'>;
  seq?: number;
  resolve: (stored: ObservationRecord) => void;
  reject: (error: unknown) => void;
}

/**
 * Observations (SPEC §2b) in the `observations` table, one JSON record per row, by session.
 * Appends made in one turn of the event loop share one transaction (one commit, so one fsync
 * under `audit.sync: full`): a gateway with many calls in flight learns their results together.
 */
export class SqliteObservationStore implements ObservationStore {
  readonly #insert: Statement;
  readonly #list: Statement;
  readonly #insertAll: (batch: readonly Queued[]) => number[];
  #queue: Queued[] = [];
  #scheduled = false;
  /** Appended with {@link appendLater}: written in the audit's next transaction. */
  #riding: Queued[] = [];
  /** Those written in the audit transaction under way, settled with it. */
  #aboard: Queued[] = [];
  #later: NodeJS.Timeout | undefined;

  readonly #writer: AuditWriterThread | undefined;

  /**
   * `audit`: the audit store of the same file, whose inline append transactions carry the
   * observations appended with {@link appendLater}. `writer`: the audit writer thread, where
   * commits are fsync'd off the event loop (`sync: full`).
   */
  constructor(db: Database, audit?: SqliteAuditStore) {
    const writer = audit?.writer;
    this.#writer = writer;
    this.#insert = db.prepare('INSERT INTO observations (agent, session, record) VALUES (?, ?, ?)');
    this.#insertAll = db.transaction((batch: readonly Queued[]) =>
      batch.map(({ record }) => this.#insertOne(record)),
    );
    this.#list = db
      .prepare(
        'SELECT seq, record FROM observations WHERE agent = ? AND session = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .raw();
    if (audit && !writer) {
      audit.commitAlongside({
        write: () => {
          const batch = this.#riding;
          if (batch.length === 0) return;
          this.#riding = [];
          if (this.#later) clearTimeout(this.#later);
          this.#later = undefined;
          const seqs = batch.map(({ record }) => this.#insertOne(record));
          this.#aboard = batch.map((q, i) => ({ ...q, seq: seqs[i] as number }));
        },
        settle: (error) => {
          const aboard = this.#aboard;
          this.#aboard = [];
          for (const q of aboard) {
            if (error === undefined) q.resolve({ ...q.record, seq: q.seq as number });
            else q.reject(error);
          }
        },
      });
    }
  }

  /**
   * Resolves once the record is committed: in the audit's next inline append transaction, or in
   * one of its own after {@link LATER_MAX_MS} (at once with the writer thread, which commits off
   * the event loop anyway).
   */
  appendLater(record: ObservationRecord): Promise<ObservationRecord> {
    if (this.#writer) return this.append(record);
    const { seq: _ignored, ...rest } = record;
    return new Promise((resolve, reject) => {
      this.#riding.push({ record: rest, resolve, reject });
      this.#later ??= setTimeout(() => {
        this.#later = undefined;
        this.#queue.push(...this.#riding);
        this.#riding = [];
        void this.#commit();
      }, LATER_MAX_MS);
    });
  }

  #insertOne(record: Queued['record']): number {
    return Number(this.#insert.run(record.agent, record.session, JSON.stringify(record)).lastInsertRowid);
  }

  /** Resolves once the record is committed, with its sequence number; a failed commit rejects every append in it. */
  append(record: ObservationRecord): Promise<ObservationRecord> {
    const { seq: _ignored, ...rest } = record;
    return new Promise((resolve, reject) => {
      this.#queue.push({ record: rest, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => void this.#commit());
    });
  }

  /** Commits the appends still waiting for their turn now (the store calls it before closing). */
  async flush(): Promise<void> {
    if (this.#later) clearTimeout(this.#later);
    this.#later = undefined;
    this.#queue.push(...this.#riding);
    this.#riding = [];
    if (this.#queue.length > 0) await this.#commit();
  }

  async #commit(): Promise<void> {
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    if (this.#writer) {
      // Off the event loop: with `sync: full` the commit's fsync would otherwise block every call.
      const rows = batch.map(({ record }) => ({
        agent: record.agent,
        session: record.session,
        record: JSON.stringify(record),
      }));
      try {
        const seqs = await this.#writer.observe(rows);
        for (const [i, q] of batch.entries()) q.resolve({ ...q.record, seq: seqs[i] as number });
      } catch (error) {
        for (const q of batch) q.reject(error);
      }
      return;
    }
    let seqs: number[];
    try {
      seqs = this.#insertAll(batch);
    } catch (error) {
      for (const q of batch) q.reject(error);
      return;
    }
    for (const [i, q] of batch.entries()) q.resolve({ ...q.record, seq: seqs[i] as number });
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
