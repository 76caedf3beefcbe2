import type { AlertDelivery, AlertStore, DeliveryStatus } from '../../contract/alert.js';
import type { PinStore, ToolPin } from '../store.js';
import type { PgClient } from './pg-client.js';

/** MCP tool pins in `mcp_pins`; an update holds an advisory lock on its (server, tool), so a missing pin is created once. */
export class PgPinStore implements PinStore {
  readonly #pg: PgClient;

  constructor(pg: PgClient) {
    this.#pg = pg;
  }

  async get(server: string, tool: string): Promise<ToolPin | undefined> {
    const [row] = await this.#pg.query<{ record: string }>(
      'SELECT record FROM mcp_pins WHERE server = $1 AND tool = $2',
      [server, tool],
    );
    return row ? (JSON.parse(row.record) as ToolPin) : undefined;
  }

  async list(filter: { server?: string } = {}): Promise<ToolPin[]> {
    const rows =
      filter.server === undefined
        ? await this.#pg.query<{ record: string }>('SELECT record FROM mcp_pins ORDER BY server, tool')
        : await this.#pg.query<{ record: string }>(
            'SELECT record FROM mcp_pins WHERE server = $1 ORDER BY tool',
            [filter.server],
          );
    return rows.map((r) => JSON.parse(r.record) as ToolPin);
  }

  async update(
    server: string,
    tool: string,
    change: (current: ToolPin | undefined) => ToolPin | undefined,
  ): Promise<ToolPin | undefined> {
    return this.#pg.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('warden.pin'), hashtext($1))", [
        JSON.stringify([server, tool]),
      ]);
      const [row] = await tx.query<{ record: string }>(
        'SELECT record FROM mcp_pins WHERE server = $1 AND tool = $2',
        [server, tool],
      );
      const current = row ? (JSON.parse(row.record) as ToolPin) : undefined;
      const next = change(current);
      if (next === undefined) return current;
      if (next.server !== server || next.tool !== tool) {
        throw new TypeError(`pin update must keep server \`${server}\` and tool \`${tool}\``);
      }
      await tx.query(
        'INSERT INTO mcp_pins (server, tool, record) VALUES ($1, $2, $3) ON CONFLICT (server, tool) DO UPDATE SET record = excluded.record',
        [server, tool, JSON.stringify(next)],
      );
      return next;
    });
  }
}

/** The alert outbox in `alerts`; a claim skips rows another server holds (`FOR UPDATE SKIP LOCKED`). */
export class PgAlertStore implements AlertStore {
  readonly #pg: PgClient;

  constructor(pg: PgClient) {
    this.#pg = pg;
  }

  async add(deliveries: readonly AlertDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.#pg.query(
      `INSERT INTO alerts (id, status, next_at, record)
       SELECT id, status, next_at, record
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) WITH ORDINALITY AS t(id, status, next_at, record, o)
       ORDER BY o ON CONFLICT (id) DO NOTHING`,
      [
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.status),
        deliveries.map((d) => d.nextAttemptAt),
        deliveries.map((d) => JSON.stringify(d)),
      ],
    );
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<AlertDelivery[]> {
    return this.#pg.transaction(async (tx) => {
      const rows = await tx.query<{ record: string }>(
        `SELECT record FROM alerts WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now, limit],
      );
      const claimed = rows.map((r) => ({
        ...(JSON.parse(r.record) as AlertDelivery),
        nextAttemptAt: now + leaseMs,
      }));
      if (claimed.length > 0) {
        await tx.query(
          `UPDATE alerts AS a SET next_at = v.next_at, record = v.record
           FROM unnest($1::text[], $2::bigint[], $3::text[]) AS v(id, next_at, record) WHERE a.id = v.id`,
          [
            claimed.map((d) => d.id),
            claimed.map((d) => d.nextAttemptAt),
            claimed.map((d) => JSON.stringify(d)),
          ],
        );
      }
      return claimed;
    });
  }

  async update(
    id: string,
    change: Pick<AlertDelivery, 'status' | 'attempts' | 'nextAttemptAt'> & { lastError?: string },
  ): Promise<void> {
    await this.#pg.transaction(async (tx) => {
      const [row] = await tx.query<{ record: string }>('SELECT record FROM alerts WHERE id = $1 FOR UPDATE', [
        id,
      ]);
      if (!row) return;
      const next: AlertDelivery = {
        ...(JSON.parse(row.record) as AlertDelivery),
        ...change,
        updatedAt: new Date().toISOString(),
      };
      await tx.query('UPDATE alerts SET status = $2, next_at = $3, record = $4 WHERE id = $1', [
        id,
        next.status,
        next.nextAttemptAt,
        JSON.stringify(next),
      ]);
    });
  }

  async list(filter: { status?: DeliveryStatus; limit?: number } = {}): Promise<AlertDelivery[]> {
    const limit = filter.limit ?? 1000;
    const rows = filter.status
      ? await this.#pg.query<{ record: string }>(
          'SELECT record FROM alerts WHERE status = $1 ORDER BY n LIMIT $2',
          [filter.status, limit],
        )
      : await this.#pg.query<{ record: string }>('SELECT record FROM alerts ORDER BY n LIMIT $1', [limit]);
    return rows.map((r) => JSON.parse(r.record) as AlertDelivery);
  }
}
