import { compileNamePatterns } from '../lib/glob.js';
import type { PolicyIssue } from './policy-error.js';
import type { PolicyConfig } from './schema.js';

type IssueAt = (path: PropertyKey[], message: string) => PolicyIssue;

/**
 * Agents named where a policy selects actions (`rules[].match.agent`, `limits.*.match.agent`) must
 * be agents the policy defines: only those can act (any other is denied by the permissions stage),
 * so a name or pattern that matches none is a mistake — a typo that makes a deny rule or a limit
 * protect nothing. Each is reported at its own field.
 */
export function unknownAgentIssues(config: PolicyConfig, issueAt: IssueAt): PolicyIssue[] {
  const known = Object.keys(config.agents);
  const issues: PolicyIssue[] = [];
  const check = (path: PropertyKey[], value: string | string[] | undefined) => {
    if (value === undefined) return;
    const list = Array.isArray(value) ? value : [value];
    list.forEach((name, i) => {
      const at = Array.isArray(value) ? [...path, i] : path;
      const problem = agentNameProblem(name, known);
      if (problem) issues.push(issueAt(at, problem));
    });
  };
  config.rules.forEach((rule, i) => {
    check(['rules', i, 'match', 'agent'], rule.match.agent);
  });
  const { limits } = config;
  limits.rate.forEach((r, i) => {
    check(['limits', 'rate', i, 'match', 'agent'], r.match.agent);
  });
  limits.budgets.forEach((b, i) => {
    check(['limits', 'budgets', i, 'match', 'agent'], b.match.agent);
  });
  for (const key of ['steps', 'duration', 'loop'] as const) {
    check(['limits', key, 'match', 'agent'], limits[key]?.match.agent);
  }
  return issues;
}

function agentNameProblem(name: string, known: readonly string[]): string | undefined {
  const defined =
    known.length === 0
      ? 'the policy defines no agents; add the agent under `agents`'
      : `the agents are ${known.map((k) => `\`${k}\``).join(', ')}`;
  if (name.includes('*')) {
    const matches = compileNamePatterns([name]);
    if (known.some((k) => matches(k))) return undefined;
    return `agent pattern \`${name}\` matches no agent, so this entry applies to nothing (only agents defined under \`agents\` can act); ${defined}`;
  }
  if (known.includes(name)) return undefined;
  const closest = closestName(name, known);
  const hint = closest ? `did you mean \`${closest}\`? ` : '';
  return `unknown agent \`${name}\`, so this entry applies to nothing (only agents defined under \`agents\` can act); ${hint}${defined}`;
}

/** The known name closest to `name` by edit distance, when close enough to be a likely typo. */
function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
