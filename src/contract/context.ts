import type { Action } from './action.js';
import type { ApprovalRequirement, Reason, StageName } from './decision.js';
import type { StageTiming } from './observer.js';
import type { Risk } from './risk.js';

/**
 * What the stages share while deciding one action. Stages read the action and write their
 * findings here; the composer turns the context into a Decision.
 *
 * The contract knows no policy format: `Policy` and `Agent` are the compiled policy and the
 * acting agent's entry (`src/policy/context.ts` fixes them for Warden's own stages).
 */
export interface StageContext<Policy = unknown, Agent = unknown> {
  readonly input: unknown;
  readonly policy: Policy;
  /** Set by `validate`; later stages may rely on it. */
  action: Action;
  agent: Agent | undefined;
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

/** One stage of the pipeline (SPEC §1): `run` decides, the composer orders. */
export interface StageOf<C extends StageContext = StageContext> {
  readonly name: StageName;
  run(ctx: C): StageOutcome | Promise<StageOutcome>;
}

/** A fresh context for one decision. */
export function newStageContext<Policy, Agent>(
  input: unknown,
  policy: Policy,
  dryRun: boolean,
): StageContext<Policy, Agent> {
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
