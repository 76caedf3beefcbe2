import type { LimitFigures, Reason } from '../contract/decision.js';
import type { Context, Stage } from '../policy/context.js';
import type { LimitsBackend, TakeOp, TakeResult } from './backend.js';
import { type CostModel, estimateFor } from './cost.js';

/** A hold on a limit taken by `run()`: settled with the actual cost, or released. */
export interface Reservation {
  /**
   * The action completed. `usd` is the cost the caller reported; `output` is the executor's
   * result, where a limiter may find the provider's token usage.
   */
  settle(actual: { usd?: number; output?: unknown }): Promise<void>;
  /**
   * The action did not complete. `ran` is true when it was executed and failed (a rate slot
   * stays taken: the call was made), false or absent when it never ran (the slot is given back).
   */
  release(options?: { ran?: boolean }): Promise<void>;
  /** True when settling changes nothing (a rate slot stays taken once the call is made): `settleAll` skips it. */
  readonly settled?: boolean;
}

/**
 * The reservation of a limiter that does not count the action. `acquireAll` does not keep it, so
 * an action no limit counts leaves nothing held (nothing for `decide()` to remember until its result).
 */
export const NOTHING_HELD: Reservation = Object.freeze({
  settle: async () => undefined,
  release: async () => undefined,
});

/** One limit's state for one key, as `warden limits` and `GET /v1/limits` show it. */
export interface LimitUsage extends LimitFigures {
  /** The agent it counts for; `*` when the limit is shared across agents (per user, per type). */
  agent: string;
}

/**
 * A rate, budget, step or loop limit. `peek` answers for `check()` without consuming anything;
 * `acquire` consumes atomically for `run()`.
 */
export interface Limiter {
  readonly name: string;
  peek(ctx: Context): Reason | undefined | Promise<Reason | undefined>;
  acquire(ctx: Context): Promise<{ denied: Reason } | { reservation: Reservation }>;
  /**
   * Optional: false when this limit does not count the action, so that `acquire` would ask no
   * backend and hold nothing (`NOTHING_HELD`). Lets `acquireAll` answer an action no limit
   * counts without a promise. Absent, or true: `acquire` is called.
   */
  counts?(ctx: Context): boolean;
  /**
   * The hold this limiter took for `agent`'s action `actionId` in another process, or before a
   * restart (durable backends keep holds with an expiry): lets `Warden.settle` settle it anyway.
   * A hold is the agent's and the id's: another agent's action of the same id is not resumed.
   */
  resume?(actionId: string, agent: string): Promise<Reservation | undefined>;
  /** Current usage, for `warden limits` and `GET /v1/limits`; only `agent`'s when given. */
  usage?(agent?: string): Promise<LimitUsage[]>;
  /**
   * Optional: what `acquire` would ask its backend, without asking, so that `acquireAll` can take
   * all of an action's limits in one call (`LimitsBackend.takeAll`). `undefined`: this limit does
   * not count the action.
   */
  plan?(
    ctx: Context,
  ): LimitPlan | { denied: Reason } | undefined | Promise<LimitPlan | { denied: Reason } | undefined>;
}

/** A limiter's part of an action's take: the backend op, and how its result becomes `acquire`'s answer. */
export interface LimitPlan {
  readonly backend: LimitsBackend;
  readonly op: TakeOp;
  finish(result: TakeResult): { denied: Reason } | { reservation: Reservation };
}

/**
 * Stage 6. In `check()` it peeks at every limiter; `run()` and `decide()` acquire them after the
 * stages (see the Warden class) so a denied action consumes nothing. No limiter registered: passes.
 * In `run()` and `decide()` it also prices an action that carries a cost or names a model (with
 * `costs`, the policy's cost model), so its decision record holds the estimate every reader of
 * the audit stream counts when no actual cost comes back; budgets hold the same figure.
 */
export function limitsStage(limiters: readonly Limiter[], costs?: CostModel): Stage {
  return {
    name: 'limits',
    run: function limits(ctx) {
      if (!ctx.dryRun) {
        // run() and decide() acquire every limiter right after the stages (a peek first would only
        // double the round trips to a shared backend); here the action is only priced. An action
        // with no cost and no model stays on the synchronous path.
        if (!costs || (ctx.action.cost === undefined && costs.modelOf(ctx.action) === undefined))
          return undefined;
        return estimateFor(ctx, costs).then(() => undefined);
      }
      if (limiters.length === 0) return undefined;
      return peekFrom(limiters, 0, ctx);
    },
  };
}

/** Peeks in order; stays synchronous while each limiter answers synchronously (it does not count the action). */
function peekFrom(
  limiters: readonly Limiter[],
  from: number,
  ctx: Context,
): Reason | undefined | Promise<Reason | undefined> {
  for (let i = from; i < limiters.length; i++) {
    const answer = (limiters[i] as Limiter).peek(ctx);
    if (answer instanceof Promise) return answer.then((reason) => reason ?? peekFrom(limiters, i + 1, ctx));
    if (answer) return answer;
  }
  return undefined;
}
