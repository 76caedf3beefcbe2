import type { AuditEntry, AuditRecord, AuditStore } from '../contract/records.js';
import { redactSecrets } from '../secrets/redact-secrets.js';

export interface AuditLogOptions {
  /** Most entries written in one store transaction. Default 250: small enough that several batches are in flight at once (one being committed while the next is prepared), large enough to amortise the fsync. */
  maxBatch?: number;
  /**
   * Batches handed to the store before the first of them has committed. Default 8: while the
   * store commits one batch the next is already on its way, which matters when the store writes
   * on another thread. Stores apply batches in the order given, so the chain order is kept.
   */
  maxInFlight?: number;
  /**
   * Takes secrets out of each entry's `data` before it is hashed and stored. Default
   * {@link redactSecrets} (a value becomes `[REDACTED:<rule>:<hash>]`, so the chain covers what is
   * stored and still verifies); `false` keeps entries as given.
   */
  redact?: false | ((data: Record<string, unknown>) => Record<string, unknown>);
}

/**
 * How long an entry appended with {@link AuditLog.appendLater} waits, at most, for a commit made
 * for someone else before it is committed on its own.
 */
export const LATER_MAX_MS = 10;

interface Pending {
  entry: AuditEntry;
  resolve: (record: AuditRecord) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit over an {@link AuditStore}: concurrent appends share one transaction (one fsync),
 * which is what makes durable auditing of tens of thousands of actions per second possible.
 *
 * INVARIANT: an `append` promise resolves only after the batch holding it committed, so a
 * resolved record is durable; if the batch fails, every promise in it rejects and callers fail
 * closed. At most `maxInFlight` batches are in flight; entries arriving meanwhile wait for the next one.
 *
 * @example
 * const log = new AuditLog(store.audit);
 * const record = await log.append({ type: 'decision', agent: 'bot', data: { effect: 'allow' } });
 * await log.close();
 */
export class AuditLog {
  readonly #store: AuditStore;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  #later: NodeJS.Timeout | undefined;
  readonly #maxInFlight: number;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;
  readonly #listeners = new Set<(record: AuditRecord) => void>();
  readonly #redact: ((data: Record<string, unknown>) => Record<string, unknown>) | undefined;

  constructor(store: AuditStore, options: AuditLogOptions = {}) {
    const maxBatch = options.maxBatch ?? 250;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`audit log \`maxBatch\` must be a positive integer, got \`${maxBatch}\``);
    }
    this.#store = store;
    this.#maxBatch = maxBatch;
    this.#maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? 8));
    this.#redact = options.redact === undefined ? (d) => redactSecrets(d) : options.redact || undefined;
  }

  /** Queues `entry`; resolves with its stored record once it is committed. */
  append(entry: AuditEntry): Promise<AuditRecord> {
    return this.#enqueue(entry, false);
  }

  /**
   * Queues `entry` to ride the next commit made for an {@link append} (or, when none comes
   * within {@link LATER_MAX_MS}, one of its own); resolves once it is committed. For records no
   * caller waits on (a result returned before it is durable): one commit per call, not two,
   * when calls come one after another.
   */
  appendLater(entry: AuditEntry): Promise<AuditRecord> {
    return this.#enqueue(entry, true);
  }

  #enqueue(entry: AuditEntry, later: boolean): Promise<AuditRecord> {
    if (this.#closed) {
      return Promise.reject(
        new Error('audit log is closed: append before `close()`, or open a new AuditLog'),
      );
    }
    const redact = this.#redact;
    if (redact) {
      const data = redact(entry.data);
      if (data !== entry.data) entry = { ...entry, data };
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry, resolve, reject });
      if (!later) this.#schedule();
      else if (!this.#later && !this.#scheduled) {
        this.#later = setTimeout(() => {
          this.#later = undefined;
          this.#schedule();
        }, LATER_MAX_MS);
      }
    });
  }

  /**
   * Calls `listener` with each record once it is durable, in chain order, after the appender's
   * promise resolves. For live feeds, metrics and alerts: a listener that throws is reported on
   * stderr and does not affect the log or other listeners. Returns a function that unsubscribes.
   */
  onRecord(listener: (record: AuditRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when every entry appended so far has been written (or its batch has failed). */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#queue.length > 0) {
      if (this.#inFlight.size >= this.#maxInFlight || this.#queue.length === 0) {
        await Promise.race(this.#inFlight);
        continue;
      }
      if (this.#scheduled) clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
      this.#writeBatch();
    }
  }

  /** Refuses new entries and waits for the queued ones. Does not close the store. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight.size >= this.#maxInFlight) return;
    // setImmediate, not a microtask: lets every append issued in this turn of the event loop
    // (and I/O callbacks that produce more) join the batch.
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      this.#writeBatch();
    });
  }

  /** Hands the store as many batches as the in-flight budget allows (a full queue is not left waiting). */
  #writeBatch(): void {
    if (this.#later) clearTimeout(this.#later);
    this.#later = undefined;
    while (this.#queue.length > 0 && this.#inFlight.size < this.#maxInFlight) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      const commit: Promise<void> = this.#commit(batch).finally(() => {
        this.#inFlight.delete(commit);
        if (this.#queue.length > 0) this.#schedule();
      });
      this.#inFlight.add(commit);
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    let records: AuditRecord[];
    try {
      records = await this.#store.append(batch.map((p) => p.entry));
      if (records.length !== batch.length) {
        throw new Error(`audit store returned ${records.length} records for ${batch.length} entries`);
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    for (let i = 0; i < batch.length; i++) batch[i]?.resolve(records[i] as AuditRecord);
    if (this.#listeners.size > 0) queueMicrotask(() => this.#notify(records));
  }

  #notify(records: readonly AuditRecord[]): void {
    for (const record of records) {
      for (const listener of this.#listeners) {
        try {
          listener(record);
        } catch (error) {
          process.stderr.write(
            `${JSON.stringify({ level: 'error', msg: 'audit record listener threw; ignored', error: String(error) })}\n`,
          );
        }
      }
    }
  }
}
