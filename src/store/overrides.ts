import type { AuditSink } from '../contract/records.js';
import { type AuditRecord, type AuditStore, CHANGE_FEED_FALLBACK_MS, type ChangeFeed } from './store.js';

/** The audit record type that carries every override change. */
export const OVERRIDE_RECORD = 'override';

/**
 * `revoke`/`restore`: the agent's grants are withdrawn (every action denied by the permissions
 * stage) or given back. `approve-all`/`clear-approve-all`: every action of the agent needs human
 * approval (the rules stage turns allow into ask), or no longer does. `tighten`/`clear-tighten`:
 * the agent's rate limits are divided by `limits.tighten.factor`, with an emergency limit for
 * what no rate rule counts (the limits stage), or are back to the policy's.
 */
export type OverrideChange =
  | 'revoke'
  | 'restore'
  | 'approve-all'
  | 'clear-approve-all'
  | 'tighten'
  | 'clear-tighten';

export interface OverrideState {
  agent: string;
  reason: string;
  by: string;
  at: string;
  seq?: number;
  /** The anomaly code (`anomaly.loop`, …) when an automatic response made the change. */
  anomaly?: string;
}

type Switch = 'revoked' | 'approveAll' | 'tightened';

/** Which switch each change turns, and whether it turns it on. */
const CHANGES: Readonly<Record<OverrideChange, readonly [Switch, boolean]>> = {
  revoke: ['revoked', true],
  restore: ['revoked', false],
  'approve-all': ['approveAll', true],
  'clear-approve-all': ['approveAll', false],
  tighten: ['tightened', true],
  'clear-tighten': ['tightened', false],
};

function turnsOf(change: unknown): readonly [Switch, boolean] | undefined {
  return typeof change === 'string' && Object.hasOwn(CHANGES, change)
    ? CHANGES[change as OverrideChange]
    : undefined;
}

/**
 * Incident overrides: per-agent switches that outlive a restart and reach every process sharing
 * the store. They live in the audit log itself (records of type `override`), so each change is
 * persisted and audited in one write and the current state is a fold over those records; the
 * in-memory copy keeps the stage checks synchronous.
 *
 * INVARIANT: changes apply in audit order. A local change applies at once, and the next read
 * (which tracks the highest override seq it has read) re-reads it in order with everyone else's.
 * With the store's change feed, a change is announced to every process sharing the store, which
 * reads it at once; the poll then only covers a lost notification.
 */
export class Overrides {
  readonly #switches: Readonly<Record<Switch, Map<string, OverrideState>>> = {
    revoked: new Map(),
    approveAll: new Map(),
    tightened: new Map(),
  };
  #lastSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #again = false;
  #unlisten: (() => void) | undefined;

  constructor(
    private readonly store: AuditStore,
    private readonly audit: AuditSink,
    private readonly feed?: ChangeFeed,
  ) {}

  /**
   * Reads the stored overrides; with `intervalMs`, follows changes made by other processes: told
   * by the change feed when the store has one (then read every {@link CHANGE_FEED_FALLBACK_MS} at
   * most as a fallback), else read every `intervalMs`.
   */
  async start(intervalMs?: number): Promise<void> {
    await this.refresh();
    if (intervalMs === undefined) return;
    const read = () => {
      if (this.#polling) {
        this.#again = true; // announced during a read: read once more after it
        return;
      }
      this.#polling = this.refresh()
        .catch((error: unknown) => {
          process.stderr.write(
            `${JSON.stringify({ level: 'error', msg: 'overrides could not be read; keeping the last known state', error: String(error) })}\n`,
          );
        })
        .finally(() => {
          this.#polling = undefined;
          if (this.#again) {
            this.#again = false;
            read();
          }
        });
    };
    this.#unlisten = this.feed?.on('overrides', read);
    this.#timer = setInterval(read, this.feed ? Math.max(intervalMs, CHANGE_FEED_FALLBACK_MS) : intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unlisten?.();
    this.#unlisten = undefined;
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
    const revoked = this.#switches.revoked;
    return revoked.size === 0 ? undefined : revoked.get(agent);
  }

  /** The approve-everything override in force for `agent`, if any. */
  approvalRequired(agent: string): OverrideState | undefined {
    const approveAll = this.#switches.approveAll;
    return approveAll.size === 0 ? undefined : approveAll.get(agent);
  }

  /** The tightening of `agent`'s rate limits in force, if any. */
  tightened(agent: string): OverrideState | undefined {
    const tightened = this.#switches.tightened;
    return tightened.size === 0 ? undefined : tightened.get(agent);
  }

  list(): { revoked: OverrideState[]; approveAll: OverrideState[]; tightened: OverrideState[] } {
    const { revoked, approveAll, tightened } = this.#switches;
    return {
      revoked: [...revoked.values()],
      approveAll: [...approveAll.values()],
      tightened: [...tightened.values()],
    };
  }

  /**
   * Records `change` for `agent` and applies it. Returns false (and records nothing) when it would
   * change nothing: restoring an agent whose grants are not revoked, and so on. `cause.anomaly`
   * names the anomaly an automatic response answers; it is kept in the record.
   */
  async change(
    agent: string,
    change: OverrideChange,
    by: string,
    reason = '',
    cause: { anomaly?: string } = {},
  ): Promise<boolean> {
    if (typeof agent !== 'string' || agent === '' || agent === '*') {
      throw new TypeError('an override names one agent (not `*`); use the kill switch to stop every agent');
    }
    const turns = turnsOf(change);
    if (!turns) {
      throw new TypeError(
        `unknown override change \`${String(change)}\`; expected one of ${Object.keys(CHANGES).join(', ')}`,
      );
    }
    const [which, setting] = turns;
    if (this.#switches[which].has(agent) === setting) return false;
    const record = await this.audit.append({
      type: OVERRIDE_RECORD,
      agent,
      actor: by,
      data: { change, reason, ...(cause.anomaly ? { anomaly: cause.anomaly } : {}) },
    });
    this.#apply(record);
    // Recorded already: a failed announcement only leaves the others to their fallback read.
    this.feed?.notify('overrides').catch(() => undefined);
    return true;
  }

  #apply(record: AuditRecord): void {
    const agent = record.agent;
    const data = record.data as { change?: OverrideChange; reason?: string; anomaly?: string };
    // A change this build does not know (written by a newer one) is skipped, not misread.
    const turns = turnsOf(data.change);
    if (!agent || !turns) return;
    const [which, setting] = turns;
    if (!setting) {
      this.#switches[which].delete(agent);
      return;
    }
    this.#switches[which].set(agent, {
      agent,
      reason: data.reason ?? '',
      by: record.actor ?? 'unknown',
      at: record.ts,
      seq: record.seq,
      ...(typeof data.anomaly === 'string' ? { anomaly: data.anomaly } : {}),
    });
  }
}
