import type { Action } from '../contract/action.js';
import type { Reason } from '../contract/decision.js';
import type { Context, Stage } from '../policy/context.js';
import { type Limiter, NOTHING_HELD, type Reservation } from './limiter.js';

/**
 * Takes a hold on every limiter, in order, for an action about to run. The first refusal, or a
 * limiter that fails (fail closed), releases the holds already taken and denies.
 */
export async function acquireAll(
  limiters: readonly Limiter[],
  ctx: Context,
  held: Reservation[],
  onCrash: (stage: Stage, error: unknown) => void,
): Promise<Reason | undefined> {
  for (const limiter of limiters) {
    try {
      const got = await limiter.acquire(ctx);
      if ('denied' in got) {
        await releaseAll(held);
        return got.denied;
      }
      if (got.reservation !== NOTHING_HELD) held.push(got.reservation);
    } catch (error) {
      await releaseAll(held);
      onCrash({ name: 'limits', run: () => undefined }, error);
      return {
        code: 'internal.stage-error',
        stage: 'limits',
        message: `limit \`${limiter.name}\` failed (${String(error)}); denied because Warden fails closed`,
      };
    }
  }
  return undefined;
}

/** Gives back every hold: the action did not run, or (`ran`) it ran and failed. */
export async function releaseAll(held: Reservation[], options: { ran?: boolean } = {}): Promise<void> {
  await Promise.allSettled(held.map((r) => r.release(options)));
  held.length = 0;
}

/**
 * Settles every hold after `run()` executed the action: with the provider's usage found in
 * `output` when a limiter can read it, else with what was held. The action's own `cost.usd` is
 * an estimate made before the call, already part of the hold, so it is not passed as an actual.
 */
export async function settleAll(held: Reservation[], _action: Action, output?: unknown): Promise<void> {
  await Promise.allSettled(held.map((r) => r.settle(output === undefined ? {} : { output })));
}

/** After `run()` executed: a completed action settles its holds, a failed one releases them as run. */
export async function finishAll(
  held: Reservation[],
  action: Action,
  execution: { status: string; output?: unknown },
): Promise<void> {
  if (held.length === 0) return;
  await (execution.status === 'completed'
    ? settleAll(held, action, execution.output)
    : releaseAll(held, { ran: true }));
}
