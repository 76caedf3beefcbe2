import type { ApprovalRequirement, Reason } from '../contract/decision.js';
import { isFinancial, needsSandbox } from '../contract/default-risk.js';
import { SESSION_TAINT_FACT, type SessionTaintView } from '../contract/observation.js';
import { RISK_LEVELS, type Risk, riskRank } from '../contract/risk.js';
import type { CompiledPolicy, CompiledRule } from '../policy/compile.js';
import type { Context, Stage, StageOutcome } from '../policy/context.js';
import type { Overrides } from '../store/overrides.js';

export interface RulesOptions {
  /** Whether a sandbox can run `shell.exec` and `code.exec`; without one they are denied. */
  sandboxAvailable: boolean;
  /** Per-agent incident overrides: an agent under `approve-all` is asked about everything. */
  overrides?: Pick<Overrides, 'approvalRequired'>;
}

/**
 * Stage 5: the policy's rules, deny-overrides. Every rule whose `match` holds is considered:
 * any matching `deny` denies; otherwise any matching `ask` asks (the first such rule, in file
 * order, names the approvers); otherwise any matching `allow` allows. When no rule matches, the
 * default safety requirement of the action's risk applies (SPEC §2): critical and high risk ask,
 * financial actions need `approvals.financialRequired` approvers, and commands need a sandbox.
 */
export function rulesStage(options: RulesOptions): Stage {
  const base = policyRules(options);
  const overrides = options.overrides;
  if (!overrides) return base;
  const decide = base.run as (ctx: Context) => StageOutcome;
  return {
    name: 'rules',
    run: function rules(ctx) {
      const denied = decide(ctx);
      if (denied || ctx.effect !== 'allow') return denied;
      const forced = overrides.approvalRequired(ctx.action.agent);
      if (!forced) return undefined;
      ctx.effect = 'ask';
      ctx.approvals = requirement(ctx.policy, ctx.action.type);
      ctx.reasons.unshift({
        code: 'rules.approval-override',
        stage: 'rules',
        message: `every action of agent \`${ctx.action.agent}\` needs approval since ${forced.at} (${forced.by}: ${forced.reason || 'no reason given'}); an operator clears it with \`warden incident restore --agent ${ctx.action.agent}\``,
      });
      return undefined;
    },
  };
}

/** The policy's rules and the defaults, without incident overrides. */
function policyRules(options: RulesOptions): Stage {
  return {
    name: 'rules',
    run: function rules(ctx) {
      const { action, policy } = ctx;
      const rank = riskRank(ctx.risk);
      let ask: CompiledRule | undefined;
      let allow: CompiledRule | undefined;
      for (const rule of policy.rulesFor(action.type)) {
        if (!matches(rule, ctx, rank)) continue;
        if (rule.effect === 'deny') {
          ctx.rule = rule.id;
          return {
            code: 'rules.deny',
            stage: 'rules',
            message: rule.explanation,
          };
        }
        if (rule.effect === 'ask') ask ??= rule;
        else allow ??= rule;
      }
      if (needsSandbox(action.type) && !options.sandboxAvailable) {
        return {
          code: 'sandbox.unavailable',
          stage: 'rules',
          message: `\`${action.type}\` must run in a sandbox and none is available on this host; it is denied (SPEC §2: system commands require a sandbox)`,
        };
      }
      if (ask) {
        ctx.effect = 'ask';
        ctx.rule = ask.id;
        ctx.approvals = requirement(policy, action.type, ask.approvals);
        ctx.reasons.unshift({
          code: 'rules.ask',
          stage: 'rules',
          message: ask.explanation,
        });
        return undefined;
      }
      if (allow) {
        ctx.effect = 'allow';
        ctx.rule = allow.id;
        ctx.reasons.unshift({
          code: 'rules.allow',
          stage: 'rules',
          message: allow.explanation,
        });
        return undefined;
      }
      return applyDefault(ctx);
    },
  };
}

function matches(rule: CompiledRule, ctx: Context, rank: number): boolean {
  const { action } = ctx;
  if (rule.matchesAgent && !rule.matchesAgent(action.agent)) return false;
  if (rule.matchesUser && !(action.user !== undefined && rule.matchesUser(action.user))) return false;
  if (rule.matchesRisk && !rule.matchesRisk(rank)) return false;
  for (const p of rule.params) if (!p.test(action.params)) return false;
  if (
    rule.after &&
    !afterHolds(rule.after, ctx.facts.get(SESSION_TAINT_FACT) as SessionTaintView | undefined)
  )
    return false;
  return true;
}

/** A flow rule's `after`: the session carries one of the labels from a source the rule names. */
function afterHolds(after: NonNullable<CompiledRule['after']>, view: SessionTaintView | undefined): boolean {
  if (!view) return false;
  for (const label of after.labels) {
    if (!view.labels.has(label)) continue;
    if (!after.source || view.sourcesWith(label).some(after.source)) return true;
  }
  return false;
}

/** Who must approve an ask about `type`: the rule's own requirement over the policy's defaults. */
export function requirement(
  policy: CompiledPolicy,
  type: string,
  custom?: Partial<ApprovalRequirement>,
): ApprovalRequirement {
  const defaults = policy.config.approvals;
  return {
    required: custom?.required ?? (isFinancial(type) ? defaults.financialRequired : defaults.required),
    roles: custom?.roles ?? defaults.roles,
  };
}

// Precomputed so the allow path builds no strings.
const DEFAULT_ALLOW: Record<Risk, Reason> = Object.fromEntries(
  RISK_LEVELS.map((risk) => [
    risk,
    Object.freeze({
      code: 'default.allow',
      stage: 'rules',
      message: `granted to the agent; no rule matched and ${risk} risk needs no approval by default`,
    }),
  ]),
) as Record<Risk, Reason>;

function applyDefault(ctx: Context): undefined {
  const { action, policy } = ctx;
  if (isFinancial(action.type)) {
    ctx.effect = 'ask';
    ctx.approvals = requirement(policy, action.type);
    ctx.reasons.unshift({
      code: 'default.financial-approval',
      stage: 'rules',
      message: `financial actions need ${ctx.approvals.required} distinct approvers by default`,
    });
  } else if (riskRank(ctx.risk) >= riskRank('high')) {
    ctx.effect = 'ask';
    ctx.approvals = requirement(policy, action.type);
    ctx.reasons.unshift({
      code: 'default.approval-required',
      stage: 'rules',
      message: `${ctx.risk} risk \`${action.type}\` needs explicit human approval by default; add a rule to change this`,
    });
  } else {
    ctx.effect = 'allow';
    ctx.reasons.unshift(DEFAULT_ALLOW[ctx.risk]);
  }
  return undefined;
}
