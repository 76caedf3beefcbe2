import { createTwoFilesPatch } from 'diff';
import { type Document, isMap, isSeq, type Node, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import { parsePolicyText } from '../policy/load.js';
import type { RuleConfig } from '../policy/schema.js';
import { type ProposedRate, rateFor } from './prevent-limits.js';
import type { IncidentReport } from './report.js';
import { insertIntoSeq, sameYamlValue } from './yaml-insert.js';

export type { ProposedRate } from './prevent-limits.js';

export interface Proposal {
  rule: RuleConfig;
  /** Why this rule: the finding it answers. */
  because: string;
}

/** A rate limit to add to `limits.rate`. */
export interface RateProposal {
  rate: ProposedRate;
  /** Why this limit and these figures: the findings it answers. */
  because: string[];
}

export interface Prevention {
  /** Rules added to `rules`. */
  proposals: Proposal[];
  /** Rate limits added to `limits.rate`. */
  rates: RateProposal[];
  /** What the report argues for but the proposal cannot express in the policy (printed on stderr). */
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
 * action type behind each anomaly (a loop or a cost spike would have waited for a human), a
 * `limits.rate` entry for that agent and type below the rate a loop or cost spike reached
 * (`rateFor` says how the figures are chosen), and a `deny` rule for a destructive type the agent
 * was caught attempting. The result is checked to load as a valid policy before it is offered.
 * Rules are added at the top of `rules`, rate limits at the end of `limits.rate` (both created
 * when missing), comments and layout of the file are kept, and a rule whose id or a rate limit
 * whose name already exists is not proposed twice.
 *
 * @example
 * const { diff, after } = proposePrevention(report, readFileSync('warden.yaml', 'utf8'), 'warden.yaml');
 */
export function proposePrevention(
  report: IncidentReport,
  policyText: string,
  policyFile: string,
): Prevention {
  const doc = parseDocument(policyText);
  const current = doc.toJS() as {
    rules?: { id?: string }[];
    limits?: { rate?: { name?: string }[] } | null;
  } | null;
  const existing = new Set<string>((current?.rules ?? []).map((r) => r.id ?? ''));
  const existingRates = new Set<string>(
    (Array.isArray(current?.limits?.rate) ? current.limits.rate : []).map((r) => r?.name ?? ''),
  );
  const proposals: Proposal[] = [];
  const rates = new Map<string, RateProposal>();
  const advice: string[] = [];
  const agent = report.agent;
  const add = (rule: RuleConfig, because: string) => {
    if (existing.has(rule.id) || proposals.some((p) => p.rule.id === rule.id)) return;
    proposals.push({ rule, because });
  };
  const addRate = (rate: ProposedRate, because: string) => {
    if (existingRates.has(rate.name)) return;
    const seen = rates.get(rate.name);
    if (!seen) {
      rates.set(rate.name, { rate, because: [because] });
      return;
    }
    // A loop and a cost spike on the same type: one limit, the tighter figure for each window.
    for (const [window, limit] of Object.entries(rate.windows)) {
      seen.rate.windows[window] = Math.min(seen.rate.windows[window] ?? limit, limit);
    }
    seen.because.push(because);
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
    const rate = rateFor(report, a, kind, type);
    if (rate && 'advice' in rate) advice.push(rate.advice);
    else if (rate) addRate(rate.rate, rate.because);
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

  const ruleNodes = proposals.map((p) => doc.createNode(p.rule) as Node);
  const rateNodes = [...rates.values()].map((p) => rateNode(doc, p));
  const changed = ruleNodes.length > 0 || rateNodes.length > 0;
  const after = changed ? edit(policyText, doc, ruleNodes, rateNodes) : policyText;
  if (changed) parsePolicyText(after, `${policyFile} (proposed)`); // throws PolicyError if invalid
  const diff = changed
    ? createTwoFilesPatch(policyFile, policyFile, policyText, after, 'current', 'proposed')
    : '';
  return {
    proposals,
    rates: [...rates.values()],
    advice: [...new Set(advice)],
    before: policyText,
    after,
    diff,
  };
}

/**
 * The policy with the rules at the top of `rules` (deny-overrides evaluation makes position
 * irrelevant to the outcome; at the top they are easy to review) and the rate limits at the end
 * of `limits.rate`. Lines are inserted into the text when its layout allows, so the diff shows
 * only the additions; otherwise (flow collections on the way) the edited document is re-rendered,
 * which keeps comments but may respace other lines. A JSON policy is written back as JSON.
 */
function edit(text: string, doc: Document, rules: Node[], rates: Node[]): string {
  if (rules.length > 0) {
    const found: unknown = doc.get('rules', true);
    if (isSeq(found)) found.items.unshift(...rules);
    else doc.set('rules', seqOf(rules));
  }
  if (rates.length > 0) {
    let limits: unknown = doc.get('limits', true);
    if (!isMap(limits)) {
      // Absent, or `limits:` with nothing under it.
      limits = new YAMLMap();
      doc.set('limits', limits);
    }
    const map = limits as YAMLMap;
    const found: unknown = map.get('rate', true);
    if (isSeq(found)) found.items.push(...rates);
    else map.set('rate', seqOf(rates));
  }
  const json = jsonIndent(text);
  // A JSON policy stays JSON (it has no comments to keep).
  if (json !== undefined) return `${JSON.stringify(doc.toJS(), null, json)}\n`;
  const rendered = doc.toString();
  let spliced: string | undefined = text;
  if (rules.length > 0) spliced = insertIntoSeq(spliced, ['rules'], rules, 'start');
  if (rates.length > 0 && spliced !== undefined)
    spliced = insertIntoSeq(spliced, ['limits', 'rate'], rates, 'end');
  // INVARIANT: the inserted text means exactly what the edited document means, or it is not used.
  return spliced !== undefined && sameYamlValue(spliced, rendered) ? spliced : rendered;
}

/** The indentation of `text` when it is a JSON object, else undefined. */
function jsonIndent(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  } catch {
    return undefined;
  }
  return /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
}

function seqOf(items: Node[]): YAMLSeq {
  const seq = new YAMLSeq();
  seq.items.push(...items);
  return seq;
}

/** A `limits.rate` entry, compact (`scope`, `match` and `windows` on one line each), with why. */
function rateNode(doc: Document, p: RateProposal): Node {
  const node = doc.createNode(p.rate) as YAMLMap;
  for (const key of ['scope', 'match', 'windows']) {
    const inner = node.get(key, true);
    if (isMap(inner) || isSeq(inner)) inner.flow = true;
  }
  // Inside a flow collection (a JSON policy, `limits: { … }`) a comment renders badly; the name says it there.
  const flow = [doc.contents, doc.get('limits', true), doc.getIn(['limits', 'rate'], true)].some(
    (n) => (isMap(n) || isSeq(n)) && n.flow,
  );
  if (!flow) {
    node.commentBefore = [' proposed by warden incident prevent:', ...p.because.map((b) => `   ${b}`)].join(
      '\n',
    );
  }
  return node;
}

function slug(s: string): string {
  return s
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}
