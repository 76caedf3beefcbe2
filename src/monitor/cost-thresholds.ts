import type { AnomaliesConfig } from '../policy/sections/monitor.js';

/** One absolute threshold crossed: which, by how much. */
export interface CostCrossing {
  scope: 'action' | 'session' | 'hour';
  /** What was spent in that scope (this action, the session so far, the last hour). */
  usd: number;
  limitUsd: number;
  session?: string;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;
const MAX_SESSIONS = 10_000;

/**
 * Absolute spend thresholds per agent (`monitoring.anomalies.costThreshold`), beside the relative
 * cost spike: one action that cost more than `perActionUsd`, a session whose spend passes
 * `perSessionUsd`, or more than `perHourUsd` within the last hour. A session fires once; the hour
 * fires at most once an hour. Figures are dollars as the spend ledger counts them.
 */
export class CostThresholds {
  /** Per agent: spend per minute slot for the hour rule, spend per session, when the hour rule may fire again. */
  readonly #agents = new Map<
    string,
    { minutes: Map<number, number>; sessions: Map<string, number>; hourQuietUntil: number }
  >();

  constructor(private readonly config: AnomaliesConfig['costThreshold']) {}

  /** Adds what one action of `agent` spent at `t`; returns the thresholds it crossed. */
  spent(agent: string, t: number, usd: number, session: string | undefined): CostCrossing[] {
    const cfg = this.config;
    if (!cfg.enabled) return [];
    let state = this.#agents.get(agent);
    if (!state) {
      state = { minutes: new Map(), sessions: new Map(), hourQuietUntil: 0 };
      this.#agents.set(agent, state);
    }
    const out: CostCrossing[] = [];
    if (cfg.perActionUsd !== undefined && usd > cfg.perActionUsd)
      out.push({ scope: 'action', usd, limitUsd: cfg.perActionUsd, ...(session ? { session } : {}) });
    if (cfg.perSessionUsd !== undefined && session !== undefined) {
      const before = state.sessions.get(session) ?? 0;
      const after = before + usd;
      state.sessions.delete(session); // re-inserted last: the oldest session is dropped first
      state.sessions.set(session, after);
      if (state.sessions.size > MAX_SESSIONS)
        state.sessions.delete(state.sessions.keys().next().value as string);
      if (before <= cfg.perSessionUsd && after > cfg.perSessionUsd)
        out.push({ scope: 'session', usd: after, limitUsd: cfg.perSessionUsd, session });
    }
    if (cfg.perHourUsd !== undefined) {
      const slot = Math.floor(t / MINUTE);
      state.minutes.set(slot, (state.minutes.get(slot) ?? 0) + usd);
      let hour = 0;
      for (const [s, v] of state.minutes) {
        if (s <= slot - 60) state.minutes.delete(s);
        else hour += v;
      }
      if (hour > cfg.perHourUsd && t >= state.hourQuietUntil) {
        state.hourQuietUntil = t + HOUR;
        out.push({ scope: 'hour', usd: hour, limitUsd: cfg.perHourUsd });
      }
    }
    return out;
  }
}

/** The words an alert uses for a crossing. */
export function crossingMessage(agent: string, c: CostCrossing): string {
  const spent = `$${c.usd.toFixed(2)}`;
  const limit = `$${c.limitUsd.toFixed(2)}`;
  if (c.scope === 'action')
    return `one action of agent \`${agent}\` cost ${spent}, over the ${limit} per action`;
  if (c.scope === 'session')
    return `session \`${c.session}\` of agent \`${agent}\` has spent ${spent}, over the ${limit} per session`;
  return `agent \`${agent}\` spent ${spent} within the last hour, over the ${limit} per hour`;
}
