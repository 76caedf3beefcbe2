import { createTwoFilesPatch } from 'diff';
import { isSeq, parseDocument, YAMLSeq } from 'yaml';
import { parsePolicyText } from '../policy/load.js';
import type { RuleConfig } from '../policy/schema.js';
import type { IncidentReport } from './report.js';

export interface Proposal {
  rule: RuleConfig;
  /** Why this rule: the finding it answers. */
  because: string;
}

export interface Prevention {
  proposals: Proposal[];
  /** Advice that is not a rule change (e.g. a rate limit, when the policy has no limits section to edit). */
  advice: string[];
  before: string;
  after: string;
  /** Unified diff of the policy file; empty when nothing is proposed. */
  diff: string;
}

/** Destructive action types that a denied attempt argues should be refused outright. */
const DESTRUCTIVE = /^(fs\.delete|sql\.query|shell\.exec|payment\.)/;

/**
 * Proposes policy changes that would have stopped the incident earlier: an `ask` rule on the
 * action type behind each anomaly (a loop or a cost spike would have waited for a human), and a
 * `deny` rule for a destructive type the agent was caught attempting. The result is checked to
 * load as a valid policy before it is offered. Rules are added at the top of `rules`, and rules
 * whose id already exists are not proposed twice.
 */
export function proposePrevention(
  report: IncidentReport,
  policyText: string,
  policyFile: string,
): Prevention {
  const doc = parseDocument(policyText);
  const existing = new Set<string>(
    ((doc.toJS() as { rules?: { id?: string }[] } | null)?.rules ?? []).map((r) => r.id ?? ''),
  );
  const proposals: Proposal[] = [];
  const advice: string[] = [];
  const agent = report.agent;
  const add = (rule: RuleConfig, because: string) => {
    if (existing.has(rule.id) || proposals.some((p) => p.rule.id === rule.id)) return;
    proposals.push({ rule, because });
  };

  for (const a of report.anomalies) {
    const type = a.actionType ?? (typeof a.details?.type === 'string' ? a.details.type : undefined);
    if (!type) continue;
    const kind = a.code.replace(/^anomaly\./, '');
    if (kind === 'loop' || kind === 'cost-spike' || kind === 'failure-rate' || kind.startsWith('novel')) {
      add(
        {
          id: `prevent-${kind}-${slug(agent)}-${slug(type)}`,
          effect: 'ask',
          description: `proposed by warden incident prevent after ${a.code} at ${a.ts}`,
          match: { agent, type },
          message: `after ${a.code} (${a.message}), \`${type}\` by agent \`${agent}\` needs a human`,
        },
        `${a.code}: ${a.message}`,
      );
    }
    if (kind === 'loop' || kind === 'cost-spike') {
      advice.push(
        `rate-limit \`${type}\` for agent \`${agent}\` (the ${kind} ran ${a.details?.repeats ?? 'many'} times within ${a.details?.window ?? 'a window'})`,
      );
    }
  }
  for (const d of report.denials) {
    if (!d.actionType || !DESTRUCTIVE.test(d.actionType)) continue;
    add(
      {
        id: `prevent-deny-${slug(agent)}-${slug(d.actionType)}`,
        effect: 'deny',
        description: `proposed by warden incident prevent: agent attempted ${d.actionType} at ${d.ts}`,
        match: { agent, type: d.actionType },
        message: `agent \`${agent}\` may not \`${d.actionType}\` (it was attempted during an incident)`,
      },
      `denied ${d.actionType} (${d.code}) at ${d.ts}`,
    );
  }

  if (proposals.length > 0) {
    let rules = doc.get('rules', true);
    if (!isSeq(rules)) {
      rules = new YAMLSeq();
      doc.set('rules', rules);
    }
    const seq = rules as YAMLSeq;
    // Deny-overrides evaluation makes position irrelevant to the outcome; at the top they are easy to review.
    seq.items.unshift(...proposals.map((p) => doc.createNode(p.rule)));
  }
  const after = proposals.length > 0 ? doc.toString() : policyText;
  if (proposals.length > 0) parsePolicyText(after, `${policyFile} (proposed)`); // throws PolicyError if invalid
  const diff =
    proposals.length > 0
      ? createTwoFilesPatch(policyFile, policyFile, policyText, after, 'current', 'proposed')
      : '';
  return { proposals, advice: [...new Set(advice)], before: policyText, after, diff };
}

function slug(s: string): string {
  return s
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}
