import type { Action } from '../contract/action.js';
import type { Reason } from '../contract/decision.js';
import type { Context } from '../policy/context.js';
import { holdName, type LimitsBackend, type RateResult, type RateSpec } from './backend.js';
import { limitReason, unavailableReason, waitWords } from './limit-reasons.js';
import { type Limiter, type LimitPlan, type LimitUsage, NOTHING_HELD, type Reservation } from './limiter.js';
import { type ActionMatcher, displayKey, parseKey } from './subject.js';
import type { CounterWindow, Tightening } from './tightening.js';

export type { CounterWindow } from './tightening.js';

/** A rate limit, a step limit or a loop detector: all count actions in windows. */
export interface CounterRule {
  name: string;
  kind: 'rate' | 'steps' | 'loop';
  /** `limits.rate`, `limits.steps`, `limits.loop`. */
  code: string;
  unit: 'calls' | 'steps';
  /** `agent`, `agent+user`, …: shown in denials and usage. */
  scope: string;
  applies: ActionMatcher;
  windows: CounterWindow[];
  /** The scope part of the state key, or undefined when the rule does not count this action. */
  scopeOf(action: Action): string | undefined;
  /** The denial's message. */
  explain(action: Action, window: CounterWindow, retryAfterMs: number): string;
  /** Agents to list with zero usage before they have any state (agent-scoped rules). */
  agents: readonly string[];
  /** Rate rules: divide the windows for agents under a `tighten` override (`limits.tighten`). */
  tightening?: Tightening;
}

const SPECS_PER_RULE = 10_000;

/** A rate slot an action took: a call that was made keeps it; one that never ran gives it back. */
class RateSlot implements Reservation {
  readonly settled = true;

  constructor(
    private readonly backend: LimitsBackend,
    private readonly specs: readonly RateSpec[],
    private readonly member: string,
  ) {}

  async settle(): Promise<void> {}

  async release(options?: { ran?: boolean }): Promise<void> {
    if (!options?.ran) await this.backend.unrate(this.specs, this.member);
  }
}

/**
 * Counts actions per key in one or more windows, atomically on the backend: an action is
 * admitted only when every window has room, and then takes a slot in each.
 */
export class CounterLimiter implements Limiter {
  readonly name: string;
  /** The windows for a tightened agent: same labels and order, so the same counters. */
  private readonly tight: readonly CounterWindow[] | undefined;

  constructor(
    private readonly rule: CounterRule,
    private readonly backend: LimitsBackend,
  ) {
    this.name = `${rule.kind}:${rule.name}`;
    this.tight = rule.tightening?.windows(rule.windows);
    this.specsByScope = new Map([
      [rule.windows, new Map()],
      ...(this.tight ? [[this.tight, new Map()] as const] : []),
    ]);
    // Only a backend that takes several limits in one call gains from planning first.
    if (backend.takeAll) this.plan = (ctx) => this.planTake(ctx);
  }

  readonly plan?: (ctx: Context) => LimitPlan | undefined;

  /** The windows that admit `agent`'s actions now: the policy's, or tightened ones. */
  private windowsOf(agent: string): readonly CounterWindow[] {
    return this.tight && this.rule.tightening?.of(agent) ? this.tight : this.rule.windows;
  }

  /**
   * Per window set (the policy's, the tightened one), the specs of each scope seen: an action's
   * keys are built once per scope, not on every action. Cleared when it grows past
   * SPECS_PER_RULE scopes, so a rule scoped per user keeps its memory bounded.
   */
  private readonly specsByScope: Map<readonly CounterWindow[], Map<string, readonly RateSpec[]>>;

  private specs(action: Action, windows: readonly CounterWindow[]): readonly RateSpec[] | undefined {
    if (!this.rule.applies(action)) return undefined;
    const scope = this.rule.scopeOf(action);
    if (scope === undefined) return undefined;
    const known = this.specsByScope.get(windows) as Map<string, readonly RateSpec[]>;
    let specs = known.get(scope);
    if (!specs) {
      if (known.size >= SPECS_PER_RULE) known.clear();
      specs = windows.map((w) => this.spec(scope, w));
      known.set(scope, specs);
    }
    return specs;
  }

  private spec(scope: string, w: CounterWindow): RateSpec {
    return {
      key: `${this.rule.kind}:${this.rule.name}:${scope}:${w.label}`,
      windowMs: w.ms,
      limit: w.limit,
      ...(w.bucket ? { bucket: w.bucket } : {}),
    };
  }

  /** Synchronous when the limit does not count the action: `check()` then stays synchronous. */
  peek(ctx: Context): Promise<Reason | undefined> | undefined {
    const windows = this.windowsOf(ctx.action.agent);
    const specs = this.specs(ctx.action, windows);
    if (!specs) return undefined;
    return this.peekAt(ctx.action, windows, specs);
  }

  private async peekAt(
    action: Action,
    windows: readonly CounterWindow[],
    specs: readonly RateSpec[],
  ): Promise<Reason | undefined> {
    try {
      const result = await this.backend.rate(specs, action.id, false);
      return result.ok ? undefined : this.denial(action, windows, specs, result);
    } catch (error) {
      return unavailableReason(this.backend, this.name, error);
    }
  }

