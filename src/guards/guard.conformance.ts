import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Action } from '../contract/action.js';
import type { Decision, StageName } from '../contract/decision.js';
import { isRisk, RISK_LEVELS, riskRank } from '../contract/risk.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { newContext } from '../policy/context.js';
import { type Guard, type GuardFinding, guardsStage } from './guard.js';

/** Stable, dotted reason codes: `family.what`, lowercase (SPEC §2). */
const CODE = /^[a-z]+(\.[a-z0-9-]+)+$/;

/** Stages that run before the guards: a reason from one of them means the guard never saw the action. */
const BEFORE_GUARDS = new Set<StageName>(['killswitch', 'validate', 'risk', 'permissions']);

/** One guard Warden ships, with inputs to drive it; `guardConformance` runs the shared cases on it. */
export interface GuardSubject {
  /** The family its reason codes belong to: `fs`, `sql`, `http`, `shell`, `sandbox`. */
  readonly family: string;
  /** The policy the guard is built from; the guards stage's contexts are made under it. */
  readonly policy: CompiledPolicy;
  /** A fresh guard, built the way its policy section builds it. */
  guard(): Guard | Promise<Guard>;
  /**
   * Decides each action through a whole pipeline (validate … limits, composed by `runStages`)
   * whose guards stage holds `guards` and nothing else: `[]` is the pipeline without the guard.
   * It sits above the guards layer, so the runner supplies it.
   */
  decide(guards: readonly Guard[], actions: readonly Action[]): Promise<Decision[]>;
  /** Actions the guard denies or raises: each must get a finding. */
  readonly flagged: readonly Action[];
  /** Actions the guard lets through (a raise is fine): none may be denied. Empty for a guard that refuses all it applies to. */
  readonly passed: readonly Action[];
  /**
   * Well-formed actions meant to break the guard (deep nesting, prototype names, …): they pass
   * validation and permissions, so only the guards stage stands between them and an allow.
   */
  readonly hostile: readonly Action[];
  /** Releases what building the subject took (files, connections). */
  close?(): Promise<void>;
}

/**
 * The cases every `Guard` must pass, run on each guard Warden ships (`guard.conformance.test.ts`):
 * a guard that throws fails closed, its reason codes are stable and dotted in its own family, and
 * it never lowers the risk. Each case takes a fresh guard from the subject.
 */
