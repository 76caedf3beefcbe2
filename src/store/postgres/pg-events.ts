import pg from 'pg';
import type { ChangeFeed, ChangeTopic } from '../store.js';
import type { PgClient } from './pg-client.js';

/** What changed, as told to every server on the schema: kills, overrides, approvals, events, tokens. */
export type PgTopic = ChangeTopic;

/** A notification's payload: the topic, then `:` and what changed when the announcer says (an approval id). */
export function payloadOf(topic: PgTopic, detail?: string): string {
  return detail === undefined ? topic : `${topic}:${detail}`;
}

/**
 * One `LISTEN` connection per store, outside the pool, on the schema's channel. A change is
 * announced with `pg_notify` inside the transaction that makes it, so servers hear it when it
 * commits. When the connection drops it is opened again (backing off to 1 s), and every listener
 * is told `reconnected` so it re-reads what it follows: notifications sent meanwhile are lost,
 * the re-read is the fallback.
 */
export class PgEvents implements ChangeFeed {
  readonly #pg: PgClient;
  readonly #listeners = new Map<PgTopic, Set<(reconnected: boolean, detail?: string) => void>>();
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #backoff = 50;

  constructor(client: PgClient) {
    this.#pg = client;
  }

  /** Calls `listener(false, detail)` on each notification of `topic`, `listener(true)` after a reconnect. */
  on(topic: PgTopic, listener: (reconnected: boolean, detail?: string) => void): () => void {
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

  /** Announces a change already committed (outside a transaction), e.g. audit records appended. */
  async notify(topic: PgTopic, detail?: string): Promise<void> {
    await this.#pg.query(PgEvents.notify, [this.#pg.channel, payloadOf(topic, detail)]);
  }

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
      const payload = message.payload ?? '';
      const colon = payload.indexOf(':');
      const topic = (colon < 0 ? payload : payload.slice(0, colon)) as PgTopic;
      const detail = colon < 0 ? undefined : payload.slice(colon + 1);
      for (const listener of this.#listeners.get(topic) ?? []) {
        try {
          listener(false, detail);
        } catch (error) {
          process.emitWarning(`a ${topic} change listener failed: ${String(error)}`);
        }
      }
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

/**
 * Announces `topic` on `feed` after the change committed, when the feed is not this schema's
 * NOTIFY (which the transaction announced already): e.g. on Redis pub/sub. Best effort: a lost
 * announcement leaves the other servers to their fallback reads.
 */
export function afterCommit(feed: ChangeFeed, topic: PgTopic, detail?: string): void {
  if (feed instanceof PgEvents) return;
  feed.notify(topic, detail).catch(() => undefined);
}

/**
 * Runs `check` now, on every `topic` announcement, and every `intervalMs` as the fallback for
 * announcements lost while the feed reconnects. The returned stop (which calls `onStop` first,
 * so a read in flight can drop its answer) is also held in `stops`: the owner can end all its
 * followers at once.
 */
export function followTopic(
  feed: ChangeFeed,
  topic: PgTopic,
  intervalMs: number,
  check: () => void,
  stops: Set<() => void>,
  onStop: () => void,
): () => void {
  check();
  const unlisten = feed.on(topic, () => check());
  const timer = setInterval(check, intervalMs);
  timer.unref();
  const stop = () => {
    onStop();
    clearInterval(timer);
    unlisten();
    stops.delete(stop);
  };
  stops.add(stop);
  return stop;
}