  counts(ctx: Context): boolean {
    return this.specs(ctx.action, this.windowsOf(ctx.action.agent)) !== undefined;
  }

  async acquire(ctx: Context): Promise<{ denied: Reason } | { reservation: Reservation }> {
    const windows = this.windowsOf(ctx.action.agent);
    const specs = this.specs(ctx.action, windows);
    if (!specs) return { reservation: NOTHING_HELD };
    // The slot is the agent's action: two agents' actions that share a client-chosen id take two
    // slots (Redis keeps one entry per member), and giving one back leaves the other's.
    const member = holdName(ctx.action);
    let result: RateResult;
    try {
      result = await this.backend.rate(specs, member, true);
    } catch (error) {
      return { denied: unavailableReason(this.backend, this.name, error) };
    }
    if (!result.ok) return { denied: this.denial(ctx.action, windows, specs, result) };
    return { reservation: this.slot(specs, member) };
  }

  private planTake(ctx: Context): LimitPlan | undefined {
    const windows = this.windowsOf(ctx.action.agent);
    const specs = this.specs(ctx.action, windows);
    if (!specs) return undefined;
    const member = holdName(ctx.action);
    return {
      backend: this.backend,
      op: { kind: 'rate', specs, member },
      finish: (taken) =>
        taken.kind === 'rate' && !taken.rate.ok
          ? { denied: this.denial(ctx.action, windows, specs, taken.rate) }
          : { reservation: this.slot(specs, member) },
    };
  }

  private slot(specs: readonly RateSpec[], member: string): Reservation {
    return new RateSlot(this.backend, specs, member);
  }

  /** `rate:agent:1m` for rate rules; `steps:session` and `loop:10m` for the single step and loop limits. */
  private entryName(w: CounterWindow): string {
    return this.rule.kind === 'rate'
      ? `${this.rule.kind}:${this.rule.name}:${w.label}`
      : `${this.rule.kind}:${w.label}`;
  }

  private denial(
    action: Action,
    windows: readonly CounterWindow[],
    specs: readonly RateSpec[],
    result: RateResult,
  ): Reason {
    const w = windows[result.hit] as CounterWindow;
    const spec = specs[result.hit] as RateSpec;
    const key = parseKey(spec.key);
    const tightened = windows === this.tight ? this.rule.tightening?.of(action.agent) : undefined;
    const why =
      tightened && this.rule.tightening
        ? ` (tightened from ${(this.rule.windows[result.hit] as CounterWindow).limit}, ÷${this.rule.tightening.factor}): ${this.rule.tightening.note(action.agent, tightened)}`
        : '';
    return limitReason(
      this.rule.code,
      `${this.rule.explain(action, w, result.retryAfterMs)}${why}; retry in ${waitWords(result.retryAfterMs)}`,
      {
        name: this.entryName(w),
        kind: this.rule.kind,
        scope: this.rule.scope,
        key: displayKey(key.scope),
        used: result.used[result.hit] ?? w.limit,
        reserved: 0,
        limit: w.limit,
        unit: this.rule.unit,
        window: w.label,
        resetsAt: new Date(result.now + result.retryAfterMs).toISOString(),
      },
      result.retryAfterMs,
    );
  }

  async usage(agent?: string): Promise<LimitUsage[]> {
    const prefix = `${this.rule.kind}:${this.rule.name}:`;
    const keys = new Set(await this.backend.keys(prefix));
    for (const a of this.rule.agents) {
      if (agent !== undefined && a !== agent) continue;
      for (const w of this.rule.windows) keys.add(`${prefix}agent=${encodeURIComponent(a)}:${w.label}`);
    }
    const out: LimitUsage[] = [];
    // By key, then by window, shortest first (as in the policy).
    const order = (k: string) => this.rule.windows.findIndex((x) => x.label === parseKey(k).extra);
    const sorted = [...keys].sort((a, b) => {
      const [ka, kb] = [a.slice(0, a.lastIndexOf(':')), b.slice(0, b.lastIndexOf(':'))];
      return ka < kb ? -1 : ka > kb ? 1 : order(a) - order(b);
    });
    for (const key of sorted) {
      const parsed = parseKey(key);
      const owner = parsed.scope.get('agent') ?? '*';
      if (agent !== undefined && owner !== agent) continue;
      // A tightened agent's own counters show the limit it is held to now.
      const windows = owner === '*' ? this.rule.windows : this.windowsOf(owner);
      const w = windows.find((x) => x.label === parsed.extra);
      if (!w) continue;
      const spec = { key, windowMs: w.ms, limit: w.limit, ...(w.bucket ? { bucket: w.bucket } : {}) };
      const result = await this.backend.rate([spec], '', false);
      out.push({
        agent: owner,
        name: this.entryName(w),
        kind: this.rule.kind,
        scope: this.rule.scope,
        key: displayKey(parsed.scope),
        used: result.used[0] ?? 0,
        reserved: 0,
        limit: w.limit,
        unit: this.rule.unit,
        window: w.label,
        ...(result.ok ? {} : { resetsAt: new Date(result.now + result.retryAfterMs).toISOString() }),
      });
    }
    return out;
  }
}
