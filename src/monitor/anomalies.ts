// One file because the seven detectors share one per-agent state and one quiet-period rule.
import { posix } from 'node:path';
import { canonicalJson, sha256Hex } from '../audit/canonical-json.js';
import { durationMs } from '../policy/schema.js';
import type { AnomaliesConfig, AnomalyResponse } from '../policy/sections/monitor.js';
import type { AuditRecord } from '../store/store.js';
import { CostThresholds, crossingMessage } from './cost-thresholds.js';
import type { DecisionData } from './spend.js';

export type AnomalyCode =
  | 'anomaly.cost-spike'
  | 'anomaly.cost-threshold'
  | 'anomaly.failure-rate'
  | 'anomaly.denial-burst'
  | 'anomaly.novel-action'
  | 'anomaly.novel-resource'
  | 'anomaly.loop';

/** One detection: becomes an `anomaly` audit record, an alert, and maybe a response. */
export interface Anomaly {
  code: AnomalyCode;
  agent: string;
  /** The action that tipped it over. */
  actionId?: string;
  severity: 'info' | 'warning' | 'critical';
  response: AnomalyResponse;
  message: string;
  details: Record<string, unknown>;
}

/** Sums of values in time slots; windows are read as sums over whole slots. Keeps `keep` slots. */
class RollingSum {
  readonly #slots = new Map<number, number>();
  constructor(
    private readonly slotMs: number,
    private readonly keep: number,
  ) {}

