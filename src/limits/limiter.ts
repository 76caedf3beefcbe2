import type { Reason } from '../decision/decision.js';
import type { Context, Stage } from '../pipeline/context.js';

/** A hold on a limit taken by `run()`: settled with the actual cost, or released. */
export interface Reservation {
  settle(actual: { usd?: number }): Promise<void>;
  release(): Promise<void>;
}

/**
 * A rate, budget, step or loop limit. `peek` answers for `check()` without consuming anything;
 * `acquire` consumes atomically for `run()`.
 */
export interface Limiter {
  readonly name: string;
  peek(ctx: Context): Reason | undefined | Promise<Reason | undefined>;
  acquire(ctx: Context): Promise<{ denied: Reason } | { reservation: Reservation }>;
}

/**
 * Stage 6. In `check()` it peeks at every limiter; `run()` acquires them after the decision (see
 * the Warden class) so a denied or asked action consumes nothing. No limiter registered: passes.
 */
export function limitsStage(limiters: readonly Limiter[]): Stage {
  return {
    name: 'limits',
    run: function limits(ctx) {
      if (limiters.length === 0) return undefined;
      return (async () => {
        for (const limiter of limiters) {
          const reason = await limiter.peek(ctx);
          if (reason) return reason;
        }
        return undefined;
      })();
    },
  };
}
