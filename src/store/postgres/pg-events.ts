import pg from 'pg';
import type { PgClient } from './pg-client.js';

/** What changed, as told to every server on the schema: kills, overrides, approvals, events. */
export type PgTopic = 'kills' | 'overrides' | 'approvals' | 'events' | 'tokens';

/**
 * One `LISTEN` connection per store, outside the pool, on the schema's channel. A change is
 * announced with `pg_notify` inside the transaction that makes it, so servers hear it when it
 * commits. When the connection drops it is opened again (backing off to 1 s), and every listener
 * is told `reconnected` so it re-reads what it follows: notifications sent meanwhile are lost,
 * the re-read is the fallback.
 */
export class PgEvents {
  readonly #pg: PgClient;
  readonly #listeners = new Map<PgTopic, Set<(reconnected: boolean) => void>>();
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #backoff = 50;

  constructor(client: PgClient) {
    this.#pg = client;
  }

  /** Calls `listener(false)` on each notification of `topic`, `listener(true)` after a reconnect. */
  on(topic: PgTopic, listener: (reconnected: boolean) => void): () => void {
    let set = this.#listeners.get(topic);
    if (!set) {
      set = new Set();
      this.#listeners.set(topic, set);
    }
    set.add(listener);
    if (!this.#client && !this.#retry) void this.#connect(false);
    return () => set.delete(listener);
  }

  /** The statement that announces `topic`, to run inside the changing transaction. */
  static notify = 'SELECT pg_notify($1, $2)';

  async #connect(again: boolean): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#pg.url,
      connectionTimeoutMillis: this.#pg.timeoutMs,
    });
    this.#client = client;
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.end().catch(() => undefined);
      if (this.#closed) return;
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        void this.#connect(true);
      }, this.#backoff);
      this.#retry.unref();
      this.#backoff = Math.min(1000, this.#backoff * 2);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      const set = this.#listeners.get(message.payload as PgTopic);
      for (const listener of set ?? []) listener(false);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#pg.channel}"`);
    } catch {
      lost();
      return;
    }
    this.#backoff = 50;
    if (again) for (const set of this.#listeners.values()) for (const listener of set) listener(true);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
