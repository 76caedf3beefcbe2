import type { AuditRecord } from '../store/store.js';

const MAX_OPEN = 100_000;

/**
 * Money spent, read from the audit stream: an action's spend is the cost its result record
 * reports (`data.cost.usd`, agents that execute themselves), else the `cost.usd` its decision
 * carried, counted once a result record shows it was executed (whatever the outcome: a failed
 * paid call was still paid). Denied actions spend nothing.
 */
export class SpendLedger {
  /** Estimated cost of decided, not yet finished actions, by action id (oldest dropped past MAX_OPEN). */
  readonly #open = new Map<string, number>();

  /** Returns what `record` spent, when it is a result that spent something. */
  observe(record: AuditRecord): { agent: string; usd: number } | undefined {
    if (!record.agent || !record.actionId) return undefined;
    if (record.type === 'decision') {
      const data = record.data as DecisionData;
      const usd = data.action?.cost?.usd;
      if (typeof usd === 'number' && usd > 0 && data.decision?.effect !== 'deny') {
        if (this.#open.size >= MAX_OPEN) this.#open.delete(this.#open.keys().next().value as string);
        this.#open.set(record.actionId, usd);
      }
      return undefined;
    }
    if (record.type !== 'result') return undefined;
    const estimate = this.#open.get(record.actionId);
    this.#open.delete(record.actionId);
    const reported = (record.data as { cost?: { usd?: unknown } }).cost?.usd;
    const usd = typeof reported === 'number' && Number.isFinite(reported) ? reported : estimate;
    return usd !== undefined && usd > 0 ? { agent: record.agent, usd } : undefined;
  }
}

/** The parts of a decision record's data that monitoring reads. */
export interface DecisionData {
  action?: {
    type?: string;
    params?: Record<string, unknown>;
    session?: string;
    user?: string;
    cost?: { usd?: number };
    invalid?: boolean;
  };
  decision?: { effect?: string; risk?: string; reasons?: { code: string; stage: string; message: string }[] };
}
