import { durationMs } from '../policy/schema.js';
import type { RateRuleConfig } from '../policy/sections/limits.js';
import type { IncidentReport } from './report.js';

/** A `limits.rate` entry as `warden incident prevent` writes it: one agent, one action type. */
export type ProposedRate = Pick<RateRuleConfig, 'windows'> & {
  name: string;
  scope: ['agent', 'type'];
  match: { agent: string; type: string };
};

type Anomaly = IncidentReport['anomalies'][number];

/**
 * The deterministic name of the rate limit proposed for `agent` and `type`, so that running
 * `prevent` again finds it in the policy. Characters a limit name cannot hold become `-`.
 */
export function rateName(agent: string, type: string): string {
  const part = (s: string) => s.replace(/[^a-zA-Z0-9_.-]+/g, '-');
  return `prevent-${part(agent)}-${part(type)}`;
}

/**
 * The rate limit that would have slowed the anomaly down, from what the report observed: the
 * number of actions of `type` in the anomaly's window, halved (rounded down, at least 1), over
 * the same window, so the proposed limit is below the observed rate.
 *
 * - **loop**: the observed number is the anomaly's `repeats` (the same action that many times
 *   within `window`; counted from the timeline, as below, when the report lacks it); any limit
 *   below it would have stopped the loop earlier.
 * - **cost spike**: the anomaly counts dollars, not calls, so the observed number is the agent's
 *   admitted (allowed or asked) decisions of `type` in the report's timeline within `window`
 *   before the anomaly; halving them halves that type's share of the spend.
 *
 * A failure rate is a ratio over all of the agent's actions, which a cap on one type's calls does
 * not lower: it gets no rate limit (its ask rule stands). Returns `advice` when the anomaly is a
 * loop or a cost spike but the figures cannot be read, or the agent or type holds `*`, which a
 * limit's `match` would read as a wildcard (matching more than this agent and type).
 */
export function rateFor(
  report: IncidentReport,
  anomaly: Anomaly,
  kind: string,
  type: string,
): { rate: ProposedRate; because: string } | { advice: string } | undefined {
  if (kind !== 'loop' && kind !== 'cost-spike') return undefined;
  const agent = report.agent;
  const window = windowLabel(anomaly.details?.window);
  const observed =
    window === undefined
      ? undefined
      : kind === 'loop' && isCount(anomaly.details?.repeats)
        ? anomaly.details.repeats
        : admittedIn(report, type, anomaly.ts, window);
  const advise = (why: string) => ({
    advice: `rate-limit \`${type}\` for agent \`${agent}\` after ${anomaly.code} (${anomaly.message}); not proposed: ${why}`,
  });
  if (agent.includes('*') || type.includes('*')) {
    return advise("`*` in a limit's `match` is a wildcard, so no limit can name exactly this agent and type");
  }
  if (window === undefined) return advise('the report gives no window for the anomaly');
  if (observed === undefined || observed < 1) {
    return advise(`the report holds no count of \`${type}\` within ${window} before the anomaly`);
  }
  const limit = Math.max(1, Math.floor(observed / 2));
  return {
    rate: {
      name: rateName(agent, type),
      scope: ['agent', 'type'],
      match: { agent, type },
      windows: { [window]: limit },
    },
    because: `${anomaly.code} at ${anomaly.ts}: ${observed} \`${type}\` within ${window} → at most ${limit} per ${window}`,
  };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/** A monitoring window (`1m`, `1 m`, or seconds as a number) as a `limits.rate` window key. */
function windowLabel(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    return Number.isInteger(value) ? `${value}s` : `${Math.ceil(value * 1000)}ms`;
  }
  if (typeof value !== 'string') return undefined;
  const label = value.replace(/\s+/g, '');
  return /^\d+(\.\d+)?(ms|s|m|h|d)$/.test(label) && durationMs(label) > 0 ? label : undefined;
}

/** Decisions of `type` in the timeline that were let through (allow or ask) in `(at - window, at]`. */
function admittedIn(report: IncidentReport, type: string, at: string, window: string): number | undefined {
  const end = Date.parse(at);
  if (Number.isNaN(end)) return undefined;
  const start = end - durationMs(window);
  let n = 0;
  for (const e of report.timeline ?? []) {
    if (e.type !== 'decision' || e.actionType !== type) continue;
    if (e.effect !== 'allow' && e.effect !== 'ask') continue;
    const t = Date.parse(e.ts);
    if (t > start && t <= end) n++;
  }
  return n;
}
