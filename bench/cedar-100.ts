import {
  type AuthorizationAnswer,
  type Context as CedarContext,
  getCedarVersion,
  preparsePolicySet,
  type StatefulAuthorizationCall,
  statefulIsAuthorized,
} from '@cedar-policy/cedar-wasm/nodejs';
import type { ActionInput } from '../src/contract/action.js';
import type { Effect } from '../src/contract/decision.js';
import { RISK_LEVELS, type Risk, riskRank } from '../src/contract/risk.js';
import { normalizeGrantPath } from '../src/lib/resources.js';
import type { CompiledPolicy } from '../src/policy/compile.js';
import type { Condition, PolicyInput } from '../src/policy/schema.js';

/**
 * The same policy in Cedar, for the `check()` baseline (SPEC §8).
 *
 * Cedar only permits or forbids, so Warden's semantics are encoded as:
 * - allow rules → `permit` (`allow:<id>`); deny rules → `forbid` (`deny:<id>`);
 * - ask rules → `forbid` (`ask:<id>`): the action is not allowed, and the determining policies
 *   say it was an approval, not a refusal;
 * - the default of a request no rule matched → one `permit` (`default`) for risk below high and
 *   non-financial types; without it a request is not permitted, which is Warden's default `ask`;
 * - the grants (each agent's allow/deny type lists and its path/host grants) → one `forbid`
 *   per agent (`grant:<agent>`) `unless` the request is inside them, plus `unknown-agent`.
 *
 * So: Cedar allow ⇔ Warden allow; Cedar deny determined only by `ask:*` policies (or by no
 * policy at all) ⇔ Warden ask; anything else ⇔ Warden deny.
 *
 * A request's context carries what Warden derives from the action before matching: the type
 * and agent as strings, the risk rank (the policy's `risk` map, else the default matrix), the
 * normalised path (`fs.*`) or the URL's host (`http.request`), the user and the params.
 */

const str = (s: string) => JSON.stringify(s);
const likePattern = (p: string) => `"${p.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

function list(v: string | string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

/** `context.type` (or another string) against Warden name patterns: `*` is Cedar's `like` wildcard. */
function namePatterns(expr: string, patterns: readonly string[]): string {
  if (patterns.length === 0) return 'false';
  if (patterns.includes('*')) return 'true';
  const parts = patterns.map((p) =>
    p.includes('*') ? `${expr} like ${likePattern(p)}` : `${expr} == ${str(p)}`,
  );
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' || ')})`;
}

