import type { StageContext, StageOf, StageOutcome } from '../contract/context.js';
import type { Reason } from '../contract/decision.js';

/**
 * Runs the stages in order; the first Reason returned denies. Synchronous stages stay synchronous
 * (the allow path allocates no promise until a stage returns one).
 *
 * INVARIANT: a stage that throws or rejects denies the action (fail closed) with the stage named,
 * and the error is reported through `onCrash`. A crash is never mistaken for a decision.
 */
export function runStages<C extends StageContext>(
  stages: readonly StageOf<C>[],
  ctx: C,
  onCrash: (stage: StageOf<C>, error: unknown) => void,
  from = 0,
): StageOutcome | Promise<StageOutcome> {
  const timings = ctx.timings;
  for (let i = from; i < stages.length; i++) {
    const stage = stages[i] as StageOf<C>;
    let outcome: StageOutcome | Promise<StageOutcome>;
    // Timed only when an observer asked for it (ctx.timings set): the unobserved path is unchanged.
    const start = timings ? performance.now() : 0;
    try {
      outcome = stage.run(ctx);
    } catch (error) {
      if (timings) timings.push({ stage: stage.name, start, end: performance.now() });
      return crashed(stage, error, onCrash);
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (result) => {
          if (timings) timings.push({ stage: stage.name, start, end: performance.now() });
          return result ?? runStages(stages, ctx, onCrash, i + 1);
        },
        (error: unknown) => {
          if (timings) timings.push({ stage: stage.name, start, end: performance.now() });
          return crashed(stage, error, onCrash);
        },
      );
    }
    if (timings) timings.push({ stage: stage.name, start, end: performance.now() });
    if (outcome) return outcome;
  }
  return undefined;
}

function crashed<C extends StageContext>(
  stage: StageOf<C>,
  error: unknown,
  onCrash: (stage: StageOf<C>, error: unknown) => void,
): Reason {
  onCrash(stage, error);
  const detail = error instanceof Error ? error.message : String(error);
  return {
    code: 'internal.stage-error',
    stage: stage.name,
    message: `the ${stage.name} stage failed (${detail}); denied because Warden fails closed`,
  };
}
