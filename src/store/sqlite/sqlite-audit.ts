import { availableParallelism } from 'node:os';
import type { Database, Statement } from 'better-sqlite3';
import {
  type Appended,
  IN_THREAD_VERIFY_MAX_ROWS,
  type PreparedEntry,
  prepareEntry,
  queryLimit,
  recordFromRow,
  recordOf,
} from '../audit-records.js';
import type { AuditEntry, AuditQuery, AuditRecord, AuditStore, VerifyResult } from '../store.js';
import { type Alongside, createAppender } from './audit-append.js';
import { type AuditSync, synchronousOf } from './audit-sync.js';
import { AuditWriterThread } from './audit-writer.js';
import { startWorker } from './start-worker.js';
import { type RangeResult, type VerifyRange, verifyRange } from './verify-range.js';

/** A decision record that carries its action's result (`hasResult`). */
const COMBINED = "json_type(CAST(payload AS TEXT), '$.data.result') = 'object'";

/** The audit log in the `audit` table of a SQLite file. */

export class SqliteAuditStore implements AuditStore {
  readonly #db: Database;
  readonly #file: string;
  readonly #queries = new Map<string, Statement>();
  readonly #appendInline: (entries: readonly PreparedEntry[]) => Appended[];
  readonly #thread: AuditWriterThread | undefined;
  #alongside: Alongside | undefined;

  constructor(
    db: Database,
    file: string,
    options: { writer?: 'thread' | 'inline'; busyTimeoutMs?: number; sync?: AuditSync } = {},
  ) {
    this.#db = db;
    this.#file = file;
    this.#appendInline = createAppender(db, {
      write: () => this.#alongside?.write(),
      settle: (error) => this.#alongside?.settle(error),
    });
    if (options.writer !== 'inline')
      this.#thread = new AuditWriterThread(file, options.busyTimeoutMs ?? 5000, options.sync ?? 'full');
  }

  /**
   * Appends in one transaction, chained to whatever is stored. By default a writer thread does
   * the canonicalising, hashing, inserting and fsync, so the event loop keeps deciding meanwhile.
   */
  async append(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    const prepared = entries.map(prepareEntry);
    const appended = this.#thread ? await this.#thread.append(prepared) : this.#appendInline(prepared);
    return entries.map((entry, i) => recordOf(entry, appended[i] as Appended));
  }

  /**
   * The `synchronous` setting of the connection audit appends commit on, as SQLite reports it:
   * the writer thread's (started if needed), or the store's own with the inline writer.
   */
  async synchronous(): Promise<string> {
    return this.#thread ? this.#thread.synchronous() : synchronousOf(this.#db);
  }

  /**
   * Has `rows` written inside every append transaction made on this thread (the inline writer):
   * what rides the audit's commits. With the writer thread they commit on their own.
   */
  commitAlongside(rows: Alongside): void {
    this.#alongside = rows;
  }

  /** The writer thread, when appends go through one (observations then commit on it too). */
  get writer(): AuditWriterThread | undefined {
    return this.#thread;
  }

  /** Stops the writer thread after the batches it holds. */
  async close(): Promise<void> {
    await this.#thread?.close();
  }

  async query(query: AuditQuery): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const filters = [
      ['seq > ?', query.afterSeq],
      ['seq < ?', query.beforeSeq],
      ['agent = ?', query.agent],
      ['action_id = ?', query.actionId],
      // `result` also finds decisions carrying their result (SPEC §6); `splitRecord` tells them apart.
      [
        query.type === 'result' ? `(type = ? OR (type = 'decision' AND ${COMBINED}))` : 'type = ?',
        query.type,
      ],
      ['instr(lower(CAST(payload AS TEXT)), ?) > 0', query.text?.toLowerCase()],
    ] as const;
    for (const [clause, value] of filters) {
      if (value === undefined) continue;
      where.push(clause);
      params.push(value);
    }
    const order = query.order === 'desc' ? 'DESC' : 'ASC';
    const sql = `SELECT payload, hash FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT ?`;
    let statement = this.#queries.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql).raw();
      this.#queries.set(sql, statement);
    }
    const rows = statement.all(...params, queryLimit(query)) as [Buffer, Buffer][];
    return rows.map(([payload, hash]) => recordFromRow(payload, hash));
  }

  async count(): Promise<number> {
    return (this.#db.prepare('SELECT count(*) FROM audit').pluck().get() as number) ?? 0;
  }

  /**
   * Re-hashes the whole chain. `workers`: how many worker threads to split it across; `0`
   * verifies in the calling thread. By default logs under 50,000 rows are verified in-thread and
   * bigger ones across up to 4 workers (one per core), keeping the event loop free.
   */
  async verify(options: { workers?: number } = {}): Promise<VerifyResult> {
    const started = performance.now();
    const [rows, maxSeq] = this.#db.prepare('SELECT count(*), max(seq) FROM audit').raw().get() as [
      number,
      number | null,
    ];
    if (maxSeq === null) return { ok: true, records: 0, elapsedMs: performance.now() - started };
    const workers =
      options.workers ?? (rows < IN_THREAD_VERIFY_MAX_ROWS ? 0 : Math.min(4, availableParallelism()));
    // At least 1: a log holding only forged rows numbered 0 or below must still be read.
    const ranges = this.#split(Math.max(1, maxSeq), Math.max(1, workers));
    const results =
      workers === 0
        ? ranges.map((range) => verifyRange(this.#db, range))
        : await Promise.all(ranges.map((range) => this.#inWorker(range)));
    let records = 0;
    for (const result of results) {
      records += result.count;
      if (result.problem) {
        return { ok: false, records, firstBad: result.problem, elapsedMs: performance.now() - started };
      }
    }
    const head = results.at(-1)?.lastHash;
    const result: VerifyResult = { ok: true, records, elapsedMs: performance.now() - started };
    if (head) {
      result.headHash = Buffer.from(head).toString('hex');
      result.headSeq = maxSeq;
    }
    return result;
  }

  #split(maxSeq: number, parts: number): VerifyRange[] {
    const size = Math.ceil(maxSeq / parts);
    const seedOf = this.#db.prepare('SELECT hash FROM audit WHERE seq = ?').pluck();
    const ranges: VerifyRange[] = [];
    for (let after = 0; after < maxSeq; after += size) {
      const range: VerifyRange = { after, last: Math.min(maxSeq, after + size), first: after === 0 };
      const seed = after === 0 ? undefined : (seedOf.get(after) as Buffer | undefined);
      if (seed) range.seed = seed;
      ranges.push(range);
    }
    return ranges;
  }

  #inWorker(range: VerifyRange): Promise<RangeResult> {
    return new Promise((resolve, reject) => {
      const workerData = { file: this.#file, range };
      const worker = startWorker('verify-worker', { workerData });
      worker.once('message', (result: RangeResult) => resolve(result));
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (code !== 0) reject(new Error(`audit verify worker exited with code ${code}`));
      });
    });
  }
}
