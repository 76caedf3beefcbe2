import { type AuditRecord, type AuditStore, splitRecord } from '../contract/records.js';

/**
 * What the dashboard reads from the audit log, answered by the store (SQL over the audit where
 * the backend has SQL) so that a day of records stays quick: per-minute aggregates and sessions.
 * A store may leave it out; {@link insightsOf} then answers by scanning `audit.query` pages.
 *
 * Time is read at minute resolution from each record's `ts` (its first 16 characters, ISO
 * `YYYY-MM-DDTHH:MM`): a record counts in a window when its minute is in `[since, until)`.
 */
export interface AuditInsights {
  /** Decisions per bucket by effect, spend per bucket by agent, and the top deny and ask reasons. */
  aggregates(window: InsightsWindow): Promise<AuditAggregates>;
  /** The sessions of `agent` (from its decisions' `action.session` and its observations), last active first. */
  sessions(agent: string, limit?: number): Promise<SessionSummary[]>;
  /**
   * One session in seq order: the agent's decisions in it, every record of the same agent whose
   * `actionId` is one of theirs (results, approvals, anomalies), and observations told for it
   * (`type: 'observation'`, `data.session`). The first `limit` (default 1,000, at most 10,000).
   */
  sessionRecords(agent: string, session: string, limit?: number): Promise<AuditRecord[]>;
  /** A backend that precomputes (SQLite rolls up) brings itself up to date now, e.g. when a server starts. */
  catchUp?(): Promise<void>;
}

export interface InsightsWindow {
  /** ISO time; floored to its minute. */
  since: string;
  /** ISO time; floored to its minute, exclusive. */
  until: string;
  /** Bucket width: a whole number of minutes, in seconds (60, 600, …). Buckets start at multiples of it since the epoch. */
  bucketSeconds: number;
  /** How many reasons per effect; default 10. */
  reasons?: number;
}

export interface AuditAggregates {
  /** Non-empty buckets only, oldest first; `t` is the bucket's start (ISO). */
  decisions: { t: string; allow: number; ask: number; deny: number }[];
  /**
   * What executed actions cost, by the result's minute: the result's `actual.usd`, else its
   * `cost.usd`, else (unless denied) the decision's `estimate.usd` or `action.cost.usd`, the reading
   * of `recordedCostUsd` in src/record. Buckets with no spend are left out; oldest first.
   */
  spend: { t: string; agent: string; usd: number }[];
  /** The first reason of denied and asked decisions, most frequent first (then by code); `message` is the latest one's. */
  reasons: { effect: 'deny' | 'ask'; code: string; count: number; message: string }[];
}

export interface SessionSummary {
  session: string;
  records: number;
  firstTs: string;
  lastTs: string;
}

export const SESSION_RECORDS_DEFAULT = 1000;
const PAGE = 10_000;

/** The store's insights, or a scan over its audit log when it has none. */
export function insightsOf(store: { audit: AuditStore; insights?: AuditInsights }): AuditInsights {
  return store.insights ?? scannedInsights(store.audit);
}

/** Insights that read the whole log through `audit.query` on each call (the memory store's). */
export function scannedInsights(audit: AuditStore): AuditInsights {
  return new ScannedInsights(audit);
}

/** The minute of an ISO time, `YYYY-MM-DDTHH:MM`. */
export const minuteOf = (ts: string): string => ts.slice(0, 16);

/** The start (ISO) of the bucket holding `minute`. */
export function bucketOf(minute: string, bucketSeconds: number): string {
  const ms = Date.parse(`${minute}:00.000Z`);
  const width = bucketSeconds * 1000;
  return Number.isNaN(ms) ? minute : new Date(Math.floor(ms / width) * width).toISOString();
}

/** `bucketSeconds` checked: a whole number of minutes from 1 minute to 1 day. */
export function checkWindow(window: InsightsWindow): void {
  const s = window.bucketSeconds;
  if (!Number.isInteger(s) || s < 60 || s > 86_400 || s % 60 !== 0) {
    throw new RangeError(
      `insights \`bucketSeconds\` must be a whole number of minutes (60 to 86400), got \`${s}\``,
    );
  }
}

