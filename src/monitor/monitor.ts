import type { AuditLog } from '../audit/audit-log.js';
import type { DecisionEvent, PipelineObserver, ResultEvent } from '../contract/observer.js';
import { splitRecord } from '../contract/records.js';
import type { KillSwitch } from '../killswitch/kill-switch.js';
import type { TightenRequest } from '../limits/tightening.js';
import type { MonitoringConfig } from '../policy/sections/monitor.js';
import { MemoryAlertStore } from '../store/memory/memory-alerts.js';
import type { Overrides } from '../store/overrides.js';
import type { AuditRecord, Store } from '../store/store.js';
import { AlertDispatcher } from './alerts/dispatcher.js';
import { incidentAlert } from './alerts/incident-alert.js';
import { createSink } from './alerts/sinks.js';
import { type Anomaly, AnomalyDetector } from './anomalies.js';
import { createDecisionLogs, type DecisionLogs } from './logs.js';
import { Metrics } from './metrics.js';
import { SpendLedger } from './spend.js';

export type { TightenRequest } from '../limits/tightening.js';

import { type ActionTracer, createActionTracer } from './traces.js';

/**
 * Handles the `tighten-limits` response: returns true when it tightened the agent's limits.
 * `createWarden` registers the limits section's (a `tighten` override, see `limits.tighten`)
 * unless the policy has nothing to tighten; others can be added with {@link Monitor.onTighten}.
 * When none returns true, `tighten-limits` falls back to `approve-all`.
 */
export type LimitTightener = (
  agent: string,
  anomaly: Anomaly,
  request: TightenRequest,
) => Promise<boolean> | boolean;

/** What the monitor follows and acts on: a Warden's audit stream, store, kill switch and overrides. */
export interface MonitoredWarden {
  readonly audit: AuditLog;
  readonly store: Store;
  readonly kills: KillSwitch;
  readonly overrides: Overrides;
}

/** The Monitor of `warden`, if its policy turned monitoring on (the same as `warden.monitor`). */
export function monitorOf(warden: { readonly monitor?: Monitor | undefined }): Monitor | undefined {
  return warden.monitor;
}

/** How many audit records are replayed at start to rebuild baselines and learned behaviour. */
const SEED_RECORDS = 5000;

/**
 * Monitoring for one Warden: it observes the pipeline (logs, metrics, traces) and follows the
 * audit stream (spend, results, kills, overrides → metrics; anomaly detection → `anomaly`
 * records, alerts and automatic responses).
 */
export class Monitor implements PipelineObserver {
  readonly metrics: Metrics | undefined;
  readonly alerts: AlertDispatcher;
  readonly #logs: DecisionLogs | undefined;
  readonly #tracer: ActionTracer | undefined;
  readonly #detector: AnomalyDetector | undefined;
  readonly #ledger = new SpendLedger();
  readonly #tighteners: LimitTightener[] = [];
  readonly #pending = new Set<Promise<void>>();
  #warden: MonitoredWarden | undefined;
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  #deferred: (DecisionEvent | ResultEvent)[] = [];
  #flushing: NodeJS.Immediate | undefined;

  constructor(
    readonly config: MonitoringConfig,
    store: Store,
  ) {
    this.metrics = config.metrics.enabled ? new Metrics({ approvals: store.approvals }) : undefined;
    this.#logs = config.logs.enabled ? createDecisionLogs(config.logs) : undefined;
    this.#tracer = createActionTracer(config.traces);
    this.#detector = config.anomalies.enabled ? new AnomalyDetector(config.anomalies) : undefined;
    if (!store.alerts && config.alerts.sinks.length > 0) {
      process.stderr.write(
        `${JSON.stringify({ level: 'warn', msg: `the ${store.kind} store keeps no alert outbox; undelivered alerts are lost on restart` })}\n`,
      );
    }
    this.alerts = new AlertDispatcher(
      config.alerts.sinks.map(createSink),
      store.alerts ?? new MemoryAlertStore(),
      config.alerts,
      {
        ...(this.metrics ? { metrics: this.metrics } : {}),
        onError: (e) => report('alert delivery failed', e),
      },
    );
  }

  /** Registers a handler for the `tighten-limits` response. */
  onTighten(tightener: LimitTightener): void {
    this.#tighteners.push(tightener);
  }

  decided(e: DecisionEvent): void {
    this.#defer(e);
  }

  finished(e: ResultEvent): void {
    this.#defer(e);
  }

  /** Processes what the pipeline reported so far (metrics, logs, spans) now rather than on the next tick. */
  flushPending(): void {
    this.#drainNow();
  }

