import type { Action } from './action.js';
import type { Decision, Reason, StageName } from './decision.js';

/** When one stage ran, in `performance.now()` milliseconds. */
export interface StageTiming {
  stage: StageName;
  start: number;
  end: number;
}

/** A decision as the pipeline made it: `check()`, `decide()` or `run()`. */
export interface DecisionEvent {
  mode: 'check' | 'decide' | 'run';
  input: unknown;
  /** Absent when the input was not a valid action. */
  action: Action | undefined;
  decision: Decision;
  /** `performance.now()` when the pipeline started and when the decision was final (recorded, for decide/run). */
  start: number;
  end: number;
  stages: readonly StageTiming[];
}

/** How a `run()` that was not denied at once ended. */
export interface ResultEvent {
  decided: DecisionEvent;
  action: Action;
  /** The final decision (an approved ask is allow, a refused one deny). */
  decision: Decision;
  status: 'completed' | 'failed' | 'denied' | 'timeout' | 'aborted';
  reason?: Reason;
  /** `performance.now()` when approval waiting ended (or started: no approval) and when execution ended. */
  approvalEnd: number;
  end: number;
  /** The executor's own duration, when it ran. */
  executeMs?: number;
}

/**
 * Watches the pipeline for logs, metrics and traces (`src/monitor/`). Called synchronously on the
 * hot path, after the decision is final: implementations must be cheap and must not throw (a throw
 * is caught and reported, never turned into a decision).
 */
export interface PipelineObserver {
  decided(event: DecisionEvent): void;
  /** Once per `run()` whose decision was not an immediate deny. */
  finished(event: ResultEvent): void;
}