const usd = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;

/** A decision record's estimate: `estimate.usd`, else `action.cost.usd` (as `recordedEstimateUsd`). */
export function estimateOf(data: Record<string, unknown>): number | undefined {
  const d = data as { estimate?: { usd?: unknown }; action?: { cost?: { usd?: unknown } } };
  return usd(d.estimate?.usd) ?? usd(d.action?.cost?.usd);
}

/** A result's cost given its decision's estimate (undefined when denied), as `recordedCostUsd`. */
export function resultCostOf(
  data: Record<string, unknown>,
  estimate: number | undefined,
): number | undefined {
  const d = data as { actual?: { usd?: unknown }; cost?: { usd?: unknown } };
  return usd(d.actual?.usd) ?? usd(d.cost?.usd) ?? estimate;
}

/** Sums by key, then sorts: shared by the scan and by backends that aggregate in memory. */
export class AggregateBuilder {
  readonly #decisions = new Map<string, { t: string; allow: number; ask: number; deny: number }>();
  readonly #spend = new Map<string, { t: string; agent: string; usd: number }>();
  readonly #reasons = new Map<
    string,
    { effect: 'deny' | 'ask'; code: string; count: number; message: string; seq: number }
  >();
  readonly #buckets = new Map<string, string>();
  constructor(readonly window: InsightsWindow) {}

  #bucket(minute: string): string {
    let t = this.#buckets.get(minute);
    if (t === undefined) {
      t = bucketOf(minute, this.window.bucketSeconds);
      this.#buckets.set(minute, t);
    }
    return t;
  }

  decisions(minute: string, effect: string, n: number): void {
    if (effect !== 'allow' && effect !== 'ask' && effect !== 'deny') return;
    const t = this.#bucket(minute);
    const b = this.#decisions.get(t) ?? { t, allow: 0, ask: 0, deny: 0 };
    this.#decisions.set(t, b);
    b[effect] += n;
  }

  spend(minute: string, agent: string, amount: number): void {
    if (!(amount > 0)) return;
    const t = this.#bucket(minute);
    const key = `${t}\u0000${agent}`;
    const b = this.#spend.get(key) ?? { t, agent, usd: 0 };
    this.#spend.set(key, b);
    b.usd += amount;
  }

  reason(effect: string, code: string, n: number, message: string, seq: number): void {
    if (effect !== 'deny' && effect !== 'ask') return;
    const key = `${effect}\u0000${code}`;
    const r = this.#reasons.get(key) ?? { effect, code, count: 0, message, seq };
    this.#reasons.set(key, r);
    r.count += n;
    if (seq >= r.seq) Object.assign(r, { message, seq });
  }

  build(): AuditAggregates {
    const top = this.window.reasons ?? 10;
    const reasons = [...this.#reasons.values()]
      .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code))
      .map(({ seq: _, ...r }) => r);
    return {
      decisions: [...this.#decisions.values()].sort((a, b) => a.t.localeCompare(b.t)),
      spend: [...this.#spend.values()]
        .map((s) => ({ ...s, usd: Math.round(s.usd * 1e6) / 1e6 }))
        .sort((a, b) => a.t.localeCompare(b.t) || a.agent.localeCompare(b.agent)),
      reasons: [
        ...reasons.filter((r) => r.effect === 'deny').slice(0, top),
        ...reasons.filter((r) => r.effect === 'ask').slice(0, top),
      ],
    };
  }
}

/** The first reason of a decision record: effect, code and message. */
export function firstReasonOf(data: Record<string, unknown>): {
  effect: string;
  code?: string;
  message?: string;
} {
  const d = data as { decision?: { effect?: unknown; reasons?: { code?: unknown; message?: unknown }[] } };
  const r = Array.isArray(d.decision?.reasons) ? d.decision.reasons[0] : undefined;
  return {
    effect: typeof d.decision?.effect === 'string' ? d.decision.effect : '',
    ...(typeof r?.code === 'string' ? { code: r.code } : {}),
    ...(typeof r?.message === 'string' ? { message: r.message } : {}),
  };
}

