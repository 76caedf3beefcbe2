import { canonicalJson, sha256Hex } from '../audit/canonical-json.js';
import { durationMs } from '../policy/schema.js';
import type { LimitsConfig, MatchConfig } from '../policy/sections/limits.js';
import { type LimitsBackend, toMicros } from './backend.js';
import { BudgetLimiter } from './budget-limiter.js';
import { CostModel } from './cost.js';
import { CounterLimiter, type CounterWindow } from './counter-limiter.js';
import { DurationLimiter } from './duration-limiter.js';
import type { Limiter } from './limiter.js';
import { priceLookup } from './prices.js';
import { type ActionMatcher, compileMatch, normaliseScope, scopeKey, scopeValue } from './subject.js';
import { EMERGENCY, type Tightening } from './tightening.js';

/** Whether the section asks for any limit at all (no backend is opened otherwise). */
export function hasLimits(config: LimitsConfig): boolean {
  return (
    config.rate.length > 0 ||
    config.budgets.length > 0 ||
    config.steps !== undefined ||
    config.duration !== undefined ||
    config.loop !== undefined
  );
}

const costModels = new WeakMap<LimitsConfig, CostModel>();

/**
 * The policy's cost model (its `limits.prices` over the table, its `limits.outputTokens`): one per
 * policy, shared by its budgets and the Warden that records estimates and actual costs.
 */
export function costModel(config: LimitsConfig): CostModel {
  let model = costModels.get(config);
  if (!model) {
    model = new CostModel(priceLookup(config.prices), config.outputTokens);
    costModels.set(config, model);
  }
  return model;
}

/**
 * The limiters the `limits` section describes, in the order they run: steps, duration, loop,
 * rate rules, the emergency limit, then budgets (the only ones that hold money, so they come last).
 * `agents` are the policy's agent names, listed with zero usage before they act. With
 * `tightening`, rate rules hold tightened agents to lower limits and the emergency limit (when
 * `limits.tighten.emergency` is on) counts their actions that no rate rule counts.
 */
