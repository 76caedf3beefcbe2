import type { Action } from '../contract/action.js';
import type { Reason } from '../contract/decision.js';
import type { Context } from '../policy/context.js';
import { type BudgetResult, type BudgetSpec, formatUsd, type LimitsBackend, USD } from './backend.js';
import { type CostModel, type Estimate, estimateFor, reportedMicros } from './cost.js';
import { limitReason, unavailableReason, waitWords } from './limit-reasons.js';
import { type Limiter, type LimitPlan, type LimitUsage, NOTHING_HELD, type Reservation } from './limiter.js';
import { type ActionMatcher, displayKey, parseKey } from './subject.js';

export type Period = 'run' | 'hour' | 'day' | 'month' | 'total';

export interface BudgetRule {
  name: string;
  scope: string;
  applies: ActionMatcher;
  scopeOf(action: Action): string;
  limitMicros: number;
  period: Period;
  holdTtlMs: number;
  /** How long a `run` budget is kept after its last reservation. */
  sessionTtlMs: number;
  agents: readonly string[];
}

/**
 * A budget in USD: before an action runs, its estimate is held (atomically: spent + reserved +
 * estimate ≤ limit, or denied); after it, the hold becomes the actual cost and the rest is
 * released. A hold whose result never comes expires after `holdTtl`.
 */
export class BudgetLimiter implements Limiter {
  readonly name: string;

  constructor(
    private readonly rule: BudgetRule,
    private readonly backend: LimitsBackend,
    private readonly cost: CostModel,
  ) {
    this.name = `budget:${rule.name}`;
    // Only a backend that takes several limits in one call gains from planning first.
    if (backend.takeAll) this.plan = (ctx) => this.planTake(ctx);
  }

  readonly plan?: (ctx: Context) => Promise<LimitPlan | { denied: Reason } | undefined>;

  private spec(action: Action, now: number): BudgetSpec {
    const { id, end } = periodOf(this.rule.period, now);
    return {
      key: `budget:${this.rule.name}:${this.rule.scopeOf(action)}:${id}`,
      limitMicros: this.rule.limitMicros,
      expiresAt: this.rule.period === 'run' ? now + this.rule.sessionTtlMs : end,
    };
  }

  async peek(ctx: Context): Promise<Reason | undefined> {
    const got = await this.check(ctx, false);
    return 'denied' in got ? got.denied : undefined;
  }

  counts(ctx: Context): boolean {
    return this.rule.applies(ctx.action);
  }

  async acquire(ctx: Context): Promise<{ denied: Reason } | { reservation: Reservation }> {
    const got = await this.check(ctx, true);
    if ('denied' in got) return got;
    if (!got.spec) return { reservation: NOTHING_HELD };
    return { reservation: this.reservation(got.spec.key, ctx.action) };
  }

  private async planTake(ctx: Context): Promise<LimitPlan | { denied: Reason } | undefined> {
    if (!this.rule.applies(ctx.action)) return undefined;
    const estimate = await estimateFor(ctx, this.cost);
    if ('unpriced' in estimate) return { denied: this.unpriced(estimate.unpriced) };
    const now = Date.now();
    const spec = this.spec(ctx.action, now);
    const { agent, id } = ctx.action;
    return {
      backend: this.backend,
      op: {
        kind: 'reserve',
        budget: spec,
        hold: { agent, id, micros: estimate.micros, ttlMs: this.rule.holdTtlMs },
      },
      finish: (taken) =>
        taken.kind === 'reserve' && !taken.reserve.ok
          ? { denied: this.denial(spec, estimate, taken.reserve, now) }
          : { reservation: this.reservation(spec.key, ctx.action) },
    };
  }

  private unpriced(model: string): Reason {
    return {
      code: 'limits.unpriced',
      stage: 'limits',
      message: `model \`${model}\` has no price, so budget \`${this.rule.name}\` cannot estimate this action: add it to \`limits.prices\` (USD per million input and output tokens), or send \`cost.usd\``,
    };
  }

  private async check(ctx: Context, consume: boolean): Promise<{ denied: Reason } | { spec?: BudgetSpec }> {
    if (!this.rule.applies(ctx.action)) return {};
    const estimate = await estimateFor(ctx, this.cost);
    if ('unpriced' in estimate) return { denied: this.unpriced(estimate.unpriced) };
    const now = Date.now();
    const spec = this.spec(ctx.action, now);
    let result: BudgetResult;
    try {
      result = await this.backend.reserve(
        spec,
        { agent: ctx.action.agent, id: ctx.action.id, micros: estimate.micros, ttlMs: this.rule.holdTtlMs },
        consume,
      );
    } catch (error) {
      return { denied: unavailableReason(this.backend, this.name, error) };
    }
    if (result.ok) return { spec };
    return { denied: this.denial(spec, estimate, result, now) };
  }

