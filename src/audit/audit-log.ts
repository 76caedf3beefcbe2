import type { AuditEntry, AuditRecord, AuditStore } from '../store/store.js';

export interface AuditLogOptions {
  /** Most entries written in one store transaction. Default 1000. */
  maxBatch?: number;
}

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
 * closed. At most one batch is in flight; entries arriving meanwhile wait for the next one.
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
  #inFlight: Promise<void> | undefined;
  #closed = false;

  constructor(store: AuditStore, options: AuditLogOptions = {}) {
    const maxBatch = options.maxBatch ?? 1000;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`audit log \`maxBatch\` must be a positive integer, got \`${maxBatch}\``);
    }
    this.#store = store;
    this.#maxBatch = maxBatch;
  }

  /** Queues `entry`; resolves with its stored record once it is committed. */
  append(entry: AuditEntry): Promise<AuditRecord> {
    if (this.#closed) {
      return Promise.reject(
        new Error('audit log is closed: append before `close()`, or open a new AuditLog'),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ entry, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves when every entry appended so far has been written (or its batch has failed). */
  async flush(): Promise<void> {
    while (this.#inFlight || this.#queue.length > 0) {
      if (this.#inFlight) {
        await this.#inFlight;
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
    if (this.#scheduled || this.#inFlight) return;
    // setImmediate, not a microtask: lets every append issued in this turn of the event loop
    // (and I/O callbacks that produce more) join the batch.
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      this.#writeBatch();
    });
  }

  #writeBatch(): void {
    const batch = this.#queue.splice(0, this.#maxBatch);
    if (batch.length === 0) return;
    this.#inFlight = this.#commit(batch).finally(() => {
      this.#inFlight = undefined;
      if (this.#queue.length > 0) this.#schedule();
    });
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
  }
}