export function buildLimiters(
  config: LimitsConfig,
  backend: LimitsBackend,
  agents: readonly string[],
  tightening?: Tightening,
): Limiter[] {
  const limiters: Limiter[] = [];
  const sessionTtlMs = durationMs(config.sessionTtl);
  const agentsFor = (match: MatchConfig, agentScoped: boolean) => {
    if (!agentScoped) return [];
    const applies = compileMatch({ ...match, type: undefined, user: undefined, tool: undefined });
    return agents.filter((a) => applies({ agent: a, type: 'x.y', params: {}, id: '' }));
  };

  if (config.steps) {
    const max = config.steps.max;
    limiters.push(
      new CounterLimiter(
        {
          name: 'session',
          kind: 'steps',
          code: 'limits.steps',
          unit: 'steps',
          scope: 'session',
          applies: compileMatch(config.steps.match),
          windows: [{ label: 'session', ms: sessionTtlMs, limit: max }],
          scopeOf: (a) => (a.session === undefined ? undefined : scopeKey(['agent', 'session'], a)),
          explain: (a) =>
            `session \`${a.session}\` of agent \`${a.agent}\` has used all ${max} of its steps (limits.steps.max); start a new session`,
          agents: [],
        },
        backend,
      ),
    );
  }
  if (config.duration) {
    limiters.push(
      new DurationLimiter(
        {
          maxMs: durationMs(config.duration.max),
          label: config.duration.max,
          sessionTtlMs,
          applies: compileMatch(config.duration.match),
        },
        backend,
      ),
    );
  }
  if (config.loop) {
    const { max, window } = config.loop;
    limiters.push(
      new CounterLimiter(
        {
          name: 'repeat',
          kind: 'loop',
          code: 'limits.loop',
          unit: 'calls',
          scope: 'session',
          applies: compileMatch(config.loop.match),
          windows: [{ label: window, ms: durationMs(window), limit: max }],
          scopeOf: (a) =>
            `${scopeKey(['agent', 'session'], a)},call=${sha256Hex(canonicalJson({ type: a.type, params: a.params })).slice(0, 16)}`,
          explain: (a) =>
            `the same \`${a.type}\` with the same params was already admitted ${max} times in ${window} (limits.loop): this looks like a loop; change the approach instead of repeating it`,
          agents: [],
        },
        backend,
      ),
    );
  }

  const names = new Set<string>();
  const unique = (name: string) => {
    let n = name;
    for (let i = 2; names.has(n); i++) n = `${name}-${i}`;
    names.add(n);
    return n;
  };
  const counted: ActionMatcher[] = [];
  for (const rule of config.rate) {
    const scopes = normaliseScope(rule.scope);
    const scope = scopes.join('+');
    const name = unique(rule.name ?? scope);
    const windows: CounterWindow[] = Object.entries(rule.windows)
      .map(([label, limit]) => ({
        label,
        ms: durationMs(label),
        limit,
        ...(rule.algorithm === 'bucket' ? { bucket: { capacity: rule.burst ?? limit } } : {}),
      }))
      .sort((a, b) => a.ms - b.ms);
    const applies = compileMatch(rule.match);
    counted.push(applies);
    limiters.push(
      new CounterLimiter(
        {
          name,
          kind: 'rate',
          code: 'limits.rate',
          unit: 'calls',
          scope,
          applies,
          windows,
          scopeOf: (a) => scopeKey(scopes, a),
          explain: (a, w) =>
            `rate limit \`${name}\` reached: at most ${w.limit} actions per ${w.label} for ${scope} \`${scopes.map((s) => scopeValue(s, a)).join('/')}\``,
          agents: scope === 'agent' ? agentsFor(rule.match, true) : [],
          ...(tightening ? { tightening } : {}),
        },
        backend,
      ),
    );
  }
  if (tightening?.emergency) {
    const tight = tightening;
    limiters.push(
      new CounterLimiter(
        {
          name: EMERGENCY,
          kind: 'rate',
          code: 'limits.rate',
          unit: 'calls',
          scope: 'agent',
          // INVARIANT: counts only while the agent is tightened, and only what no rate rule counts.
          applies: (a) => tight.of(a.agent) !== undefined && !counted.some((rule) => rule(a)),
          windows: tight.emergency as CounterWindow[],
          scopeOf: (a) => scopeKey(['agent'], a),
          explain: (a, w) => {
            const state = tight.of(a.agent);
            return `emergency rate limit reached: at most ${w.limit} actions per ${w.label} for agent \`${a.agent}\` (limits.tighten.emergency, for actions no rate rule counts)${state ? `: ${tight.note(a.agent, state)}` : ''}`;
          },
          agents: [],
        },
        backend,
      ),
    );
  }

  const cost = costModel(config);
  const budgetNames = new Set<string>();
  for (const rule of config.budgets) {
    const scopes = normaliseScope(
      rule.period === 'run'
        ? [...(Array.isArray(rule.scope) ? rule.scope : [rule.scope]), 'session']
        : rule.scope,
    );
    const scope = scopes.join('+');
    let name = rule.name ?? scope;
    for (let i = 2; budgetNames.has(name); i++) name = `${rule.name ?? scope}-${i}`;
    budgetNames.add(name);
    limiters.push(
      new BudgetLimiter(
        {
          name,
          scope,
          applies: compileMatch(rule.match),
          scopeOf: (a) => scopeKey(scopes, a),
          limitMicros: toMicros(rule.usd),
          period: rule.period,
          holdTtlMs: durationMs(config.holdTtl),
          sessionTtlMs,
          agents: scope === 'agent' ? agentsFor(rule.match, true) : [],
        },
        backend,
        cost,
      ),
    );
  }
  return limiters;
}
