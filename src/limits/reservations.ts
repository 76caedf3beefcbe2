import type { Action } from '../contract/action.js';
import type { Reason } from '../contract/decision.js';
import type { Context, Stage } from '../policy/context.js';
import { unavailableReason } from './limit-reasons.js';
import { type Limiter, type LimitPlan, NOTHING_HELD, type Reservation } from './limiter.js';

/**
 * Takes a hold on every limiter, in order, for an action about to run. The first refusal, or a
 * limiter that fails (fail closed), releases the holds already taken and denies. When every
 * limiter can plan its take and they share a backend that takes several at once (Redis), all of
 * them go in one atomic call: one round trip, and a refusal takes nothing anywhere.
 *
 * Synchronous when no limiter counts the action (the emergency limit of an agent that is not
 * tightened, the usual case): `acquire` would hold nothing, and a promise and a turn of the
 * microtask queue on every decision would buy nothing.
 */
export function acquireAll(
  limiters: readonly Limiter[],
  ctx: Context,
  held: Reservation[],
  onCrash: (stage: Stage, error: unknown) => void,
): Reason | undefined | Promise<Reason | undefined> {
  if (limiters.every((l) => countsNot(l, ctx))) return undefined;
  return acquireCounted(limiters, ctx, held, onCrash);
}

/** Whether `limiter` says it does not count the action; one that fails to say is acquired (and fails there, closed). */
function countsNot(limiter: Limiter, ctx: Context): boolean {
  try {
    return limiter.counts?.(ctx) === false;
  } catch {
    return false;
  }
}

async function acquireCounted(
  limiters: readonly Limiter[],
  ctx: Context,
  held: Reservation[],
  onCrash: (stage: Stage, error: unknown) => void,
): Promise<Reason | undefined> {
  // One limiter takes its own in one call already: planning would only add work.
  if (limiters.length > 1 && limiters.every((l) => l.plan !== undefined)) {
    let planned: Reason | LimitPlan[] | Promise<Reason | LimitPlan[]>;
    try {
      planned = planAll(limiters, ctx);
      if (planned instanceof Promise) planned = await planned;
    } catch (error) {
      return crashed(limiters[0] as Limiter, error, onCrash);
    }
    if (!Array.isArray(planned)) return planned;
    const backend = planned[0]?.backend;
    if (!backend) return undefined; // no limit counts this action
    if (backend.takeAll && planned.every((p) => p.backend === backend)) {
      let taken: Awaited<ReturnType<NonNullable<typeof backend.takeAll>>>;
      try {
        taken = await backend.takeAll(planned.map((p) => p.op));
      } catch (error) {
        return unavailableReason(backend, limiters[0]?.name ?? 'limits', error);
      }
      const answers = planned.map((p, i) => p.finish(taken[i] as (typeof taken)[number]));
      // INVARIANT: a refusal took nothing (TAKE is all or none), so there is nothing to give back.
      for (const answer of answers) if ('denied' in answer) return answer.denied;
      for (const answer of answers)
        if ('reservation' in answer && answer.reservation !== NOTHING_HELD) held.push(answer.reservation);
      return undefined;
    }
  }
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
      return crashed(limiter, error, onCrash);
    }
  }
  return undefined;
}

/**
 * Every limiter's plan, in order; the first refusal found while planning (an unpriced model)
 * instead. Synchronous while every plan is (rate, loop and steps limits): each `await` here
 * would cost the hot path an event-loop turn.
 */
function planAll(
  limiters: readonly Limiter[],
  ctx: Context,
  from = 0,
  plans: LimitPlan[] = [],
): Reason | LimitPlan[] | Promise<Reason | LimitPlan[]> {
  for (let i = from; i < limiters.length; i++) {
    const plan = (limiters[i] as Limiter).plan?.(ctx);
    if (plan instanceof Promise)
      return plan.then((p) =>
        p !== undefined && 'denied' in p
          ? p.denied
          : planAll(limiters, ctx, i + 1, p ? [...plans, p] : plans),
      );
    if (plan === undefined) continue;
    if ('denied' in plan) return plan.denied;
    plans.push(plan);
  }
  return plans;
}

function crashed(limiter: Limiter, error: unknown, onCrash: (stage: Stage, error: unknown) => void): Reason {
  onCrash({ name: 'limits', run: () => undefined }, error);
  return {
    code: 'internal.stage-error',
    stage: 'limits',
    message: `limit \`${limiter.name}\` failed (${String(error)}); denied because Warden fails closed`,
  };
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
  // Rate slots (settled already) are most holds: no array is built when nothing needs settling.
  if (held.every((r) => r.settled)) return;
  await Promise.allSettled(
    held.filter((r) => !r.settled).map((r) => r.settle(output === undefined ? {} : { output })),
  );
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
