import { RedisChangeFeed } from '../redis-changes.js';
import type { Store } from '../store.js';
import { migratePg } from './migrations.js';
import { PgAuditStore } from './pg-audit.js';
import { PgClient, type PgStoreOptions } from './pg-client.js';
import { PgEvents } from './pg-events.js';
import { PgInsights } from './pg-insights.js';
import { PgKillStore } from './pg-kills.js';
import { PgObservationStore } from './pg-observations.js';
import { PgAlertStore, PgPinStore } from './pg-outbox.js';
import { PgActionStore, PgApprovalStore } from './pg-records.js';
import { PgTokenStore } from './pg-tokens.js';

export type { PgStoreOptions } from './pg-client.js';

/**
 * Warden's state in PostgreSQL, for several servers that behave as one: one audit chain, kills
 * and approvals seen by every server at once (`LISTEN/NOTIFY`, or Redis pub/sub with
 * `?changes=redis://…`), records changed under row locks.
 * Every table lives in one schema (`warden` unless told otherwise), so several deployments (or
 * tests) can share a database. A server that cannot be reached makes each call reject with
 * `store.unavailable` within `timeoutMs`; the pool reconnects by itself when it is back.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly pg: PgClient;
  readonly events: PgEvents;
  /** `events`, or Redis pub/sub when the store's `changes` names a Redis server. */
  readonly changes: PgEvents | RedisChangeFeed;
  readonly audit: PgAuditStore;
  readonly kills: PgKillStore;
  readonly approvals: PgApprovalStore;
  readonly actions: PgActionStore;
  readonly pins: PgPinStore;
  readonly alerts: PgAlertStore;
  readonly tokens: PgTokenStore;
  readonly observations: PgObservationStore;
  readonly insights: PgInsights;

  constructor(client: PgClient) {
    this.pg = client;
    this.events = new PgEvents(client);
    this.changes = client.changes ? new RedisChangeFeed(client.changes, client.channel) : this.events;
    this.audit = new PgAuditStore(client);
    this.kills = new PgKillStore(client, this.changes);
    this.approvals = new PgApprovalStore(client, this.changes);
    this.actions = new PgActionStore(client, this.approvals);
    this.pins = new PgPinStore(client);
    this.alerts = new PgAlertStore(client);
    this.tokens = new PgTokenStore(client, this.changes);
    this.observations = new PgObservationStore(client);
    this.insights = new PgInsights(client);
  }

  /** Resolves when the server answers; rejects with `store.unavailable` when it does not. */
  async ping(): Promise<void> {
    await this.pg.query('SELECT 1');
  }

  /** The schema holding the tables. */
  get schema(): string {
    return this.pg.schema;
  }

  async close(): Promise<void> {
    this.kills.stopAll();
    this.tokens.stopAll();
    await this.events.close();
    if (this.changes !== this.events) await this.changes.close();
    await this.pg.end();
  }
}

/** True for what {@link openPostgresStore} opens: a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * Opens the PostgreSQL store, creating its schema and tables (or migrating them) as needed.
 *
 * @example
 * const store = await openPostgresStore({ url: 'postgres://warden@db:5432/warden?schema=prod' });
 * await store.audit.append([{ type: 'decision', agent: 'bot', data: { effect: 'deny' } }]);
 * await store.close();
 */
export async function openPostgresStore(
  options: PgStoreOptions & {
    /**
     * `false`: refuse a schema that holds no Warden store (for commands that operate on an
     * existing deployment: a mistyped URL must not create an empty store no server reads). Default true.
     */
    create?: boolean;
  },
): Promise<PostgresStore> {
  const client = new PgClient(options);
  try {
    if (options.create === false) await mustExist(client);
    await migratePg(client);
  } catch (error) {
    await client.end();
    throw error;
  }
  return new PostgresStore(client);
}

async function mustExist(client: PgClient): Promise<void> {
  const [row] = await client.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [
    `"${client.schema}".warden_schema`,
  ]);
  if (!row?.found) {
    throw new Error(
      `schema \`${client.schema}\` holds no Warden store: pass the --db that \`warden serve\` uses (its ?schema= included), or start \`warden serve\` once to create it`,
    );
  }
}
