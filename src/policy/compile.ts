import type { ApprovalRequirement } from '../contract/decision.js';
import { defaultRiskOf } from '../contract/default-risk.js';
import { type Risk, riskRank } from '../contract/risk.js';
import {
  compileHostPatterns,
  compileNamePatterns,
  compilePathGlobs,
  hostPatternProblem,
  type NameMatcher,
} from '../lib/glob.js';
import { unknownAgentIssues } from './agent-names.js';
import { compileCondition, type ParamTest } from './conditions.js';
import { PolicyError, type PolicyIssue } from './policy-error.js';
import { type AgentConfig, durationMs, type PolicyConfig, type RuleConfig } from './schema.js';

export interface ResourceMatcher {
  /** Patterns as written, for messages. */
  allow: readonly string[];
  allows: NameMatcher;
  denies: NameMatcher;
}

export interface CompiledAgent {
  name: string;
  config: AgentConfig;
  allows: NameMatcher;
  denies: NameMatcher;
  paths?: ResourceMatcher;
  hosts?: ResourceMatcher;
  tables?: ResourceMatcher;
}

export interface CompiledRule {
  id: string;
  index: number;
  effect: 'allow' | 'deny' | 'ask';
  /** The rule's `message`, or a default naming the rule: precomputed for the hot path. */
  explanation: string;
  approvals?: Partial<ApprovalRequirement>;
  matchesType: NameMatcher;
  matchesAgent?: NameMatcher;
  matchesUser?: NameMatcher;
  matchesRisk?: (rank: number) => boolean;
  params: readonly ParamTest[];
  /** Flow rule (`match.after`): labels any of which the session must carry from a matching source. */
  after?: { labels: readonly string[]; source: NameMatcher | undefined };
}

/** A policy validated and compiled once, at load: nothing is parsed on the hot path. */
export interface CompiledPolicy {
  readonly source: string;
  readonly config: PolicyConfig;
  readonly agents: ReadonlyMap<string, CompiledAgent>;
  readonly approvalTimeoutMs: number;
  readonly executionTimeoutMs: number;
  /** The type's risk: the policy's most specific `risk` entry, else the default matrix. */
  riskOf(type: string): Risk;
  /** Rules whose `match.type` admits this type, in file order. */
  rulesFor(type: string): readonly CompiledRule[];
}

type IssueAt = (path: PropertyKey[], message: string) => PolicyIssue;

const MEMO_LIMIT = 10_000;

export function compilePolicy(config: PolicyConfig, source: string, issueAt: IssueAt): CompiledPolicy {
  const issues: PolicyIssue[] = [];
  const agents = new Map<string, CompiledAgent>();
  for (const [name, agent] of Object.entries(config.agents)) {
    const hosts = agent.resources.hosts;
    const lists: Array<[string, string[]]> = Array.isArray(hosts)
      ? [['', hosts]]
      : hosts
        ? [
            ['allow', hosts.allow],
            ['deny', hosts.deny],
          ]
        : [];
    for (const [key, list] of lists) {
      list.forEach((pattern, i) => {
        const problem = hostPatternProblem(pattern);
        const path = ['agents', name, 'resources', 'hosts', ...(key ? [key] : []), i];
        if (problem) issues.push(issueAt(path, problem));
      });
    }
    agents.set(name, compileAgent(name, agent));
  }

  const seen = new Map<string, number>();
  const rules: CompiledRule[] = [];
  config.rules.forEach((rule, index) => {
    const first = seen.get(rule.id);
    if (first !== undefined)
      issues.push(
        issueAt(['rules', index, 'id'], `duplicate rule id \`${rule.id}\` (first used by rules[${first}])`),
      );
    seen.set(rule.id, index);
    if (rule.approvals && rule.effect !== 'ask') {
      issues.push(
        issueAt(['rules', index, 'approvals'], '`approvals` applies only to rules with `effect: ask`'),
      );
    }
    rules.push(
      compileRule(rule, index, (path, message) => issues.push(issueAt(['rules', index, ...path], message))),
    );
  });
  issues.push(...unknownAgentIssues(config, issueAt));
  if (issues.length > 0) throw new PolicyError(issues);

  const riskEntries = Object.entries(config.risk)
    .map(([pattern, risk]) => ({ pattern, risk, matches: compileNamePatterns([pattern]) }))
    // Most specific first: exact names, then longer patterns.
    .sort(
      (a, b) =>
        Number(a.pattern.includes('*')) - Number(b.pattern.includes('*')) ||
        b.pattern.length - a.pattern.length,
    );

  const riskMemo = new Map<string, Risk>();
  const rulesMemo = new Map<string, readonly CompiledRule[]>();
  return {
    source,
    config,
    agents,
    approvalTimeoutMs: durationMs(config.approvals.timeout),
    executionTimeoutMs: durationMs(config.execution.timeout),
    riskOf(type) {
      let risk = riskMemo.get(type);
      if (risk === undefined) {
        risk = riskEntries.find((e) => e.matches(type))?.risk ?? defaultRiskOf(type);
        if (riskMemo.size >= MEMO_LIMIT) riskMemo.clear();
        riskMemo.set(type, risk);
      }
      return risk;
    },
    rulesFor(type) {
      let list = rulesMemo.get(type);
      if (list === undefined) {
        list = rules.filter((r) => r.matchesType(type));
        if (rulesMemo.size >= MEMO_LIMIT) rulesMemo.clear();
        rulesMemo.set(type, list);
      }
      return list;
    },
  };
}