  #measureDecision(e: DecisionEvent): void {
    const m = this.metrics;
    if (!m) return;
    const d = e.decision;
    m.decision(e.mode, d.effect, d.risk, d.reasons[0]?.code ?? 'none');
    for (const s of e.stages) m.stage(s.stage).observe((s.end - s.start) / 1000);
    m.decisionTime(e.mode).observe((e.end - e.start) / 1000);
  }

  /**
   * Metrics, log lines and spans are produced on the next turn of the event loop, in one batch:
   * the caller gets its decision without waiting for them. The events already hold their timings;
   * a scrape or `idle()` processes what is pending first.
   */
  #defer(e: DecisionEvent | ResultEvent): void {
    this.#deferred.push(e);
    this.#flushing ??= setImmediate(() => this.#drain());
  }

  #drainNow(): void {
    if (this.#flushing) clearImmediate(this.#flushing);
    this.#drain();
  }

  #drain(): void {
    this.#flushing = undefined;
    const batch = this.#deferred;
    this.#deferred = [];
    for (const e of batch) {
      try {
        if ('decided' in e) {
          this.metrics?.actionSeconds.observe({ status: e.status }, (e.end - e.decided.start) / 1000);
          this.#logs?.result(e);
          this.#tracer?.finished(e);
        } else {
          this.#measureDecision(e);
          this.#logs?.decision(e);
          this.#tracer?.decided(e);
        }
      } catch (error) {
        report('logging or tracing an action failed', error);
      }
    }
  }

  /** Follows `warden`'s audit stream and starts alert delivery; `createWarden` calls it. */
  async attach(warden: MonitoredWarden): Promise<void> {
    this.#warden = warden;
    this.alerts.options.audit = warden.audit;
    if (this.#detector) {
      // Rebuild baselines and learned behaviour from recent history, without alerting on it.
      const recent = await warden.store.audit.query({ order: 'desc', limit: SEED_RECORDS });
      for (const record of recent.reverse())
        this.#detector.observe(record, this.#ledger.observe(record)?.usd);
    }
    this.#unsubscribe = warden.audit.onRecord((record) => this.#onRecord(record));
    this.alerts.start();
  }

  /** Resolves once anomalies raised so far are recorded, responded to and handed to the alert queue. */
  async idle(): Promise<void> {
    this.#drainNow();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await this.alerts.idle();
  }

  /** Exports the spans buffered so far (they are otherwise sent in batches, every second). */
  async flushTraces(): Promise<void> {
    this.#drainNow();
    await this.#tracer?.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.#drainNow();
    await this.idle().catch(() => undefined);
    await this.alerts.close();
    await this.#tracer?.close().catch((e: unknown) => report('trace export failed at shutdown', e));
    await this.#logs?.close();
  }

  #onRecord(stored: AuditRecord): void {
    // A combined record (decision + result) is counted as both, in that order.
    for (const record of splitRecord(stored)) this.#onView(record);
  }

  #onView(record: AuditRecord): void {
    const spent = this.#ledger.observe(record);
    const m = this.metrics;
    if (m) {
      if (spent) m.spendUsd.inc({ agent: spent.agent }, spent.usd);
      if (record.type === 'result') m.results.inc({ status: String(record.data.status ?? 'unknown') });
      else if (record.type === 'kill') m.kills.inc({ scope: record.agent ? 'agent' : 'all' });
      else if (record.type === 'override')
        m.overrides.inc({ change: String(record.data.change ?? 'unknown') });
    }
    if (
      this.#logs &&
      record.type !== 'decision' &&
      (record.type !== 'result' || record.data.reportedBy === 'agent')
    ) {
      this.#logs.event(record);
    }
    const alert = incidentAlert(record);
    if (alert) this.alerts.send(alert);
    const found = this.#detector?.observe(record, spent?.usd);
    if (!found || found.length === 0) return;
    // One after another, in detection order: the audit log shows them in the order they were found.
    const raising = (async () => {
      for (const anomaly of found) await this.#raise(anomaly);
    })().catch((e: unknown) => report('recording an anomaly failed', e));
    this.#pending.add(raising);
    void raising.finally(() => this.#pending.delete(raising));
  }

  async #raise(anomaly: Anomaly): Promise<void> {
    const warden = this.#warden as MonitoredWarden;
    this.metrics?.anomalies.inc({ code: anomaly.code, agent: anomaly.agent });
    const record = await warden.audit.append({
      type: 'anomaly',
      agent: anomaly.agent,
      ...(anomaly.actionId ? { actionId: anomaly.actionId } : {}),
      actor: 'warden:monitor',
      data: {
        code: anomaly.code,
        severity: anomaly.severity,
        message: anomaly.message,
        response: anomaly.response,
        details: anomaly.details,
      },
    });
    this.alerts.send({
      key: `${anomaly.code}:${anomaly.agent}`,
      severity: anomaly.severity,
      title: `${anomaly.code.replace('anomaly.', '').replace('-', ' ')}: agent ${anomaly.agent}`,
      text: `${anomaly.message}${anomaly.response === 'none' ? '' : `; response: ${anomaly.response}`}`,
      code: anomaly.code,
      agent: anomaly.agent,
      ...(anomaly.actionId ? { actionId: anomaly.actionId } : {}),
      seq: record.seq,
      at: record.ts,
      details: anomaly.details,
    });
    await this.#respond(warden, anomaly);
  }

  async #respond(warden: MonitoredWarden, anomaly: Anomaly): Promise<void> {
    const by = 'warden:monitor';
    const why = `${anomaly.code}: ${anomaly.message}`;
    switch (anomaly.response) {
      case 'none':
        return;
      case 'kill':
        if (!warden.kills.stateOf(anomaly.agent)) await warden.kills.kill(anomaly.agent, by, why);
        return;
      case 'tighten-limits': {
        let tightened = false;
        const request = { by, reason: why, overrides: warden.overrides };
        for (const tighten of this.#tighteners)
          tightened = (await tighten(anomaly.agent, anomaly, request)) || tightened;
        if (tightened) return;
        // Nothing to tighten for this agent (no rate limit applies, no emergency limit): the
        // documented fallback is approval for everything.
        await warden.overrides.change(
          anomaly.agent,
          'approve-all',
          by,
          `${why} (tighten-limits: no rate limit to tighten for this agent)`,
          { anomaly: anomaly.code },
        );
        return;
      }
      case 'approve-all':
        await warden.overrides.change(anomaly.agent, 'approve-all', by, why, { anomaly: anomaly.code });
    }
  }
}

function report(msg: string, error: unknown): void {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg, error: String(error) })}\n`);
}