export function guardConformance(name: string, open: () => Promise<GuardSubject>): void {
  describe(`Guard conformance: ${name}`, () => {
    let s: GuardSubject;
    before(async () => {
      s = await open();
      assert.ok(s.flagged.length > 0, `${name}: give at least one action the guard flags`);
    });
    after(() => s?.close?.());
    const label = (a: Action) => `${a.type} ${JSON.stringify(a.params).slice(0, 120)}`;

    test('fails closed: a guard that throws, rejects or cannot say what it applies to denies with internal.stage-error', async () => {
      const action = (s.passed[0] ?? s.flagged[0]) as Action;
      const real = await s.guard();
      assert.ok(real.appliesTo(action.type), `the ${real.name} guard does not apply to ${action.type}`);
      const [baseline] = await s.decide([real], [action]);
      const first = baseline?.reasons[0];
      assert.ok(
        !first || !BEFORE_GUARDS.has(first.stage),
        `never reaches the guard: ${JSON.stringify(first)}`,
      );
      for (const [how, broken] of Object.entries(brokenGuards(await s.guard()))) {
        const [d] = await s.decide([broken], [action]);
        assert.equal(d?.effect, 'deny', `${how}: ${JSON.stringify(d)}`);
        assert.equal(d?.reasons[0]?.code, 'internal.stage-error', how);
        assert.equal(d?.reasons[0]?.stage, 'guards', how);
        assert.match(d?.reasons[0]?.message ?? '', /fails closed/, how);
      }
    });

    test('fails closed: input that breaks the guard is denied by the guards stage, never allowed', async () => {
      const guard = await s.guard();
      const decisions = await s.decide([guard], s.hostile);
      s.hostile.forEach((action, i) => {
        const d = decisions[i];
        const reason = d?.reasons[0];
        assert.equal(d?.effect, 'deny', `${label(action)}: ${JSON.stringify(d)}`);
        assert.equal(
          reason?.stage,
          'guards',
          `${label(action)} must reach the guard: ${JSON.stringify(reason)}`,
        );
        // A guard that throws on it is turned into a crash denial; one that copes names its own reason.
        const threw = throwsOn(guard, action);
        if (threw) assert.equal(reason?.code, 'internal.stage-error', `${label(action)} (it threw ${threw})`);
        else assert.ok(reason?.code.startsWith(`${s.family}.`), `${label(action)}: ${reason?.code}`);
      });
    });

    test(`reason codes are stable and dotted, in the ${name} family`, async () => {
      const guard = await s.guard();
      const codes = async (a: Action) => findingsOf(await guard.inspect(a, new Map()), s.family, label(a));
      for (const a of s.flagged) {
        const found = await codes(a);
        assert.ok(found.length > 0, `${label(a)} should be flagged`);
        assert.deepEqual(await codes(a), found, `${label(a)}: the same action gets the same codes`);
      }
      for (const a of s.passed) {
        const found = await codes(a);
        assert.ok(
          !found.some((f) => f.effect === 'deny'),
          `${label(a)} should pass: ${JSON.stringify(found)}`,
        );
      }
      for (const a of s.hostile) if (!throwsOn(guard, a)) await codes(a);
    });

    test('never lowers risk: whatever the risk before the guards stage, it is no lower after, and each raise takes effect', async () => {
      const guard = await s.guard();
      const stage = guardsStage([await s.guard()]);
      for (const action of [...s.flagged, ...s.passed]) {
        // A deny ends the stage: the raises found before it must have taken effect.
        const findings = await guard.inspect(action, new Map());
        const denyAt = findings.findIndex((f) => f.effect === 'deny');
        const raised = findings.slice(0, denyAt < 0 ? undefined : denyAt).filter((f) => f.effect === 'raise');
        for (const before of RISK_LEVELS) {
          const ctx = newContext(action, s.policy, true);
          ctx.action = action;
          ctx.risk = before;
          await stage.run(ctx);
          const at = `${label(action)} from ${before}`;
          assert.ok(riskRank(ctx.risk) >= riskRank(before), `${at}: lowered to ${ctx.risk}`);
          for (const r of raised)
            assert.ok(riskRank(ctx.risk) >= riskRank(r.risk), `${at}: ${r.code} ignored`);
        }
      }
    });

    test('never lowers risk: a decision with the guard is at least as risky as the same decision without it', async () => {
      const actions = [...s.flagged, ...s.passed];
      const [withGuard, without] = await Promise.all([
        s.decide([await s.guard()], actions),
        s.decide([], actions),
      ]);
      actions.forEach((action, i) => {
        const [w, wo] = [withGuard[i], without[i]];
        assert.ok(w && wo, label(action));
        assert.ok(
          riskRank(w.risk) >= riskRank(wo.risk),
          `${label(action)}: ${w.risk} with the guard, ${wo.risk} without`,
        );
      });
    });
  });
}

/** Checks each finding's shape and code; returns them for comparison. */
function findingsOf(findings: GuardFinding[], family: string, where: string): GuardFinding[] {
  for (const f of findings) {
    assert.match(f.code, CODE, `${where}: \`${f.code}\` is not a dotted lowercase code`);
    assert.ok(f.code.startsWith(`${family}.`), `${where}: \`${f.code}\` is not in the \`${family}.\` family`);
    assert.ok(f.message.length > 0, `${where}: ${f.code} has no message`);
    if (f.effect === 'raise') assert.ok(isRisk(f.risk), `${where}: ${f.code} raises to \`${f.risk}\``);
  }
  return findings;
}

/** The error `inspect` throws on `action`, if it does (synchronously; the shipped guards are synchronous). */
function throwsOn(guard: Guard, action: Action): string | undefined {
  try {
    const result = guard.inspect(action, new Map());
    if (result instanceof Promise) result.catch(() => undefined);
    return undefined;
  } catch (error) {
    return String(error);
  }
}

/** `guard`, broken three ways: after its real inspection it throws, or rejects; or `appliesTo` throws. */
function brokenGuards(guard: Guard): Record<string, Guard> {
  const inspect = (action: Action, facts: Map<string, unknown>) => guard.inspect(action, facts);
  return {
    'inspect throws': {
      name: guard.name,
      appliesTo: (type) => guard.appliesTo(type),
      inspect: (action, facts) => {
        inspect(action, facts);
        throw new Error(`the ${guard.name} guard broke`);
      },
    },
    'inspect rejects': {
      name: guard.name,
      appliesTo: (type) => guard.appliesTo(type),
      inspect: async (action, facts) => {
        await inspect(action, facts);
        throw new Error(`the ${guard.name} guard broke`);
      },
    },
    'appliesTo throws': {
      name: guard.name,
      appliesTo: () => {
        throw new Error(`the ${guard.name} guard broke`);
      },
      inspect,
    },
  };
}
