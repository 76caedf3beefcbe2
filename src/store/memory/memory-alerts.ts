import type { AlertDelivery, AlertStore, DeliveryStatus } from '../../contract/alert.js';

/** An in-memory outbox: for the memory store and stores that keep none. */
export class MemoryAlertStore implements AlertStore {
  readonly #rows = new Map<string, AlertDelivery>();

  async add(deliveries: readonly AlertDelivery[]): Promise<void> {
    for (const d of deliveries) this.#rows.set(d.id, structuredClone(d));
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<AlertDelivery[]> {
    const due = [...this.#rows.values()]
      .filter((d) => d.status === 'pending' && d.nextAttemptAt <= now)
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt)
      .slice(0, limit);
    for (const d of due) d.nextAttemptAt = now + leaseMs;
    return structuredClone(due);
  }

  async update(
    id: string,
    change: Pick<AlertDelivery, 'status' | 'attempts' | 'nextAttemptAt'> & { lastError?: string },
  ): Promise<void> {
    const row = this.#rows.get(id);
    if (!row) return;
    Object.assign(row, change, { updatedAt: new Date().toISOString() });
  }

  async list(filter: { status?: DeliveryStatus; limit?: number } = {}): Promise<AlertDelivery[]> {
    const rows = [...this.#rows.values()].filter((d) => !filter.status || d.status === filter.status);
    return structuredClone(rows.slice(0, filter.limit ?? 1000));
  }
}
