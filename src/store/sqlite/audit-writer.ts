import type { Worker } from 'node:worker_threads';
import type { Appended, PreparedEntry } from '../audit-records.js';
import type { AuditSync } from './audit-sync.js';
import { startWorker } from './start-worker.js';

/** An observation row as the writer thread inserts it (`record`: the JSON without `seq`). */
export interface ObservationRow {
  agent: string;
  session: string;
  record: string;
}

interface Waiting {
  resolve: (reply: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Sends append batches to a writer thread and resolves each once it has committed (durably:
 * the writer's connection uses `synchronous=FULL`, or `NORMAL` when the store was opened with
 * `sync: 'normal'`). Entries arrive prepared (checked, `data` in
 * canonical JSON), so what crosses is mostly one string per entry, cheap to copy.
 *
 * A writer that dies rejects every batch in flight (their callers fail closed); the next append
 * starts a new one. The thread is unref'd while idle so it never keeps a process alive.
 */
export class AuditWriterThread {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();

  constructor(
    private readonly file: string,
    private readonly busyTimeoutMs: number,
    private readonly sync: AuditSync = 'full',
  ) {}

  append(entries: readonly PreparedEntry[]): Promise<Appended[]> {
    return this.#send<Appended[]>({ entries });
  }

  /**
   * Inserts observations (SPEC §2b) on the writer thread, in the transaction of the audit entries
   * sent with them; resolves with their sequence numbers once committed.
   */
  observe(rows: readonly ObservationRow[]): Promise<number[]> {
    return this.#send<number[]>({ observations: rows });
  }

  /** The writer connection's `synchronous` setting, as SQLite reports it (starts the thread if needed). */
  synchronous(): Promise<string> {
    return this.#send<string>({ synchronous: true });
  }

  #send<T>(
    message:
      | { entries: readonly PreparedEntry[] }
      | { observations: readonly ObservationRow[] }
      | { synchronous: true },
  ): Promise<T> {
    const worker = this.#ensure();
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (reply: unknown) => void, reject });
      worker.ref();
      worker.postMessage({ id, ...message });
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref(); // an idle writer is unref'd: keep the process alive until it has closed the file
    worker.postMessage({ close: true });
    await exited;
  }

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorker('audit-writer-worker', {
      workerData: { file: this.file, busyTimeoutMs: this.busyTimeoutMs, sync: this.sync },
    });
    worker.on(
      'message',
      (message: {
        id: number;
        appended?: Appended[];
        seqs?: number[];
        synchronous?: string;
        error?: string;
      }) => {
        const waiting = this.#waiting.get(message.id);
        if (!waiting) return;
        this.#waiting.delete(message.id);
        if (this.#waiting.size === 0) worker.unref();
        if (message.appended) waiting.resolve(message.appended);
        else if (message.seqs) waiting.resolve(message.seqs);
        else if (message.synchronous) waiting.resolve(message.synchronous);
        else waiting.reject(new Error(`audit append failed: ${message.error ?? 'unknown error'}`));
      },
    );
    const fail = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const waiting of this.#waiting.values()) waiting.reject(error);
      this.#waiting.clear();
    };
    worker.on('error', (error) => fail(new Error(`audit writer thread failed: ${error.message}`)));
    worker.on('exit', (code) =>
      fail(new Error(`audit writer thread exited (code ${code}) before committing`)),
    );
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}
