import type { Action } from '../contract/action.js';
import { maxRisk, type Risk } from '../contract/risk.js';
import type { Stage } from '../policy/context.js';

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
      const apply = (guard: string, findings: GuardFinding[]) => {
        for (const f of findings) {
          if (f.effect === 'deny')
            return { code: f.code, stage: 'guards' as const, guard, message: f.message };
          ctx.risk = maxRisk(ctx.risk, f.risk);
          ctx.reasons.push({ code: f.code, stage: 'guards', guard, message: f.message });
        }
        return undefined;
      };
      return (async () => {
        for (const guard of list) {
          const denied = apply(guard.name, await guard.inspect(ctx.action, ctx.facts));
          if (denied) return denied;
        }
        return undefined;
      })();
    },
  };
}
