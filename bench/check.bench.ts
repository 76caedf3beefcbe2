import type { ActionInput } from '../src/contract/action.js';
import type { Effect } from '../src/contract/decision.js';
import { isFinancial } from '../src/contract/default-risk.js';
import { riskRank } from '../src/contract/risk.js';
import { resourcesOf } from '../src/lib/resources.js';
import { createWarden, Warden } from '../src/pipeline/warden.js';
import type { CompiledPolicy } from '../src/policy/compile.js';
import { policyFromObject } from '../src/policy/load.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { validateAction } from '../src/validate/validate.js';
import { type CedarEngine, createCedarEngine } from './cedar-100.js';
import { buildPolicy, buildWorkload, RULE_COUNT } from './policy-100.js';
import { type BenchRow, percentile } from './report.js';

/**
 * SPEC §8, first line: `check()` with in-memory state and a 100-rule policy, against Cedar
 * (preparsed policy set) deciding the same requests, and a bare in-process matcher.
 */

const WARDEN_CALLS = Number(process.env.BENCH_CHECK_CALLS ?? 200_000);
const CEDAR_CALLS = Number(process.env.BENCH_CEDAR_CALLS ?? 20_000);
const BARE_CALLS = 200_000;
const MAX_DISAGREEMENTS = 5;

const gc = (globalThis as { gc?: () => void }).gc;

function log(line: string): void {
  process.stdout.write(`  [check] ${line}\n`);
}

interface Summary {
  p50: number;
  p99: number;
  mean: number;
}

