import type { AuditSink } from '../audit/audit-sink.js';
import type { AuditRecord, AuditStore } from '../store/store.js';

/** The audit record type that carries every override change. */
export const OVERRIDE_RECORD = 'override';

/**
 * `revoke`/`restore`: the agent's grants are withdrawn (every action denied by the permissions
 * stage) or given back. `approve-all`/`clear-approve-all`: every action of the agent needs human
 * approval (the rules stage turns allow into ask), or no longer does.
 */
export type OverrideChange = 'revoke' | 'restore' | 'approve-all' | 'clear-approve-all';

export interface OverrideState {
  agent: string;
  reason: string;
  by: string;
  at: string;
  seq?: number;
}

/**
 * Incident overrides: per-agent switches that outlive a restart and reach every process sharing
 * the store. They live in the audit log itself (records of type `override`), so each change is
 * persisted and audited in one write and the current state is a fold over those records; the
 * in-memory copy keeps the stage checks synchronous.
 *
 * INVARIANT: changes apply in audit order. A local change applies at once, and the poll (which
 * tracks the highest override seq it has read) re-reads it in order with everyone else's.
 */
export class Overrides {
  readonly #revoked = new Map<string, OverrideState>();
  readonly #approveAll = new Map<string, OverrideState>();
  #lastSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(
    private readonly store: AuditStore,
    private readonly audit: AuditSink,
  ) {}

  /** Reads the stored overrides; with `intervalMs`, follows changes made by other processes. */
  async start(intervalMs?: number): Promise<void> {
    await this.refresh();
    if (intervalMs === undefined) return;
    this.#timer = setInterval(() => {
      this.#polling ??= this.refresh()
        .catch((error: unknown) => {
          process.stderr.write(
            `${JSON.stringify({ level: 'error', msg: 'overrides could not be read; keeping the last known state', error: String(error) })}\n`,
          );
        })
        .finally(() => {
          this.#polling = undefined;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads override records appended since the last read, in order. */
  async refresh(): Promise<void> {
    for (;;) {
      const page = await this.store.query({ type: OVERRIDE_RECORD, afterSeq: this.#lastSeq, limit: 1000 });
      for (const record of page) this.#apply(record);
      const last = page.at(-1);
      if (last) this.#lastSeq = last.seq;
      if (page.length < 1000) return;
    }
  }

  /** The revocation in force for `agent`, if any. */
  revoked(agent: string): OverrideState | undefined {
    return this.#revoked.size === 0 ? undefined : this.#revoked.get(agent);
  }

  /** The approve-everything override in force for `agent`, if any. */
  approvalRequired(agent: string): OverrideState | undefined {
    return this.#approveAll.size === 0 ? undefined : this.#approveAll.get(agent);
  }

  list(): { revoked: OverrideState[]; approveAll: OverrideState[] } {
    return { revoked: [...this.#revoked.values()], approveAll: [...this.#approveAll.values()] };
  }

  /**
   * Records `change` for `agent` and applies it. Returns false (and records nothing) when it would
   * change nothing: restoring an agent whose grants are not revoked, and so on.
   */
  async change(agent: string, change: OverrideChange, by: string, reason = ''): Promise<boolean> {
    if (typeof agent !== 'string' || agent === '' || agent === '*') {
      throw new TypeError('an override names one agent (not `*`); use the kill switch to stop every agent');
    }
    const active = change === 'revoke' || change === 'restore' ? this.#revoked : this.#approveAll;
    const setting = change === 'revoke' || change === 'approve-all';
    if (active.has(agent) === setting) return false;
    const record = await this.audit.append({
      type: OVERRIDE_RECORD,
      agent,
      actor: by,
      data: { change, reason },
    });
    this.#apply(record);
    return true;
  }

  #apply(record: AuditRecord): void {
    const agent = record.agent;
    const data = record.data as { change?: OverrideChange; reason?: string };
    if (!agent || !data.change) return;
    const state: OverrideState = {
      agent,
      reason: data.reason ?? '',
      by: record.actor ?? 'unknown',
      at: record.ts,
      seq: record.seq,
    };
    if (data.change === 'revoke') this.#revoked.set(agent, state);
    else if (data.change === 'restore') this.#revoked.delete(agent);
    else if (data.change === 'approve-all') this.#approveAll.set(agent, state);
    else if (data.change === 'clear-approve-all') this.#approveAll.delete(agent);
  }
}