function compileAgent(name: string, config: AgentConfig): CompiledAgent {
  const agent: CompiledAgent = {
    name,
    config,
    allows: compileNamePatterns(config.allow),
    denies: compileNamePatterns(config.deny),
  };
  const { paths, hosts, tables } = config.resources;
  if (paths) agent.paths = resourceMatcher(paths, compilePathGlobs);
  if (hosts) agent.hosts = resourceMatcher(hosts, compileHostPatterns);
  if (tables)
    agent.tables = resourceMatcher(tables, (p) => compileNamePatterns(p.map((t) => t.toLowerCase())));
  return agent;
}

function resourceMatcher(
  grant: string[] | { allow: string[]; deny: string[] },
  compile: (patterns: readonly string[]) => NameMatcher,
): ResourceMatcher {
  const allow = Array.isArray(grant) ? grant : grant.allow;
  const deny = Array.isArray(grant) ? [] : grant.deny;
  return { allow, allows: compile(allow), denies: compile(deny) };
}

function compileRule(
  rule: RuleConfig,
  index: number,
  report: (path: PropertyKey[], message: string) => void,
): CompiledRule {
  const { match } = rule;
  const list = (v: string | string[] | undefined) =>
    v === undefined ? undefined : Array.isArray(v) ? v : [v];
  const types = list(match.type);
  const agents = list(match.agent);
  const users = list(match.user);
  const compiled: CompiledRule = {
    id: rule.id,
    index,
    effect: rule.effect,
    explanation: rule.message ?? `${EXPLAIN[rule.effect]} rule \`${rule.id}\``,
    matchesType: types ? compileNamePatterns(types) : () => true,
    params: Object.entries(match.params ?? {}).map(([key, condition]) =>
      compileCondition(key, condition, (message) => report(['match', 'params', key], message)),
    ),
  };
  if (rule.approvals) compiled.approvals = rule.approvals as Partial<ApprovalRequirement>;
  if (agents) compiled.matchesAgent = compileNamePatterns(agents);
  if (users) compiled.matchesUser = compileNamePatterns(users);
  if (match.risk !== undefined) compiled.matchesRisk = compileRiskMatch(match.risk);
  if (match.after) {
    const sources = list(match.after.source);
    compiled.after = {
      labels: list(match.after.label) ?? ['untrusted'],
      source: sources ? compileNamePatterns(sources) : undefined,
    };
  }
  return compiled;
}

const EXPLAIN = { allow: 'allowed by', deny: 'denied by', ask: 'human approval required by' } as const;

function compileRiskMatch(
  m: Risk | Risk[] | { atLeast?: Risk | undefined; atMost?: Risk | undefined },
): (rank: number) => boolean {
  if (typeof m === 'string') {
    const r = riskRank(m);
    return (rank) => rank === r;
  }
  if (Array.isArray(m)) {
    const ranks = new Set(m.map(riskRank));
    return (rank) => ranks.has(rank);
  }
  const lo = m.atLeast ? riskRank(m.atLeast) : 0;
  const hi = m.atMost ? riskRank(m.atMost) : 5;
  return (rank) => rank >= lo && rank <= hi;
}