  add(t: number, value: number): void {
    const slot = Math.floor(t / this.slotMs);
    this.#slots.set(slot, (this.#slots.get(slot) ?? 0) + value);
    if (this.#slots.size > this.keep * 2) {
      for (const key of this.#slots.keys()) if (key <= slot - this.keep) this.#slots.delete(key);
    }
  }

  /** Sum over `(from, to]`, at slot resolution. */
  sum(from: number, to: number): number {
    const a = Math.floor(from / this.slotMs);
    const b = Math.floor(to / this.slotMs);
    let total = 0;
    for (const [slot, v] of this.#slots) if (slot > a && slot <= b) total += v;
    return total;
  }
}

interface AgentState {
  firstSeen: number;
  spend: RollingSum;
  results: RollingSum;
  failures: RollingSum;
  denials: RollingSum;
  decisions: number;
  types: Set<string>;
  resources: Set<string>;
  repeats: Map<string, number[]>;
  /** Detector or loop key → time before which it does not fire again. */
  quietUntil: Map<string, number>;
}

const MAX_SET = 10_000;
/** Denials that are Warden's own response to an incident are not a burst to alert on. */
const RESPONSE_CODES = new Set(['killswitch.agent-killed', 'killswitch.all-killed', 'permissions.revoked']);

/**
 * Anomaly detection over the audit stream, per agent. Every detector has a window and a quiet
 * period of one window after it fires, so a runaway agent raises each anomaly once per window.
 *
 * - **cost spike**: spend in the last `window` above `factor ×` the baseline. The baseline is the
 *   agent's average spend per window over the `baselineWindows` windows before the current one,
 *   counting only windows since the agent was first seen; it is never below `minBaselineUsd`, and
 *   while not one whole window of history exists it *is* `minBaselineUsd`.
 * - **failure rate**: failed, timed-out or aborted results over all results in `window`, above
 *   `threshold`, once at least `minSamples` results are in the window.
 * - **denial burst**: at least `count` denials in `window` (kill-switch and revocation denials,
 *   which are Warden's own response, are not counted).
 * - **novelty**: after `learningActions` decisions, an action type or resource (fs directory,
 *   HTTP host) the agent never used before.
 * - **loop**: the same canonical action (type + params, same session) `repeats` times in `window`.
 */
export class AnomalyDetector {
  readonly #agents = new Map<string, AgentState>();
  readonly #cost: { factor: number; windowMs: number; windows: number; floor: number };
  readonly #failureMs: number;
  readonly #denialMs: number;
  readonly #loopMs: number;
  readonly #thresholds: CostThresholds;
  /** Action id → session, for the per-session threshold (results carry no session). */
  readonly #sessions = new Map<string, string>();

  constructor(private readonly config: AnomaliesConfig) {
    this.#thresholds = new CostThresholds(config.costThreshold);
    const c = config.costSpike;
    this.#cost = {
      factor: c.factor,
      windowMs: durationMs(c.window),
      windows: c.baselineWindows,
      floor: c.minBaselineUsd,
    };
    this.#failureMs = durationMs(config.failureRate.window);
    this.#denialMs = durationMs(config.denialBurst.window);
    this.#loopMs = durationMs(config.loop.window);
  }

  /** Feeds one record (and what it spent, from the SpendLedger); returns what it revealed. */
  observe(record: AuditRecord, spentUsd?: number): Anomaly[] {
    if (!this.config.enabled || !record.agent) return [];
    if (record.type !== 'decision' && record.type !== 'result') return [];
    const t = Date.parse(record.ts);
    const state = this.#state(record.agent, t);
    const found: Anomaly[] = [];
    if (record.type === 'decision') this.#decision(record, state, t, found);
    else this.#result(record, state, t, found);
    if (spentUsd !== undefined && spentUsd > 0) this.#spend(record, state, t, spentUsd, found);
    return found;
  }

  #state(agent: string, t: number): AgentState {
    let s = this.#agents.get(agent);
    if (!s) {
      const costSlot = this.#cost.windowMs / 10;
      s = {
        firstSeen: t,
        spend: new RollingSum(costSlot, (this.#cost.windows + 2) * 10),
        results: new RollingSum(this.#failureMs / 10, 12),
        failures: new RollingSum(this.#failureMs / 10, 12),
        denials: new RollingSum(this.#denialMs / 10, 12),
        decisions: 0,
        types: new Set(),
        resources: new Set(),
        repeats: new Map(),
        quietUntil: new Map(),
      };
      this.#agents.set(agent, s);
    }
    return s;
  }

  #fire(state: AgentState, key: string, t: number, quietMs: number): boolean {
    if ((state.quietUntil.get(key) ?? 0) > t) return false;
    state.quietUntil.set(key, t + quietMs);
    return true;
  }

  #decision(record: AuditRecord, state: AgentState, t: number, found: Anomaly[]): void {
    const data = record.data as DecisionData;
    const action = data.action;
    if (!action || action.invalid || !action.type) return;
    const agent = record.agent as string;
    const effect = data.decision?.effect;
    const cfg = this.config;

    if (effect === 'deny' && cfg.denialBurst.enabled) {
      const code = data.decision?.reasons?.[0]?.code ?? '';
      if (!RESPONSE_CODES.has(code)) {
        state.denials.add(t, 1);
        const n = state.denials.sum(t - this.#denialMs, t);
        if (n >= cfg.denialBurst.count && this.#fire(state, 'denials', t, this.#denialMs)) {
          found.push(
            this.#anomaly('anomaly.denial-burst', agent, record, cfg.denialBurst, {
              message: `agent \`${agent}\` was denied ${n} times within ${cfg.denialBurst.window}`,
              details: { denials: n, window: cfg.denialBurst.window, lastReason: code },
            }),
          );
        }
      }
    }

    if (action.session && record.actionId && cfg.costThreshold.perSessionUsd !== undefined) {
      this.#sessions.set(record.actionId, action.session);
      if (this.#sessions.size > MAX_SET) this.#sessions.delete(this.#sessions.keys().next().value as string);
    }

    state.decisions++;
    const resource = resourceOf(action.type, action.params);
    if (cfg.novelty.enabled && state.decisions > cfg.novelty.learningActions) {
      if (!state.types.has(action.type)) {
        found.push(
          this.#anomaly('anomaly.novel-action', agent, record, cfg.novelty, {
            message: `agent \`${agent}\` used \`${action.type}\` for the first time (after ${state.decisions - 1} actions)`,
            details: { type: action.type, known: [...state.types].slice(0, 50) },
          }),
        );
      } else if (resource && !state.resources.has(resource)) {
        found.push(
          this.#anomaly('anomaly.novel-resource', agent, record, cfg.novelty, {
            message: `agent \`${agent}\` touched \`${resource}\` for the first time (after ${state.decisions - 1} actions)`,
            details: { type: action.type, resource },
          }),
        );
      }
    }
    if (state.types.size < MAX_SET) state.types.add(action.type);
    if (resource && state.resources.size < MAX_SET) state.resources.add(resource);