/** The session a decision or observation record names, if any. */
export function sessionOf(record: AuditRecord): string | undefined {
  const d = record.data as { action?: { session?: unknown }; session?: unknown };
  const s =
    record.type === 'decision' ? d.action?.session : record.type === 'observation' ? d.session : undefined;
  return typeof s === 'string' && s !== '' ? s : undefined;
}

/**
 * Insights computed by reading the audit log through `query` (the memory store's, and the
 * fallback for a backend without its own): correct, but it reads the whole log on every call.
 */
class ScannedInsights implements AuditInsights {
  constructor(readonly audit: AuditStore) {}

  async *#all(filter: { agent?: string } = {}): AsyncGenerator<AuditRecord> {
    let after = 0;
    for (;;) {
      const page = await this.audit.query({ ...filter, afterSeq: after, limit: PAGE });
      yield* page;
      const last = page.at(-1);
      if (!last || page.length < PAGE) return;
      after = last.seq;
    }
  }

  async aggregates(window: InsightsWindow): Promise<AuditAggregates> {
    checkWindow(window);
    const from = minuteOf(window.since);
    const to = minuteOf(window.until);
    const out = new AggregateBuilder(window);
    const estimates = new Map<string, number | undefined>();
    for await (const stored of this.#all())
      for (const r of splitRecord(stored)) {
        const minute = minuteOf(r.ts);
        const inside = minute >= from && minute < to;
        if (r.type === 'decision') {
          const { effect, code, message } = firstReasonOf(r.data);
          if (r.agent !== undefined && r.actionId !== undefined)
            estimates.set(
              `${r.agent}\u0000${r.actionId}`,
              effect === 'deny' ? undefined : estimateOf(r.data),
            );
          if (!inside) continue;
          out.decisions(minute, effect, 1);
          if (code !== undefined) out.reason(effect, code, 1, message ?? '', r.seq);
        } else if (r.type === 'result' && inside && r.agent !== undefined) {
          const estimate =
            r.actionId === undefined ? undefined : estimates.get(`${r.agent}\u0000${r.actionId}`);
          out.spend(minute, r.agent, resultCostOf(r.data, estimate) ?? 0);
        }
      }
    return out.build();
  }

  async sessions(agent: string, limit = 100): Promise<SessionSummary[]> {
    const found = new Map<string, SessionSummary & { last: number }>();
    const actions = new Map<string, string>();
    for await (const r of this.#all({ agent })) {
      const session = sessionOf(r) ?? (r.actionId === undefined ? undefined : actions.get(r.actionId));
      if (session === undefined) continue;
      if (r.type === 'decision' && r.actionId !== undefined) actions.set(r.actionId, session);
      const s = found.get(session) ?? { session, records: 0, firstTs: r.ts, lastTs: r.ts, last: 0 };
      found.set(session, s);
      s.records++;
      s.lastTs = r.ts;
      s.last = r.seq;
    }
    return [...found.values()]
      .sort((a, b) => b.last - a.last)
      .slice(0, limit)
      .map(({ last: _, ...s }) => s);
  }

  async sessionRecords(
    agent: string,
    session: string,
    limit = SESSION_RECORDS_DEFAULT,
  ): Promise<AuditRecord[]> {
    const max = Math.min(limit, 10_000);
    const actions = new Set<string>();
    const out: AuditRecord[] = [];
    for await (const r of this.#all({ agent })) {
      const named = sessionOf(r);
      const mine =
        named === session || (named === undefined && r.actionId !== undefined && actions.has(r.actionId));
      if (!mine) continue;
      if (r.type === 'decision' && r.actionId !== undefined) actions.add(r.actionId);
      out.push(r);
      if (out.length >= max) break;
    }
    return out;
  }
}
