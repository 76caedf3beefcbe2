import { recordedCostUsd, recordedEstimateUsd } from '../record/records.js';
import type { AuditRecord } from '../store/store.js';

const MAX_OPEN = 100_000;

/**
 * Money spent, read from the audit stream with `recordedCostUsd`: an action's spend is the actual
 * cost its result record carries (the provider's usage priced, or the reported `cost.usd`), else
 * the estimate its decision record carries (`cost.usd`, or its model and tokens priced), counted
 * once a result record shows it was executed (whatever the outcome: a failed paid call was still
 * paid). Denied actions spend nothing.
 */
export class SpendLedger {
  /** Estimated cost of decided, not yet finished actions, by action id (oldest dropped past MAX_OPEN). */
  readonly #open = new Map<string, number>();

  /** Returns what `record` spent, when it is a result that spent something. */
  observe(record: AuditRecord): { agent: string; usd: number } | undefined {
    if (!record.agent || !record.actionId) return undefined;
    if (record.type === 'decision') {
      const data = record.data as DecisionData;
      const usd = recordedEstimateUsd(data);
      if (usd !== undefined && usd > 0 && data.decision?.effect !== 'deny') {
        if (this.#open.size >= MAX_OPEN) this.#open.delete(this.#open.keys().next().value as string);
        this.#open.set(record.actionId, usd);
      }
      return undefined;
    }
    if (record.type !== 'result') return undefined;
    const estimate = this.#open.get(record.actionId);
    this.#open.delete(record.actionId);
    const usd = recordedCostUsd(record.data as ResultData, estimate);
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
  /** The action's estimated cost (`EstimateData`), in records written since estimates were recorded. */
  estimate?: { usd?: number };
}

/** The parts of a result record's data that monitoring reads. */
export interface ResultData {
  status?: string;
  /** The cost an agent reported with its result. */
  cost?: { usd?: number };
  /** The actual cost (`ActualData`), when known. */
  actual?: { usd?: number };
  output?: unknown;
}
