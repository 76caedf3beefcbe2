import { randomUUID } from 'node:crypto';
import type { Alert, AlertDelivery, AlertSink, AlertStore } from '../../contract/alert.js';
import type { AuditSink } from '../../contract/records.js';
import { durationMs } from '../../policy/schema.js';
import type { AlertsConfig } from '../../policy/sections/monitor.js';
import { redactSecrets } from '../../secrets/redact-secrets.js';
import type { Metrics } from '../metrics.js';

const RANK = { info: 0, warning: 1, critical: 2 } as const;

export interface DispatcherOptions {
  /** How often the outbox is polled for retries and for rows other processes left (ms, default 1000). */
  pollMs?: number;
  metrics?: Metrics;
  /** Where dead letters (`alert.undeliverable`) are audited. */
  audit?: AuditSink;
  onError?: (error: unknown) => void;
}

/**
 * Alert delivery, off the hot path. `send()` is synchronous and never waits on a sink: it
 * deduplicates, rate-limits, and queues; rows reach the durable outbox on the next turn of the
 * event loop and a pump delivers them, each attempt bounded by `retry.timeout`, retrying with
 * exponential backoff (`initialDelay × 2^attempt`, capped at `maxDelay`, ±20% jitter) until
 * `retry.attempts` attempts have failed; the row is then `undeliverable` (a dead letter, also an
 * `alert.undeliverable` audit record). Rows still pending at shutdown are sent by the next start.
 */
export class AlertDispatcher {
  readonly #sinks: Map<string, AlertSink>;
  readonly #lastSent = new Map<string, number>();
  readonly #sentAt = new Map<string, number[]>();
  readonly #dedupMs: number;
  readonly #rate: { max: number; perMs: number };
  readonly #retry: { attempts: number; initialMs: number; maxMs: number; timeoutMs: number };
  readonly #minRank: number;
  readonly #pollMs: number;
  #queue: AlertDelivery[] = [];
  #flushing: Promise<void> | undefined;
  #pumping: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #controllers = new Set<AbortController>();
  #closed = false;

  constructor(
    sinks: readonly AlertSink[],
    private readonly store: AlertStore,
    config: AlertsConfig,
    readonly options: DispatcherOptions = {},
  ) {
    this.#sinks = new Map();
    for (const sink of sinks) {
      let name = sink.name;
      for (let i = 2; this.#sinks.has(name); i++) name = `${sink.name}#${i}`;
      this.#sinks.set(name, sink);
    }
    this.#dedupMs = durationMs(config.dedupWindow);
    this.#rate = { max: config.rateLimit.max, perMs: durationMs(config.rateLimit.per) };
    this.#retry = {
      attempts: config.retry.attempts,
      initialMs: durationMs(config.retry.initialDelay),
      maxMs: durationMs(config.retry.maxDelay),
      timeoutMs: durationMs(config.retry.timeout),
    };
    this.#minRank = RANK[config.minSeverity];
    this.#pollMs = options.pollMs ?? 1000;
  }

