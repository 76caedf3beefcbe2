import type { Action } from '../action/action.js';
import type { Risk } from '../action/risk.js';
import type { ApprovalRequirement, Reason, StageName } from '../decision/decision.js';
import type { CompiledAgent, CompiledPolicy } from '../policy/compile.js';
import type { StageTiming } from './observer.js';

/**
 * What the stages share while deciding one action. Stages read the action and write their
 * findings here; the composer turns the context into a Decision.
 */
export interface Context {
  readonly input: unknown;
  readonly policy: CompiledPolicy;
  /** Set by `validate`; later stages may rely on it. */
  action: Action;
  agent: CompiledAgent | undefined;
  risk: Risk;
  /** Tentative effect; `rules` sets it, a deny from any stage ends the pipeline. */
  effect: 'allow' | 'ask';
  /** Reasons that explain the outcome: why it was allowed or asked, and what raised the risk. */
  reasons: Reason[];
  rule: string | undefined;
  approvals: ApprovalRequirement | undefined;
  /** Facts computed once and shared (e.g. the SQL analysis used by permissions and risk). */
  facts: Map<string, unknown>;
  /** `check()` sets this; stages must then have no side effects on the world or on state. */
  readonly dryRun: boolean;
  /** Per-stage timings, collected by `runStages` only when a PipelineObserver is attached. */
  timings?: StageTiming[];
}

/** A stage returns nothing to pass the action on, or a Reason to deny it. */
export type StageOutcome = Reason | undefined;

export interface Stage {
  readonly name: StageName;
  run(ctx: Context): StageOutcome | Promise<StageOutcome>;
}

/** A fresh context for one decision. */
export function newContext(input: unknown, policy: CompiledPolicy, dryRun: boolean): Context {
  return {
    input,
    policy,
    action: undefined as unknown as Action,
    agent: undefined,
    risk: 'low',
    effect: 'allow',
    reasons: [],
    rule: undefined,
    approvals: undefined,
    facts: new Map(),
    dryRun,
  };
}
