import type { Database, Statement } from 'better-sqlite3';
import type { AlertDelivery, AlertStore, DeliveryStatus } from '../../contract/alert.js';

/** The alert outbox in the `alerts` table (migration 2); claims are one immediate transaction. */
export class SqliteAlertStore implements AlertStore {
  readonly #insert: Statement;
  readonly #due: Statement;
  readonly #lease: Statement;
  readonly #update: Statement;
  readonly #get: Statement;
  readonly #claim: (now: number, leaseMs: number, limit: number) => AlertDelivery[];

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO alerts (id, status, next_at, record) VALUES (@id, @status, @next_at, @record)`,
    );
    this.#due = db.prepare(
      `SELECT record FROM alerts WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`,
    );
    this.#lease = db.prepare(`UPDATE alerts SET next_at = @next_at, record = @record WHERE id = @id`);
    this.#update = db.prepare(
      `UPDATE alerts SET status = @status, next_at = @next_at, record = @record WHERE id = @id`,
    );
    this.#get = db.prepare(`SELECT record FROM alerts WHERE id = ?`).pluck();
    const claim = db.transaction((now: number, leaseMs: number, limit: number) => {
      const rows = (this.#due.pluck().all(now, limit) as string[]).map((r) => JSON.parse(r) as AlertDelivery);
      for (const d of rows) {
        d.nextAttemptAt = now + leaseMs;
        this.#lease.run({ id: d.id, next_at: d.nextAttemptAt, record: JSON.stringify(d) });
      }
      return rows;
    });
    this.#claim = (now, leaseMs, limit) => claim.immediate(now, leaseMs, limit);
    this.list = async (filter = {}) => {
      const sql = filter.status
        ? `SELECT record FROM alerts WHERE status = ? ORDER BY rowid LIMIT ?`
        : `SELECT record FROM alerts ORDER BY rowid LIMIT ?`;
      const args = filter.status ? [filter.status, filter.limit ?? 1000] : [filter.limit ?? 1000];
      return (
        db
          .prepare(sql)
          .pluck()
          .all(...args) as string[]
      ).map((r) => JSON.parse(r) as AlertDelivery);
    };
  }

  readonly list: (filter?: { status?: DeliveryStatus; limit?: number }) => Promise<AlertDelivery[]>;

  async add(deliveries: readonly AlertDelivery[]): Promise<void> {
    for (const d of deliveries) {
      this.#insert.run({ id: d.id, status: d.status, next_at: d.nextAttemptAt, record: JSON.stringify(d) });
    }
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<AlertDelivery[]> {
    return this.#claim(now, leaseMs, limit);
  }

  async update(
    id: string,
    change: Pick<AlertDelivery, 'status' | 'attempts' | 'nextAttemptAt'> & { lastError?: string },
  ): Promise<void> {
    const raw = this.#get.get(id) as string | undefined;
    if (!raw) return;
    const next: AlertDelivery = {
      ...(JSON.parse(raw) as AlertDelivery),
      ...change,
      updatedAt: new Date().toISOString(),
    };
    this.#update.run({ id, status: next.status, next_at: next.nextAttemptAt, record: JSON.stringify(next) });
  }
}