  get sinkNames(): string[] {
    return [...this.#sinks.keys()];
  }

  /** Starts delivering: what the outbox holds from before, then new alerts. */
  start(): void {
    if (this.#sinks.size === 0 || this.#timer) return;
    this.#timer = setInterval(() => this.#pump(), this.#pollMs);
    this.#timer.unref();
    this.#pump();
  }

  /** Queues `alert` for every sink, secrets taken out of it; returns at once. */
  send(raw: Alert): void {
    const alert = redactSecrets(raw);
    if (this.#closed || this.#sinks.size === 0 || RANK[alert.severity] < this.#minRank) return;
    const now = Date.now();
    const last = this.#lastSent.get(alert.key);
    if (last !== undefined && now - last < this.#dedupMs) {
      for (const sink of this.#sinks.keys())
        this.options.metrics?.alerts.inc({ sink, outcome: 'deduplicated' });
      return;
    }
    this.#lastSent.set(alert.key, now);
    if (this.#lastSent.size > 10_000) this.#forgetOld(now);
    const at = new Date(now).toISOString();
    for (const sink of this.#sinks.keys()) {
      const sent = (this.#sentAt.get(sink) ?? []).filter((t) => now - t < this.#rate.perMs);
      const limited = sent.length >= this.#rate.max;
      if (!limited) sent.push(now);
      this.#sentAt.set(sink, sent);
      if (limited) this.options.metrics?.alerts.inc({ sink, outcome: 'suppressed' });
      this.#queue.push({
        id: randomUUID(),
        sink,
        alert,
        status: limited ? 'suppressed' : 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: at,
        updatedAt: at,
        ...(limited
          ? { lastError: `over the alert rate limit of ${this.#rate.max} per ${this.#rate.perMs} ms` }
          : {}),
      });
    }
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#persist());
  }

  /** Waits until queued alerts are in the outbox and the deliveries under way have ended. */
  async idle(): Promise<void> {
    await this.#flushing;
    await this.#pumping;
    await Promise.allSettled([...this.#inFlight]);
  }

  /** Stops delivering. Attempts in flight are cut short and stay pending in the outbox for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    for (const c of this.#controllers) c.abort(new Error('warden is shutting down'));
    await Promise.allSettled([...this.#inFlight]);
    for (const sink of this.#sinks.values()) await sink.close?.();
  }

  async #persist(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    this.#flushing = undefined;
    try {
      await this.store.add(batch);
    } catch (error) {
      this.options.onError?.(error);
    }
    if (!this.#closed) this.#pump();
  }

  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = this.#claimAndSend()
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.#pumping = undefined;
      });
  }

  async #claimAndSend(): Promise<void> {
    const lease = this.#retry.timeoutMs + 5000;
    const due = await this.store.claim(Date.now(), lease, 100);
    for (const delivery of due) {
      const attempt = this.#attempt(delivery).finally(() => this.#inFlight.delete(attempt));
      this.#inFlight.add(attempt);
    }
  }

  async #attempt(d: AlertDelivery): Promise<void> {
    const sink = this.#sinks.get(d.sink);
    const metrics = this.options.metrics;
    if (!sink) {
      // A sink removed from the policy since the row was written.
      await this.store.update(d.id, {
        status: 'undeliverable',
        attempts: d.attempts,
        nextAttemptAt: d.nextAttemptAt,
        lastError: `sink \`${d.sink}\` is no longer in the policy`,
      });
      return;
    }
    const controller = new AbortController();
    this.#controllers.add(controller);
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${this.#retry.timeoutMs} ms`)),
      this.#retry.timeoutMs,
    );
    let error: unknown;
    try {
      await sink.deliver(d.alert, controller.signal);
    } catch (e) {
      error = controller.signal.aborted ? (controller.signal.reason ?? e) : e;
    } finally {
      clearTimeout(timer);
      this.#controllers.delete(controller);
    }
    if (this.#closed && error !== undefined) return; // cut short by close(): the lease expires and the next start retries
    const attempts = d.attempts + 1;
    if (error === undefined) {
      metrics?.alerts.inc({ sink: d.sink, outcome: 'delivered' });
      await this.store.update(d.id, { status: 'delivered', attempts, nextAttemptAt: Date.now() });
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (attempts >= this.#retry.attempts) {
      metrics?.alerts.inc({ sink: d.sink, outcome: 'undeliverable' });
      await this.store.update(d.id, {
        status: 'undeliverable',
        attempts,
        nextAttemptAt: Date.now(),
        lastError: message,
      });
      await this.options.audit
        ?.append({
          type: 'alert.undeliverable',
          ...(d.alert.agent ? { agent: d.alert.agent } : {}),
          actor: 'warden:alerts',
          data: {
            deliveryId: d.id,
            sink: d.sink,
            key: d.alert.key,
            code: d.alert.code,
            attempts,
            error: message,
          },
        })
        .catch((e: unknown) => this.options.onError?.(e));
      return;
    }
    metrics?.alerts.inc({ sink: d.sink, outcome: 'retried' });
    const backoff = Math.min(this.#retry.maxMs, this.#retry.initialMs * 2 ** (attempts - 1));
    const jitter = backoff * (0.8 + Math.random() * 0.4);
    const nextAttemptAt = Date.now() + Math.round(jitter);
    await this.store.update(d.id, { status: 'pending', attempts, nextAttemptAt, lastError: message });
    // Wake up for this retry even when it is sooner than the next poll.
    if (jitter < this.#pollMs) setTimeout(() => this.#pump(), jitter + 1).unref();
  }

  #forgetOld(now: number): void {
    for (const [key, t] of this.#lastSent) if (now - t >= this.#dedupMs) this.#lastSent.delete(key);
  }
}
