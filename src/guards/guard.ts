import type { Action } from '../contract/action.js';
import type { Reason } from '../contract/decision.js';
import { maxRisk, type Risk } from '../contract/risk.js';
import type { Context, Stage, StageOutcome } from '../policy/context.js';

/** What a guard found. A `deny` ends the pipeline; a `raise` lifts the risk and explains why. */
export type GuardFinding =
  | { effect: 'deny'; code: string; message: string }
  | { effect: 'raise'; risk: Risk; code: string; message: string };

/**
 * Looks inside an action (paths, SQL, URLs, commands, code, payloads, secrets, taint).
 * `inspect` must not change the world: it also runs for `check()`.
 */
export interface Guard {
  readonly name: string;
  /** Whether this guard looks at this type; called once per type and memoised by the caller. */
  appliesTo(type: string): boolean;
  inspect(action: Action, facts: Map<string, unknown>): GuardFinding[] | Promise<GuardFinding[]>;
}

/** Stage 4: runs every guard that applies, in order. No guard registered: passes through. */
export function guardsStage(guards: readonly Guard[]): Stage {
  const memo = new Map<string, readonly Guard[]>();
  const applicable = (type: string) => {
    let list = memo.get(type);
    if (!list) {
      list = guards.filter((g) => g.appliesTo(type));
      if (memo.size > 10_000) memo.clear();
      memo.set(type, list);
    }
    return list;
  };
  return {
    name: 'guards',
    run: function guardsRun(ctx) {
      const list = applicable(ctx.action.type);
      if (list.length === 0) return undefined;
      return inspectFrom(list, 0, ctx);
    },
  };
}

/**
 * Runs `list` from `from` on, in order. Synchronous guards stay synchronous (the fs guard is, on
 * every file action): a promise is made only from the first guard that returns one.
 */
function inspectFrom(
  list: readonly Guard[],
  from: number,
  ctx: Context,
): StageOutcome | Promise<StageOutcome> {
  for (let i = from; i < list.length; i++) {
    const guard = list[i] as Guard;
    const found = guard.inspect(ctx.action, ctx.facts);
    if (found instanceof Promise)
      return found.then((findings) => apply(ctx, guard.name, findings) ?? inspectFrom(list, i + 1, ctx));
    const denied = apply(ctx, guard.name, found);
    if (denied) return denied;
  }
  return undefined;
}

/** Records `guard`'s raises on the context; the reason of its first deny, if any. */
function apply(ctx: Context, guard: string, findings: readonly GuardFinding[]): Reason | undefined {
  for (const f of findings) {
    if (f.effect === 'deny') return { code: f.code, stage: 'guards', guard, message: f.message };
    ctx.risk = maxRisk(ctx.risk, f.risk);
    ctx.reasons.push({ code: f.code, stage: 'guards', guard, message: f.message });
  }
  return undefined;
}
