import { canonicalJson, sha256Hex } from '../audit/canonical-json.js';
import type { Decision } from '../contract/decision.js';
import { createWarden, type Warden } from '../pipeline/warden.js';
import type { CompiledAgent, CompiledPolicy } from '../policy/compile.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import {
  actionOf,
  CATEGORIES,
  type Category,
  loadRedteamCorpus,
  type Placeholders,
  placeholdersFor,
  type RedteamCase,
} from './corpus.js';
import { seeded, variantsOf } from './variants.js';

/** One case's verdict, as reported. */
export interface CaseOutcome {
  id: string;
  effect: Decision['effect'];
  code?: string;
  message?: string;
  /** The action, shortened for the report. */
  action: string;
}

export interface CategoryResult {
  category: Category;
  /** Whether the agent may send any action type of this category at all (else all of it is refused by permissions). */
  covered: boolean;
  attacks: number;
  blocked: number;
  /** Attacks that were allowed: the findings. */
  allowed: CaseOutcome[];
  benign: number;
  benignAllowed: number;
  benignAsked: number;
  /** Benign cases refused because this agent is not granted them (permissions, the shell allowlist). */
  benignOutOfScope: number;
  /** Benign cases refused by a guard or rule although within the agent's grants. */
  falseDenies: CaseOutcome[];
}

export interface AgentResult {
  agent: string;
  categories: CategoryResult[];
}

export interface RedteamReport {
  policy: string;
  /** SHA-256 of the policy's canonical JSON: `warden check` matches a run to the policy it tested. */
  policyDigest: string;
  seed: number;
  variants: number;
  startedAt: string;
  elapsedMs: number;
  /** Decisions made (cases × agents, bursts counted once per action sent). */
  checks: number;
  checksPerSecond: number;
  /** `used`: injection cases fed their text to `warden.observe()` first; `not-available`: that API is absent. */
  observations: 'used' | 'not-available';
  agents: AgentResult[];
  /** No attack allowed in any category an agent is covered for. */
  ok: boolean;
}

export interface RedteamOptions {
  /** Only these agents (default: every agent of the policy). */
  agents?: readonly string[];
  /** Variants generated per attack (default 3). */
  variants?: number;
  /** Seed of the variant generator (default 19). */
  seed?: number;
  /** The corpus (default: the shipped one). */
  corpus?: readonly RedteamCase[];
}

/** Reason codes that mean "this agent is not granted that", not "a guard found it harmful". */
const OUT_OF_SCOPE =
  /^(permissions\.|shell\.not-allowed|shell\.args-not-allowed|http\.host-denied|sandbox\.unavailable|validate\.)/;

/**
 * Runs the red team: every shipped case and its variants, as each agent of `policy` would send
 * it, through `check()` (no execution, limits only peek); bursts (`repeat`) go through `decide()`
 * on a Warden of their own so rate and step limits count. Wardens are built in memory, as if a
 * sandbox were available (the shell guard's verdict, not this host's). An attack is blocked when
 * the decision is not `allow` (a deny, or an ask that waits for a human).
 */
export async function runRedteam(
  policy: CompiledPolicy,
  options: RedteamOptions = {},
): Promise<RedteamReport> {
  const corpus = options.corpus ?? loadRedteamCorpus();
  const variants = options.variants ?? 3;
  const seed = options.seed ?? 19;
  const rng = seeded(seed);
  const cases = corpus.flatMap((c) => [c, ...variantsOf(c, variants, rng)]);
  const names = options.agents ?? [...policy.agents.keys()];
  for (const name of names)
    if (!policy.agents.has(name))
      throw new Error(
        `agent \`${name}\` is not in the policy (${[...policy.agents.keys()].join(', ') || 'none'})`,
      );
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  let checks = 0;
  const warden = await scratchWarden(policy);
  const agents: AgentResult[] = [];
  try {
    for (const name of names) {
      const agent = policy.agents.get(name) as CompiledAgent;
      const vars = placeholdersFor(policy, agent);
      const results = new Map<Category, CategoryResult>(
        CATEGORIES.map((category) => [category, emptyResult(category, corpus, agent)]),
      );
      for (const c of cases) {
        const r = results.get(c.category) as CategoryResult;
        const outcome = c.repeat ? await burst(policy, c, name, vars) : await once(warden, c, name, vars);
        checks += c.repeat ?? 1;
        tally(r, c, outcome);
      }
      agents.push({ agent: name, categories: [...results.values()] });
    }
  } finally {
    await warden.close();
  }
  const elapsedMs = Date.now() - started;
  return {
    policy: policy.source,
    policyDigest: policyDigest(policy),
    seed,
    variants,
    startedAt,
    elapsedMs,
    checks,
    checksPerSecond: elapsedMs > 0 ? Math.round(checks / (elapsedMs / 1000)) : checks,
    observations: 'used',
    agents,
    ok: agents.every((a) => a.categories.every((r) => !r.covered || r.allowed.length === 0)),
  };
}