    if (cfg.loop.enabled) {
      const canonical = `${action.session ?? ''}\n${action.type}\n${canonicalJson(action.params ?? {})}`;
      // Short keys are used as they are; long ones are hashed so the table stays small.
      const key = canonical.length <= 512 ? canonical : sha256Hex(canonical);
      const since = t - this.#loopMs;
      const seen = state.repeats.get(key);
      const times = seen ? seen.filter((x) => x > since) : [];
      times.push(t);
      if (seen) state.repeats.delete(key); // re-inserted last: the map stays in order of last use
      state.repeats.set(key, times);
      if (state.repeats.size > MAX_SET) this.#pruneRepeats(state, since);
      if (times.length >= cfg.loop.repeats && this.#fire(state, `loop:${key}`, t, this.#loopMs)) {
        found.push(
          this.#anomaly('anomaly.loop', agent, record, cfg.loop, {
            message: `agent \`${agent}\` repeated the same \`${action.type}\` ${times.length} times within ${cfg.loop.window}`,
            details: {
              type: action.type,
              repeats: times.length,
              window: cfg.loop.window,
              digest: sha256Hex(canonical).slice(0, 16),
              ...(action.session ? { session: action.session } : {}),
            },
          }),
        );
      }
    }
  }

  /** Keeps the repeat table bounded: drops keys idle for a window, then the oldest, down to half the cap. */
  #pruneRepeats(state: AgentState, since: number): void {
    for (const [key, times] of state.repeats) if ((times.at(-1) ?? 0) <= since) state.repeats.delete(key);
    if (state.repeats.size <= MAX_SET / 2) return;
    for (const key of state.repeats.keys()) {
      state.repeats.delete(key);
      if (state.repeats.size <= MAX_SET / 2) break;
    }
  }

  #result(record: AuditRecord, state: AgentState, t: number, found: Anomaly[]): void {
    const cfg = this.config.failureRate;
    if (!cfg.enabled) return;
    const status = (record.data as { status?: string }).status;
    state.results.add(t, 1);
    if (status === 'failed' || status === 'timeout' || status === 'aborted') state.failures.add(t, 1);
    const total = state.results.sum(t - this.#failureMs, t);
    if (total < cfg.minSamples) return;
    const failed = state.failures.sum(t - this.#failureMs, t);
    const rate = failed / total;
    if (rate > cfg.threshold && this.#fire(state, 'failures', t, this.#failureMs)) {
      const agent = record.agent as string;
      found.push(
        this.#anomaly('anomaly.failure-rate', agent, record, cfg, {
          message: `${Math.round(rate * 100)}% of agent \`${agent}\`'s last ${total} actions failed (threshold ${Math.round(cfg.threshold * 100)}%)`,
          details: { failed, total, rate, threshold: cfg.threshold, window: cfg.window },
        }),
      );
    }
  }

  #spend(record: AuditRecord, state: AgentState, t: number, usd: number, found: Anomaly[]): void {
    const agent = record.agent as string;
    const session = record.actionId ? this.#sessions.get(record.actionId) : undefined;
    if (record.type === 'result' && record.actionId) this.#sessions.delete(record.actionId);
    for (const c of this.#thresholds.spent(agent, t, usd, session))
      found.push(
        this.#anomaly('anomaly.cost-threshold', agent, record, this.config.costThreshold, {
          message: crossingMessage(agent, c),
          details: {
            scope: c.scope,
            usd: round(c.usd),
            limitUsd: c.limitUsd,
            ...(c.session ? { session: c.session } : {}),
          },
        }),
      );
    const cfg = this.config.costSpike;
    if (!cfg.enabled) return;
    const { windowMs, windows, floor, factor } = this.#cost;
    state.spend.add(t, usd);
    const current = state.spend.sum(t - windowMs, t);
    const history = Math.min(windows, Math.floor((t - windowMs - state.firstSeen) / windowMs));
    const average =
      history >= 1 ? state.spend.sum(t - windowMs * (history + 1), t - windowMs) / history : undefined;
    const baseline = Math.max(floor, average ?? 0);
    if (current > factor * baseline && this.#fire(state, 'cost', t, windowMs)) {
      const agent = record.agent as string;
      found.push(
        this.#anomaly('anomaly.cost-spike', agent, record, cfg, {
          message: `agent \`${agent}\` spent $${current.toFixed(2)} within ${cfg.window}, over ${factor}× its baseline of $${baseline.toFixed(2)}${average === undefined ? ' (no history yet: the minimum baseline)' : ''}`,
          details: {
            windowUsd: round(current),
            baselineUsd: round(baseline),
            historyWindows: Math.max(0, history),
            factor,
            window: cfg.window,
          },
        }),
      );
    }
  }

  #anomaly(
    code: AnomalyCode,
    agent: string,
    record: AuditRecord,
    cfg: { severity: Anomaly['severity']; response: AnomalyResponse },
    what: { message: string; details: Record<string, unknown> },
  ): Anomaly {
    return {
      code,
      agent,
      ...(record.actionId ? { actionId: record.actionId } : {}),
      severity: cfg.severity,
      response: cfg.response,
      message: what.message,
      details: what.details,
    };
  }
}

/** The resource an action touches, for novelty: an fs directory, an HTTP host. */
function resourceOf(type: string, params: Record<string, unknown> | undefined): string | undefined {
  if (type.startsWith('fs.') && typeof params?.path === 'string') return `path:${posix.dirname(params.path)}`;
  if (type === 'http.request' && typeof params?.url === 'string') {
    try {
      return `host:${new URL(params.url).host}`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