  private reservation(key: string, action: Action): Reservation {
    const { backend, cost } = this;
    const hold = { agent: action.agent, id: action.id };
    return {
      // No actual cost known: the hold (the estimate) is what was spent.
      settle: async (reported) => backend.settle(key, hold, cost.actualCost(action, reported)?.micros),
      release: async () => {
        await backend.release(key, hold);
      },
    };
  }

  async resume(actionId: string, agent: string): Promise<Reservation | undefined> {
    const prefix = `budget:${this.rule.name}:`;
    const hold = { agent, id: actionId };
    const keys = (await this.backend.holdKeys(hold)).filter((k) => k.startsWith(prefix));
    const key = keys[0];
    if (key === undefined) return undefined;
    const { backend } = this;
    return {
      // The action is gone with the process that held it: settle with the reported cost, or the hold.
      settle: async ({ usd }) => backend.settle(key, hold, reportedMicros(usd)),
      release: async () => backend.release(key, hold),
    };
  }

  private denial(spec: BudgetSpec, estimate: Estimate, r: BudgetResult, now: number): Reason {
    const key = parseKey(spec.key);
    const who = displayKey(key.scope);
    const resets = this.rule.period === 'run' || this.rule.period === 'total' ? undefined : spec.expiresAt;
    const message =
      `budget \`${this.rule.name}\` (${PERIOD_WORDS[this.rule.period]}) for ${this.rule.scope} \`${who}\` would be exceeded: ` +
      `spent ${formatUsd(r.spent)} + reserved ${formatUsd(r.reserved)} + this action's estimate ${formatUsd(estimate.micros)} > limit ${formatUsd(this.rule.limitMicros)}` +
      (resets === undefined ? '' : `; the budget resets in ${waitWords(resets - now)}`);
    return limitReason(
      'limits.budget',
      message,
      {
        name: `budget:${this.rule.name}:${this.rule.period}`,
        kind: 'budget',
        scope: this.rule.scope,
        key: who,
        used: r.spent / USD,
        reserved: r.reserved / USD,
        limit: this.rule.limitMicros / USD,
        unit: 'usd',
        window: this.rule.period,
        ...(resets === undefined ? {} : { resetsAt: new Date(resets).toISOString() }),
      },
      resets === undefined ? undefined : resets - now,
    );
  }

  async usage(agent?: string): Promise<LimitUsage[]> {
    const now = Date.now();
    const prefix = `budget:${this.rule.name}:`;
    const keys = new Set(await this.backend.keys(prefix));
    if (this.rule.period !== 'run') {
      const { id } = periodOf(this.rule.period, now);
      for (const a of this.rule.agents) {
        if (agent === undefined || a === agent) keys.add(`${prefix}agent=${encodeURIComponent(a)}:${id}`);
      }
    }
    const current = periodOf(this.rule.period, now);
    const out: LimitUsage[] = [];
    for (const key of [...keys].sort()) {
      const parsed = parseKey(key);
      const owner = parsed.scope.get('agent') ?? '*';
      if (agent !== undefined && owner !== agent) continue;
      // Past periods linger until they expire; show the current one only.
      if (this.rule.period !== 'run' && parsed.extra !== current.id) continue;
      const r = await this.backend.reserve(
        { key, limitMicros: this.rule.limitMicros, expiresAt: current.end },
        { agent: '', id: '', micros: 0, ttlMs: 0 },
        false,
      );
      out.push({
        agent: owner,
        name: `budget:${this.rule.name}:${this.rule.period}`,
        kind: 'budget',
        scope: this.rule.scope,
        key: displayKey(parsed.scope),
        used: r.spent / USD,
        reserved: r.reserved / USD,
        limit: this.rule.limitMicros / USD,
        unit: 'usd',
        window: this.rule.period,
        ...(current.end ? { resetsAt: new Date(current.end).toISOString() } : {}),
      });
    }
    return out;
  }
}

const PERIOD_WORDS: Record<Period, string> = {
  run: 'per session',
  hour: 'per hour',
  day: 'per day',
  month: 'per month',
  total: 'in total',
};

/** The UTC calendar period containing `now`: its id (part of the key) and end (0 = never). */
export function periodOf(period: Period, now: number): { id: string; end: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const day = d.getUTCDate();
  const iso = d.toISOString();
  switch (period) {
    case 'hour':
      return { id: iso.slice(0, 13), end: Date.UTC(y, mo, day, d.getUTCHours() + 1) };
    case 'day':
      return { id: iso.slice(0, 10), end: Date.UTC(y, mo, day + 1) };
    case 'month':
      return { id: iso.slice(0, 7), end: Date.UTC(y, mo + 1, 1) };
    default:
      return { id: 'all', end: 0 };
  }
}
