/** Something an operator should hear about now. */
export interface Alert {
  /** Deduplication key: the same key within `alerts.dedupWindow` is sent once. */
  key: string;
  severity: 'info' | 'warning' | 'critical';
  title: string;
  text: string;
  /** Stable dotted code: an anomaly code, `killswitch.kill`, `override.revoke`, … */
  code: string;
  agent?: string;
  actionId?: string;
  /** The audit record this alert is about. */
  seq?: number;
  at: string;
  details?: Record<string, unknown>;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'undeliverable' | 'suppressed';

/** One alert for one sink: the durable outbox row. */
export interface AlertDelivery {
  id: string;
  sink: string;
  alert: Alert;
  status: DeliveryStatus;
  attempts: number;
  /** Epoch ms of the next attempt (pending), or of the lease of an attempt in progress. */
  nextAttemptAt: number;
  lastError?: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * The alert outbox (dead-letter store included): every alert to every sink is written here
 * before it is sent, so nothing is lost across a restart; a sink that stays down leaves its
 * rows `undeliverable` once the retry budget is spent.
 */
export interface AlertStore {
  add(deliveries: readonly AlertDelivery[]): Promise<void>;
  /**
   * Pending deliveries due at `now` (oldest first), leased until `now + leaseMs`: their
   * `nextAttemptAt` moves there, so another process polling the same store does not take them too.
   */
  claim(now: number, leaseMs: number, limit: number): Promise<AlertDelivery[]>;
  update(
    id: string,
    change: Pick<AlertDelivery, 'status' | 'attempts' | 'nextAttemptAt'> & { lastError?: string },
  ): Promise<void>;
  list(filter?: { status?: DeliveryStatus; limit?: number }): Promise<AlertDelivery[]>;
}

/** Where alerts go: Slack, PagerDuty, a webhook, email. `deliver` rejects when it did not get through. */
export interface AlertSink {
  readonly name: string;
  deliver(alert: Alert, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}
