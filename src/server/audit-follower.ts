import { splitRecord } from '../contract/records.js';
import type { Warden } from '../pipeline/warden.js';
import { type ApprovalRecord, type AuditRecord, CHANGE_FEED_FALLBACK_MS } from '../store/store.js';

export interface FollowerListener {
  audit: (record: AuditRecord) => void;
  approval: (record: ApprovalRecord) => void;
}

/** How often the store is read for other processes' records while someone listens. */
export const FOLLOW_POLL_MS = 250;

/**
 * Every audit record as it becomes durable, whichever process wrote it, for `GET /v1/events`.
 *
 * This process's records arrive as they commit (`warden.audit.onRecord`), its approval changes
 * likewise (`warden.approvals.onChange`). Records appended by other processes sharing the store
 * (a `warden mcp` gateway, another `warden serve`, the CLI) are read from the store while at
 * least one listener is subscribed: at once when the store's change feed announces them (topic
 * `events`, PostgreSQL), else every {@link FOLLOW_POLL_MS}; an `approval.*` record among
 * them is followed by the approval's current state, so the dashboard's list updates live.
 *
 * INVARIANT: each record is delivered once. Records above `#watermark` that were delivered as they
 * committed are remembered in `#delivered` until the store read passes them; a record at or below
 * the watermark came through the store read, so its late local notification is dropped. Seqs are
 * assigned in commit order under the store's write lock, so a read that sees seq N sees all below it.
 */
export class AuditFollower {
  readonly #warden: Warden;
  readonly #pollMs: number;
  readonly #listeners = new Set<FollowerListener>();
  readonly #delivered = new Set<number>();
  /** The highest seq the store read has passed; undefined until the log's head has been read. */
  #watermark: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;
  #failing = false;
  /** Bumped by every start and stop, so that a read begun before a stop delivers nothing after it. */
  #generation = 0;

  constructor(warden: Warden, options: { pollMs?: number } = {}) {
    this.#warden = warden;
    this.#pollMs = options.pollMs ?? FOLLOW_POLL_MS;
  }

  /** Delivers records from now on to `listener`; returns a function that unsubscribes. */
  subscribe(listener: FollowerListener): () => void {
    if (this.#listeners.size === 0) this.#start();
    this.#listeners.add(listener);
    return () => {
      if (this.#listeners.delete(listener) && this.#listeners.size === 0) this.#stop();
    };
  }

  #start(): void {
    this.#generation++;
    const offAudit = this.#warden.audit.onRecord((record) => this.#local(record));
    const offApproval = this.#warden.approvals.onChange((record) => {
      for (const l of this.#listeners) l.approval(record);
    });
    this.#unsubscribe = () => {
      offAudit();
      offApproval();
    };
    // A memory store has no other writers.
    if (this.#warden.store.kind === 'memory') return;
    this.#watermark = undefined; // from the head at the first read: history is not replayed
    let again = false;
    const tick = () => {
      if (this.#reading) {
        again = true; // announced during a read: read once more after it
        return;
      }
      this.#reading = this.#read().finally(() => {
        this.#reading = undefined;
        if (again) {
          again = false;
          tick();
        }
      });
    };
    const feed = this.#warden.store.changes;
    const unlisten = feed?.on('events', tick);
    const offLocal = this.#unsubscribe;
    this.#unsubscribe = () => {
      offLocal();
      unlisten?.();
    };
    this.#timer = setInterval(tick, feed ? Math.max(this.#pollMs, CHANGE_FEED_FALLBACK_MS) : this.#pollMs);
    this.#timer.unref();
    tick();
  }

  #stop(): void {
    this.#generation++;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#delivered.clear();
  }

  #local(record: AuditRecord): void {
    if (this.#timer) {
      if (this.#watermark !== undefined && record.seq <= this.#watermark) return; // the store read delivered it
      this.#delivered.add(record.seq);
    }
    for (const view of splitRecord(record)) for (const l of this.#listeners) l.audit(view);
  }

  async #read(): Promise<void> {
    const generation = this.#generation;
    const current = () => generation === this.#generation;
    try {
      if (this.#watermark === undefined) {
        const [head] = await this.#warden.store.audit.query({ order: 'desc', limit: 1 });
        if (!current()) return;
        this.#watermark = head?.seq ?? 0;
        for (const seq of this.#delivered) if (seq <= this.#watermark) this.#delivered.delete(seq);
      }
      for (;;) {
        const page = await this.#warden.store.audit.query({ afterSeq: this.#watermark, limit: 1000 });
        if (!current()) return;
        for (const record of page) {
          // Advanced record by record: a local notification arriving during the await below
          // for a record already delivered here must find it under the watermark.
          this.#watermark = record.seq;
          if (this.#delivered.delete(record.seq)) continue;
          for (const view of splitRecord(record)) for (const l of this.#listeners) l.audit(view);
          if (record.type.startsWith('approval.')) await this.#approvalChanged(record);
          if (!current()) return;
        }
        if (page.length < 1000) break;
      }
      this.#failing = false;
    } catch (error) {
      if (!this.#failing)
        process.stderr.write(
          `${JSON.stringify({ level: 'error', msg: 'live events: the audit log could not be read; retrying', error: String(error) })}\n`,
        );
      this.#failing = true;
    }
  }

  async #approvalChanged(record: AuditRecord): Promise<void> {
    const id = (record.data as { approvalId?: unknown }).approvalId;
    if (typeof id !== 'string') return;
    const approval = await this.#warden.store.approvals.get(id);
    if (approval) for (const l of this.#listeners) l.approval(approval);
  }
}
