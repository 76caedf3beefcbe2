import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SandboxRun } from '../sandbox/sandbox.js';
import type { ApprovalStore } from '../store/store.js';

/** Stage latencies are microseconds to milliseconds; approvals and executions take longer. */
const STAGE_BUCKETS = [1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 0.025, 0.1, 0.5];
const ACTION_BUCKETS = [1e-4, 5e-4, 1e-3, 5e-3, 0.025, 0.1, 0.5, 1, 5, 30, 120, 900];

/**
 * Warden's Prometheus metrics, one registry per Warden (so two in one process do not clash).
 * Other parts add theirs with {@link Metrics.counter} / {@link Metrics.gauge}. The sandbox counters
 * are fed through {@link Metrics.sandboxRun}, which the monitor registers with the sandbox.
 *
 * @example
 * const metrics = new Metrics();
 * const hits = metrics.counter('warden_limit_hits_total', 'limit denials', ['limit']);
 * hits.inc({ limit: 'rate' });
 * const text = await metrics.text();
 */
export class Metrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'mode' | 'effect' | 'risk' | 'reason'>;
  readonly stageSeconds: Histogram<'stage'>;
  readonly decisionSeconds: Histogram<'mode'>;
  readonly actionSeconds: Histogram<'status'>;
  readonly results: Counter<'status'>;
  readonly spendUsd: Counter<'agent'>;
  readonly kills: Counter<'scope'>;
  readonly overrides: Counter<'change'>;
  readonly anomalies: Counter<'code' | 'agent'>;
  readonly alerts: Counter<'sink' | 'outcome'>;
  readonly sandboxRuns: Counter<'backend' | 'outcome'>;
  readonly sandboxViolations: Counter<'backend' | 'kind'>;

  constructor(options: { approvals?: ApprovalStore; defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.decisions = new Counter({
      name: 'warden_decisions_total',
      help: 'Decisions by mode (check, decide, run), effect, risk and first reason code',
      labelNames: ['mode', 'effect', 'risk', 'reason'],
      registers,
    });
    this.stageSeconds = new Histogram({
      name: 'warden_stage_duration_seconds',
      help: 'Time spent in each pipeline stage',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.decisionSeconds = new Histogram({
      name: 'warden_decision_duration_seconds',
      help: 'Time from input to final decision (recorded, for decide and run)',
      labelNames: ['mode'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.actionSeconds = new Histogram({
      name: 'warden_action_duration_seconds',
      help: 'Time of a whole run(): decision, approval wait and execution',
      labelNames: ['status'],
      buckets: ACTION_BUCKETS,
      registers,
    });
    this.results = new Counter({
      name: 'warden_results_total',
      help: 'Action outcomes (result records) by status',
      labelNames: ['status'],
      registers,
    });
    this.spendUsd = new Counter({
      name: 'warden_spend_usd_total',
      help: "Money spent by executed actions: the result's actual cost (provider usage priced, or reported cost.usd), else the decision's estimate",
      labelNames: ['agent'],
      registers,
    });
    this.kills = new Counter({
      name: 'warden_kills_total',
      help: 'Kill-switch stops (scope agent or all)',
      labelNames: ['scope'],
      registers,
    });
    this.overrides = new Counter({
      name: 'warden_overrides_total',
      help: 'Incident overrides: revoke, restore, approve-all, clear-approve-all, tighten, clear-tighten',
      labelNames: ['change'],
      registers,
    });
    this.anomalies = new Counter({
      name: 'warden_anomalies_total',
      help: 'Anomalies detected, by code and agent',
      labelNames: ['code', 'agent'],
      registers,
    });
    this.alerts = new Counter({
      name: 'warden_alerts_total',
      help: 'Alert deliveries by sink and outcome (delivered, retried, undeliverable, deduplicated, suppressed)',
      labelNames: ['sink', 'outcome'],
      registers,
    });
    this.sandboxRuns = new Counter({
      name: 'warden_sandbox_runs_total',
      help: 'Sandboxed shell.exec and code.exec runs by backend and outcome (ok, failed, limit, aborted, error)',
      labelNames: ['backend', 'outcome'],
      registers,
    });
    this.sandboxViolations = new Counter({
      name: 'warden_sandbox_violations_total',
      help: 'Sandbox limits hit, by backend and kind (memory, timeout, output-cap, pids, file-size)',
      labelNames: ['backend', 'kind'],
      registers,
    });
    const approvals = options.approvals;
    if (approvals) {
      let pending = { count: 0, oldest: 0 };
      const read = async () => {
        const list = await approvals.list({ status: 'pending', limit: 10_000 });
        const first = list[0];
        pending = {
          count: list.length,
          oldest: first ? Math.max(0, (Date.now() - Date.parse(first.createdAt)) / 1000) : 0,
        };
      };
      // Both gauges are read from the store at scrape time; one read serves the pair.
      new Gauge({
        name: 'warden_approvals_pending',
        help: 'Approval requests waiting for a vote',
        registers,
        async collect() {
          await read();
          this.set(pending.count);
        },
      });
      new Gauge({
        name: 'warden_approvals_pending_oldest_age_seconds',
        help: 'Age of the oldest pending approval request (0 when none)',
        registers,
        collect() {
          this.set(pending.oldest);
        },
      });
    }
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'warden_' });
  }

  // Label children cached by value: prom-client hashes a label object on every call otherwise.
  readonly #decisionChildren = new Map<string, { inc(): void }>();
  readonly #stageChildren = new Map<string, { observe(v: number): void }>();
  readonly #decisionTimeChildren = new Map<string, { observe(v: number): void }>();

  /** Counts one decision (cached child per label set). */
  decision(mode: string, effect: string, risk: string, reason: string): void {
    const key = `${mode}\u0000${effect}\u0000${risk}\u0000${reason}`;
    let child = this.#decisionChildren.get(key);
    if (!child) {
      child = this.decisions.labels({ mode, effect, risk, reason });
      if (this.#decisionChildren.size < 10_000) this.#decisionChildren.set(key, child);
    }
    child.inc();
  }

  stage(stage: string): { observe(v: number): void } {
    let child = this.#stageChildren.get(stage);
    if (!child) {
      child = this.stageSeconds.labels({ stage });
      this.#stageChildren.set(stage, child);
    }
    return child;
  }

  decisionTime(mode: string): { observe(v: number): void } {
    let child = this.#decisionTimeChildren.get(mode);
    if (!child) {
      child = this.decisionSeconds.labels({ mode });
      this.#decisionTimeChildren.set(mode, child);
    }
    return child;
  }

  /** Counts one sandboxed run and each limit it hit (labels: backend, outcome and kind; all bounded). */
  sandboxRun(run: SandboxRun): void {
    this.sandboxRuns.inc({ backend: run.backend, outcome: run.outcome });
    for (const kind of run.violations) this.sandboxViolations.inc({ backend: run.backend, kind });
  }

  /** Registers (or returns the already registered) counter `name`. */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Counter<L>;
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** Registers (or returns the already registered) gauge `name`. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Gauge<L>;
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