function summarize(samplesNs: Float64Array): Summary {
  const sorted = Array.from(samplesNs, (ns) => ns / 1000).sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

/** Per-call latency of an async call, each timed with `process.hrtime.bigint()`. */
async function timeAsync<T>(
  items: readonly T[],
  calls: number,
  fn: (item: T) => Promise<unknown>,
): Promise<Float64Array> {
  const out = new Float64Array(calls);
  const n = items.length;
  for (let i = 0; i < calls; i++) {
    const item = items[i % n] as T;
    const t0 = process.hrtime.bigint();
    await fn(item);
    out[i] = Number(process.hrtime.bigint() - t0);
  }
  return out;
}

function timeSync<T>(items: readonly T[], calls: number, fn: (item: T) => unknown): Float64Array {
  const out = new Float64Array(calls);
  const n = items.length;
  for (let i = 0; i < calls; i++) {
    const item = items[i % n] as T;
    const t0 = process.hrtime.bigint();
    fn(item);
    out[i] = Number(process.hrtime.bigint() - t0);
  }
  return out;
}

/**
 * The floor: the same compiled grants and rules walked directly over already-validated actions,
 * with no validation, no pipeline and no Decision object.
 */
function bareMatcher(
  policy: CompiledPolicy,
): (action: ActionInput & { params: Record<string, unknown> }) => Effect {
  const facts = new Map<string, unknown>();
  return (action) => {
    const agent = policy.agents.get(action.agent);
    if (!agent || agent.denies(action.type) || !agent.allows(action.type)) return 'deny';
    const res = resourcesOf(action as Parameters<typeof resourcesOf>[0], facts);
    if (res) {
      if ('error' in res) return 'deny';
      const grant = agent[res.kind];
      if (!grant) return 'deny';
      for (const v of res.values) if (grant.denies(v) || !grant.allows(v)) return 'deny';
    }
    const risk = policy.riskOf(action.type);
    const rank = riskRank(risk);
    let ask = false;
    let allow = false;
    for (const rule of policy.rulesFor(action.type)) {
      if (rule.matchesAgent && !rule.matchesAgent(action.agent)) continue;
      if (rule.matchesUser && !(action.user !== undefined && rule.matchesUser(action.user))) continue;
      if (rule.matchesRisk && !rule.matchesRisk(rank)) continue;
      let ok = true;
      for (const p of rule.params) {
        if (!p.test(action.params)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (rule.effect === 'deny') return 'deny';
      if (rule.effect === 'ask') ask = true;
      else allow = true;
    }
    if (ask) return 'ask';
    if (allow) return 'allow';
    return isFinancial(action.type) || rank >= riskRank('high') ? 'ask' : 'allow';
  };
}

/** Compares the engines on every workload action; throws when Cedar disagrees on more than a handful. */
async function checkAgreement(
  actions: readonly ActionInput[],
  decide: (a: ActionInput) => Promise<Effect>,
  cedar: CedarEngine,
  requests: readonly ReturnType<CedarEngine['translate']>[],
  bare: (a: ActionInput & { params: Record<string, unknown> }) => Effect,
): Promise<{ allowAgree: number; threeWayAgree: number; mix: Record<Effect, number> }> {
  const mix: Record<Effect, number> = { allow: 0, ask: 0, deny: 0 };
  const disagreements: string[] = [];
  let allowAgree = 0;
  let threeWayAgree = 0;
  let cedarErrors = 0;
  for (let i = 0; i < actions.length; i++) {
    const action = actions[i] as ActionInput;
    const warden = await decide(action);
    mix[warden]++;
    const answer = cedar.authorize(requests[i] as ReturnType<CedarEngine['translate']>);
    if (answer.type !== 'success' || answer.response.diagnostics.errors.length > 0) cedarErrors++;
    const viaCedar = cedar.effectOf(answer);
    const viaBare = bare({ ...action, params: action.params ?? {} });
    if ((warden === 'allow') === (viaCedar === 'allow')) allowAgree++;
    else
      disagreements.push(
        `warden=${warden} cedar=${viaCedar} ${JSON.stringify(action)} ${JSON.stringify(answer)}`,
      );
    if (warden === viaCedar) threeWayAgree++;
    else if ((warden === 'allow') === (viaCedar === 'allow')) {
      log(`three-way mismatch (allow agrees): warden=${warden} cedar=${viaCedar} ${JSON.stringify(action)}`);
    }
    if (viaBare !== warden)
      throw new Error(`bare matcher says ${viaBare}, Warden ${warden}: ${JSON.stringify(action)}`);
  }
  log(`decision mix over ${actions.length} actions: allow ${mix.allow}, ask ${mix.ask}, deny ${mix.deny}`);
  log(
    `Warden vs Cedar: allow/not-allow agree on ${allowAgree}/${actions.length}, three-way (allow/ask/deny) on ${threeWayAgree}/${actions.length}; Cedar evaluation errors: ${cedarErrors}`,
  );
  if (disagreements.length > 0) {
    for (const d of disagreements.slice(0, 20)) log(`DISAGREE ${d}`);
    if (disagreements.length > MAX_DISAGREEMENTS) {
      throw new Error(
        `Warden and Cedar disagree on ${disagreements.length} actions; the comparison is invalid`,
      );
    }
  }
  return { allowAgree, threeWayAgree, mix };
}

export async function benchCheck(): Promise<BenchRow[]> {
  const source = buildPolicy();
  const policy = policyFromObject(source, 'bench/policy-100');
  const actions = buildWorkload(1000);
  const store = new MemoryStore();
  // The decision core Cedar is compared with: grants, risk and rules. Content guards (files,
  // SQL, HTTP, shell) look inside actions, which Cedar does not, so the like-for-like Warden is
  // built without the parts `assemble` adds; `full` below has them, timed in the same run.
  const warden = new Warden({ policy, store });
  await warden.start();
  const full = await createWarden({ policy, store: new MemoryStore() });
  const cedar = createCedarEngine(source, policy);
  const requests = actions.map((a) => cedar.translate(a));
  const bare = bareMatcher(policy);
  const validated = actions.map((a) => {
    const v = validateAction(a);
    if (!v.ok) throw new Error(`workload action is invalid (${v.field}: ${v.message}): ${JSON.stringify(a)}`);
    return v.action;
  });
  log(
    `policy: ${RULE_COUNT} rules, ${policy.agents.size} agents; Cedar ${cedar.version}: ${cedar.policyCount} policies`,
  );

  try {
    await checkAgreement(actions, async (a) => (await warden.check(a)).effect, cedar, requests, bare);

    // Warm-up: let the JIT settle and the type memos fill.
    await timeAsync(actions, 30_000, (a) => warden.check(a));
    timeSync(requests, 2_000, (r) => cedar.authorize(r));
    timeSync(validated, 30_000, bare);

    gc?.();
    const wardenNs = await timeAsync(actions, WARDEN_CALLS, (a) => warden.check(a));
    await timeAsync(actions, 30_000, (a) => full.check(a));
    gc?.();
    const fullNs = await timeAsync(actions, WARDEN_CALLS, (a) => full.check(a));
    gc?.();
    const cedarNs = timeSync(requests, CEDAR_CALLS, (r) => cedar.authorize(r));
    gc?.();
    const bareNs = timeSync(validated, BARE_CALLS, bare);
    // Where check() spends its time beyond the matcher: validation alone (zod + id).
    gc?.();
    const validateNs = timeSync(actions, 100_000, validateAction);

    const w = summarize(wardenNs);
    const c = summarize(cedarNs);
    const b = summarize(bareNs);
    const v = summarize(validateNs);
    const f = summarize(fullNs);
    log(
      `warden.check with the policy's default content guards: p50 ${f.p50.toFixed(2)} µs, p99 ${f.p99.toFixed(2)} µs`,
    );
    log(
      `warden.check: ${WARDEN_CALLS} calls, p50 ${w.p50.toFixed(2)} µs, p99 ${w.p99.toFixed(2)} µs, mean ${w.mean.toFixed(2)} µs`,
    );
    log(
      `cedar (statefulIsAuthorized, preparsed): ${CEDAR_CALLS} calls, p50 ${c.p50.toFixed(1)} µs, p99 ${c.p99.toFixed(1)} µs, mean ${c.mean.toFixed(1)} µs`,
    );
    log(`bare matcher: ${BARE_CALLS} calls, p50 ${b.p50.toFixed(2)} µs, p99 ${b.p99.toFixed(2)} µs`);
    log(`validateAction alone (part of check): p50 ${v.p50.toFixed(2)} µs, p99 ${v.p99.toFixed(2)} µs`);

    const cedarBase = { name: 'Cedar p50', value: c.p50 };
    const speedup = c.p50 / w.p50;
    return [
      {
        scenario: 'check',
        metric: 'check() p50, 100 rules',
        value: w.p50,
        unit: 'µs',
        baseline: cedarBase,
        target: '≤ 5 µs',
        met: w.p50 <= 5,
      },
      {
        scenario: 'check',
        metric: 'check() p99, 100 rules',
        value: w.p99,
        unit: 'µs',
        baseline: { name: 'Cedar p99', value: c.p99 },
        target: '≤ 25 µs',
        met: w.p99 <= 25,
      },
      {
        scenario: 'check',
        metric: 'speed-up vs Cedar (p50)',
        value: speedup,
        unit: '×',
        // Cedar is 1×; its p50 is in the name so the row reads on its own.
        baseline: { name: `Cedar (p50 ${c.p50.toFixed(0)} µs)`, value: 1 },
        target: '≥ 40× Cedar',
        met: speedup >= 40,
      },
      {
        scenario: 'check',
        metric: 'check() p50 with the default content guards (file guard resolves paths on disk)',
        value: f.p50,
        unit: 'µs',
        baseline: { name: 'decision core p50', value: w.p50 },
      },
      {
        scenario: 'check',
        metric: 'bare in-process matcher p50',
        value: b.p50,
        unit: 'µs',
        baseline: cedarBase,
      },
    ];
  } finally {
    await warden.close();
    await full.close();
    await store.close();
  }
}