/**
 * SHA-256 of the policy's canonical JSON (its meaning, not its formatting). Whether monitoring
 * runs (`monitoring.enabled`) is left out: that is the deployment's choice (`warden serve` turns
 * it on), not part of what the red team tests.
 */
export function policyDigest(policy: CompiledPolicy): string {
  const { enabled: _deployment, ...monitoring } = policy.config.monitoring;
  return sha256Hex(canonicalJson({ ...policy.config, monitoring }));
}

function scratchWarden(policy: CompiledPolicy): Promise<Warden> {
  return createWarden({ policy, store: new MemoryStore(), sandboxAvailable: true, killPollMs: 60_000 });
}

function emptyResult(
  category: Category,
  corpus: readonly RedteamCase[],
  agent: CompiledAgent,
): CategoryResult {
  const types = new Set(corpus.filter((c) => c.category === category).map((c) => c.action.type));
  return {
    category,
    covered: [...types].some((t) => agent.allows(t) && !agent.denies(t)),
    attacks: 0,
    blocked: 0,
    allowed: [],
    benign: 0,
    benignAllowed: 0,
    benignAsked: 0,
    benignOutOfScope: 0,
    falseDenies: [],
  };
}

async function once(warden: Warden, c: RedteamCase, agent: string, vars: Placeholders): Promise<CaseOutcome> {
  const action = actionOf(c, agent, vars);
  if (c.observation) {
    // An injection case: the agent read the injected text in this session, then sends the action.
    const session = `redteam-${++sessions}`;
    await warden.observe({
      agent,
      session,
      source: `http:https://redteam.invalid/${c.id}`,
      trust: 'untrusted',
      content: c.observation,
    });
    action.session = session;
  }
  return outcomeOf(c, action, await warden.check(action));
}

let sessions = 0;

/** Sends the action `repeat` times through `decide()` on a fresh Warden; the first refusal is the outcome. */
async function burst(
  policy: CompiledPolicy,
  c: RedteamCase,
  agent: string,
  vars: Placeholders,
): Promise<CaseOutcome> {
  const warden = await scratchWarden(policy);
  try {
    const action = actionOf(c, agent, vars);
    let last: Decision | undefined;
    for (let i = 0; i < (c.repeat ?? 1); i++) {
      last = (await warden.decide(action)).decision;
      if (last.effect !== 'allow') break;
    }
    return outcomeOf(c, action, last as Decision);
  } finally {
    await warden.close();
  }
}

function outcomeOf(c: RedteamCase, action: Record<string, unknown>, d: Decision): CaseOutcome {
  const reason = d.reasons[0];
  return {
    id: c.id,
    effect: d.effect,
    ...(reason ? { code: reason.code, message: reason.message } : {}),
    action: summarise(action, c),
  };
}

function tally(r: CategoryResult, c: RedteamCase, o: CaseOutcome): void {
  if (c.kind === 'attack') {
    r.attacks++;
    if (o.effect === 'allow') r.allowed.push(o);
    else r.blocked++;
    return;
  }
  r.benign++;
  if (o.effect === 'allow') r.benignAllowed++;
  else if (o.effect === 'ask') r.benignAsked++;
  else if (OUT_OF_SCOPE.test(o.code ?? '')) r.benignOutOfScope++;
  else r.falseDenies.push(o);
}

function summarise(action: Record<string, unknown>, c: RedteamCase): string {
  const params = { ...(action.params as Record<string, unknown>) };
  if (c.fill) params[c.fill.param] = `<${c.fill.bytes} bytes>`;
  const text = `${action.type} ${JSON.stringify(params)}`;
  const shown = text.length > 200 ? `${text.slice(0, 197)}…` : text;
  return c.repeat ? `${shown} ×${c.repeat}` : shown;
}
