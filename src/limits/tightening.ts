import { durationMs } from '../policy/schema.js';
import type { LimitsConfig } from '../policy/sections/limits.js';
import type { OverrideState, Overrides } from '../store/overrides.js';
import { compileMatch } from './subject.js';

/** One window of a counter: at most `limit` actions in `ms`. */
export interface CounterWindow {
  label: string;
  ms: number;
  limit: number;
  /** Token bucket of this capacity instead of a sliding log. */
  bucket?: { capacity: number };
}

/** Where tightened agents are read from: the Warden's incident overrides. */
export type TightenedAgents = Pick<Overrides, 'tightened'>;

/** What a tightener needs to record its response the way the monitor records the others. */
export interface TightenRequest {
  /** The actor to record (`warden:monitor`). */
  by: string;
  /** `anomaly.<kind>: <message>`. */
  reason: string;
  /** The Warden's incident overrides: a `tighten` override reaches every process and survives a restart. */
  overrides: Overrides;
}

/** The state key name of the emergency limit; a rule cannot be named so (names start with a letter or digit). */
export const EMERGENCY = '_emergency';

/**
 * The `tighten-limits` anomaly response, on the limits side (`limits.tighten`).
 *
 * The state is not kept here: a tightened agent is a `tighten` incident override (an audit
 * record), so it reaches every process sharing the store, survives a restart, and is cleared the
 * way other overrides are (`warden incident restore`). This object reads that state for the rate
 * limiters, and gives the monitor the tightener that records it.
 *
 * While agent A is tightened, every rate window that counts one of A's actions admits
 * `limit ÷ factor` (rounded down, at least 1) for A's actions, on the same counters (what A used
 * before still counts); other agents see the policy's limits. A's actions that no rate rule
 * counts go through the emergency limit instead (`limits.tighten.emergency`, per agent).
 */
export class Tightening {
  readonly factor: number;
  /** The emergency limit's windows, shortest first; undefined when `emergency: false`. */
  readonly emergency: CounterWindow[] | undefined;
  readonly #ruleApplies: ((agent: string) => boolean)[];
  #agents: TightenedAgents | undefined;

  constructor(config: LimitsConfig) {
    this.factor = config.tighten.factor;
    const windows = config.tighten.emergency;
    this.emergency =
      windows === false
        ? undefined
        : Object.entries(windows)
            .map(([label, limit]) => ({ label, ms: durationMs(label), limit }))
            .sort((a, b) => a.ms - b.ms);
    this.#ruleApplies = config.rate.map((rule) => {
      const applies = compileMatch({ agent: rule.match.agent });
      return (agent: string) => applies({ agent, type: 'x.y', params: {}, id: '' });
    });
  }

  /** Reads tightened agents from `agents` from now on (`createWarden` passes its overrides). */
  follow(agents: TightenedAgents): void {
    this.#agents = agents;
  }

  /** The tightening of `agent` in force, if any. */
  of(agent: string): OverrideState | undefined {
    return this.#agents?.tightened(agent);
  }

  /** `windows` as they admit for a tightened agent. */
  windows(windows: readonly CounterWindow[]): CounterWindow[] {
    return windows.map((w) => ({
      ...w,
      limit: this.divide(w.limit),
      ...(w.bucket ? { bucket: { capacity: this.divide(w.bucket.capacity) } } : {}),
    }));
  }

  divide(limit: number): number {
    return Math.max(1, Math.floor(limit / this.factor));
  }

  /**
   * Whether tightening `agent` would slow it down: some rate rule can count its actions, or the
   * emergency limit is on. When not, the monitor falls back to `approve-all`.
   */
  canTighten(agent: string): boolean {
    return this.emergency !== undefined || this.#ruleApplies.some((applies) => applies(agent));
  }

  /** Why a limit is lower than the policy says, and how it ends: appended to a denial's message. */
  note(agent: string, state: OverrideState): string {
    const cause = state.anomaly
      ? `after an anomaly (${state.reason || state.anomaly})`
      : `by ${state.by}${state.reason ? ` (${state.reason})` : ''}`;
    return `the rate limits of agent \`${agent}\` were tightened ${cause} at ${state.at}; an operator lifts this with \`warden incident restore --agent ${agent}\``;
  }

  /** The monitor's handler for `tighten-limits`: records a `tighten` override for the agent. */
  readonly tighten = async (
    agent: string,
    anomaly: { code: string },
    response: TightenRequest,
  ): Promise<boolean> => {
    if (!this.canTighten(agent)) return false;
    // Already tightened (by this anomaly's twin, or another process): it is tightened all the same.
    await response.overrides.change(agent, 'tighten', response.by, response.reason, {
      anomaly: anomaly.code,
    });
    return true;
  };
}