function cedarValue(v: unknown): string {
  if (typeof v === 'string') return str(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new Error(`cannot express ${JSON.stringify(v)} in Cedar (Longs, strings and booleans only)`);
}

function paramCondition(key: string, condition: Condition): string {
  const attr = `context.params[${str(key)}]`;
  const has = `context.params has ${str(key)}`;
  if (condition === null || typeof condition !== 'object')
    return `(${has} && ${attr} == ${cedarValue(condition)})`;
  const all: string[] = [];
  const c = condition;
  if (c.exists !== undefined) all.push(c.exists ? has : `!(${has})`);
  if (c.equals !== undefined) all.push(`(${has} && ${attr} == ${cedarValue(c.equals)})`);
  if (c.notEquals !== undefined) all.push(`!(${has} && ${attr} == ${cedarValue(c.notEquals)})`);
  if (c.in) all.push(`(${has} && [${c.in.map(cedarValue).join(', ')}].contains(${attr}))`);
  if (c.notIn) all.push(`!(${has} && [${c.notIn.map(cedarValue).join(', ')}].contains(${attr}))`);
  if (c.contains !== undefined)
    all.push(`(${has} && ${attr} like ${likePattern(`*${c.contains.replaceAll('*', '')}*`)})`);
  for (const [op, sym] of [
    ['gt', '>'],
    ['gte', '>='],
    ['lt', '<'],
    ['lte', '<='],
  ] as const) {
    const n = c[op];
    if (n !== undefined) all.push(`(${has} && ${attr} ${sym} ${cedarValue(n)})`);
  }
  if (c.glob !== undefined || c.regex !== undefined)
    throw new Error(`\`${key}\`: glob/regex have no Cedar form`);
  return all.join(' && ');
}

function riskCondition(m: Risk | Risk[] | { atLeast?: Risk | undefined; atMost?: Risk | undefined }): string {
  if (typeof m === 'string') return `context.risk == ${riskRank(m)}`;
  if (Array.isArray(m)) return `[${m.map(riskRank).join(', ')}].contains(context.risk)`;
  const parts: string[] = [];
  if (m.atLeast) parts.push(`context.risk >= ${riskRank(m.atLeast)}`);
  if (m.atMost) parts.push(`context.risk <= ${riskRank(m.atMost)}`);
  return parts.join(' && ') || 'true';
}

/** Scope + conditions: exact types go in the action scope, patterns in a `like` condition. */
function typeScope(types: string[] | undefined): { scope: string; cond?: string } {
  if (!types || types.includes('*')) return { scope: 'action' };
  if (types.some((t) => t.includes('*')))
    return { scope: 'action', cond: namePatterns('context.type', types) };
  if (types.length === 1) return { scope: `action == Action::${str(types[0] as string)}` };
  return { scope: `action in [${types.map((t) => `Action::${str(t)}`).join(', ')}]` };
}

function agentScope(agents: string[] | undefined): { scope: string; cond?: string } {
  if (!agents || agents.includes('*')) return { scope: 'principal' };
  if (agents.length === 1 && !agents[0]?.includes('*'))
    return { scope: `principal == Agent::${str(agents[0] as string)}` };
  return { scope: 'principal', cond: namePatterns('context.agent', agents) };
}

/** Translates a Warden policy (the subset the benchmark uses) into Cedar policies keyed by id. */
export function policyToCedar(policy: PolicyInput): Record<string, string> {
  const out: Record<string, string> = {};
  const agents = policy.agents ?? {};
  const names = Object.keys(agents);

  out['unknown-agent'] =
    `forbid (principal, action, resource) unless { principal in [${names.map((n) => `Agent::${str(n)}`).join(', ')}] };`;
  out.sandbox = 'forbid (principal, action in [Action::"shell.exec", Action::"code.exec"], resource);';
  out.default = `permit (principal, action, resource) when { context.risk < ${riskRank('high')} && !(context.type like "payment.*") };`;

  for (const [name, agent] of Object.entries(agents)) {
    const grant = (
      g: string[] | { allow?: string[] | undefined; deny?: string[] | undefined } | undefined,
    ) =>
      g === undefined
        ? undefined
        : Array.isArray(g)
          ? { allow: g, deny: [] }
          : { allow: g.allow ?? [], deny: g.deny ?? [] };
    const resource = (attr: 'path' | 'host', g: ReturnType<typeof grant>, toLike: (p: string) => string) => {
      if (!g) return `!(context has ${attr})`;
      const allow = g.allow.length > 0 ? `(${g.allow.map(toLike).join(' || ')})` : 'false';
      const deny = g.deny.length > 0 ? ` && !(${g.deny.map(toLike).join(' || ')})` : '';
      return `(!(context has ${attr}) || (${allow}${deny}))`;
    };
    const pathLike = (glob: string) => {
      if (glob.endsWith('/**') && !glob.slice(0, -3).includes('*'))
        return `context.path like ${likePattern(`${glob.slice(0, -3)}/*`)}`;
      if (!glob.includes('*')) return `context.path == ${str(glob)}`;
      throw new Error(`path glob \`${glob}\` has no Cedar form here`);
    };
    const hostLike = (h: string) => {
      const p = h.toLowerCase();
      if (p === '*') return 'true';
      return p.includes('*') ? `context.host like ${likePattern(p)}` : `context.host == ${str(p)}`;
    };
    const typeOk = namePatterns('context.type', agent.allow ?? []);
    const typeDenied =
      (agent.deny ?? []).length > 0 ? ` && !(${namePatterns('context.type', agent.deny ?? [])})` : '';
    const paths = resource('path', grant(agent.resources?.paths), pathLike);
    const hosts = resource('host', grant(agent.resources?.hosts), hostLike);
    if (agent.resources?.tables)
      throw new Error('table grants are not translated (no sql.query in the workload)');
    out[`grant:${name}`] =
      `forbid (principal == Agent::${str(name)}, action, resource) unless { ${typeOk}${typeDenied} && ${paths} && ${hosts} };`;
  }

  for (const rule of policy.rules ?? []) {
    const m = rule.match ?? {};
    const type = typeScope(list(m.type));
    const agent = agentScope(list(m.agent));
    const conds: string[] = [];
    if (type.cond) conds.push(type.cond);
    if (agent.cond) conds.push(agent.cond);
    const users = list(m.user);
    if (users) conds.push(`(context has user && ${namePatterns('context.user', users)})`);
    if (m.risk !== undefined) conds.push(riskCondition(m.risk));
    for (const [key, condition] of Object.entries(m.params ?? {})) conds.push(paramCondition(key, condition));
    const verb = rule.effect === 'allow' ? 'permit' : 'forbid';
    const when = conds.length > 0 ? ` when { ${conds.join(' && ')} }` : '';
    out[`${rule.effect}:${rule.id}`] = `${verb} (${agent.scope}, ${type.scope}, resource)${when};`;
  }
  return out;
}

export type CedarRequest = StatefulAuthorizationCall;

/** A preparsed Cedar policy set plus the request translation. */
export interface CedarEngine {
  readonly version: string;
  readonly policyCount: number;
  /** The Cedar request for a Warden action, with what Warden derives from it (risk, path, host). */
  translate(action: ActionInput): CedarRequest;
  authorize(request: CedarRequest): AuthorizationAnswer;
  /** Warden's three-way effect read back from Cedar's decision and determining policies. */
  effectOf(answer: AuthorizationAnswer): Effect;
}

let nextSetId = 0;

export function createCedarEngine(source: PolicyInput, compiled: CompiledPolicy): CedarEngine {
  const policies = policyToCedar(source);
  const id = `warden-bench-${nextSetId++}`;
  const parsed = preparsePolicySet(id, { staticPolicies: policies });
  if (parsed.type !== 'success') {
    throw new Error(
      `Cedar rejected the translated policy: ${parsed.errors.map((e) => e.message).join('; ')}`,
    );
  }
  const ranks = new Map(RISK_LEVELS.map((r) => [r, riskRank(r)]));
  return {
    version: getCedarVersion(),
    policyCount: Object.keys(policies).length,
    translate(action) {
      const params = (action.params ?? {}) as CedarContext;
      const context: CedarContext = {
        type: action.type,
        agent: action.agent,
        risk: ranks.get(compiled.riskOf(action.type)) ?? 2,
        params,
      };
      if (action.user !== undefined) context.user = action.user;
      let resource = { type: 'Resource', id: action.type };
      if (action.type.startsWith('fs.')) {
        const p = normalizeGrantPath(String(params.path));
        if (typeof p !== 'string') throw new Error(p.error);
        context.path = p;
        resource = { type: 'File', id: p };
      } else if (action.type === 'http.request') {
        const host = new URL(String(params.url)).hostname.toLowerCase();
        context.host = host;
        resource = { type: 'Host', id: host };
      } else if (action.type === 'sql.query') {
        throw new Error('sql.query is not translated');
      }
      return {
        principal: { type: 'Agent', id: action.agent },
        action: { type: 'Action', id: action.type },
        resource,
        context,
        preparsedPolicySetId: id,
        entities: [],
      };
    },
    authorize: (request) => statefulIsAuthorized(request),
    effectOf(answer) {
      if (answer.type !== 'success') return 'deny';
      const { decision, diagnostics } = answer.response;
      if (decision === 'allow') return 'allow';
      return diagnostics.reason.every((r) => r.startsWith('ask:')) ? 'ask' : 'deny';
    },
  };
}
