import type { ChangeFeed, KillState, KillStore } from '../store.js';
import type { PgClient } from './pg-client.js';
import { afterCommit, followTopic, PgEvents } from './pg-events.js';

const ALL = 'SELECT agent, reason, by, at FROM kills ORDER BY agent';

/**
 * Kill switches in the `kills` table. A kill or revive notifies every server on the schema
 * (`LISTEN/NOTIFY`), which re-reads the list at once; `watch` also re-reads every `intervalMs`,
 * which reports a store that stopped answering and covers notifications lost while reconnecting.
 */
export class PgKillStore implements KillStore {
  readonly #pg: PgClient;
  readonly #events: ChangeFeed;
  readonly #stops = new Set<() => void>();

  constructor(pg: PgClient, events: ChangeFeed) {
    this.#pg = pg;
    this.#events = events;
  }

  async kill(state: KillState): Promise<void> {
    if (typeof state.agent !== 'string' || state.agent === '') {
      throw new TypeError('kill `agent` must be a non-empty agent name, or `*` to stop every agent');
    }
    await this.#pg.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO kills (agent, reason, by, at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (agent) DO UPDATE SET reason = excluded.reason, by = excluded.by, at = excluded.at`,
        [state.agent, state.reason, state.by, state.at],
      );
      await tx.query(PgEvents.notify, [this.#pg.channel, 'kills']);
    });
    afterCommit(this.#events, 'kills');
  }

  async revive(agent: string): Promise<boolean> {
    const revived = await this.#pg.transaction(async (tx) => {
      const gone = await tx.query('DELETE FROM kills WHERE agent = $1 RETURNING agent', [agent]);
      if (gone.length > 0) await tx.query(PgEvents.notify, [this.#pg.channel, 'kills']);
      return gone.length > 0;
    });
    if (revived) afterCommit(this.#events, 'kills');
    return revived;
  }

  async list(): Promise<KillState[]> {
    return this.#pg.query<KillState>(ALL);
  }

  watch(
    onChange: (kills: KillState[]) => void,
    intervalMs = 250,
    onHealth?: (error: unknown | undefined) => void,
  ): () => void {
    // Starts from no kills: the first read reports any there are (the caller applies the same list again).
    let seen = '[]';
    let failing = false;
    let reading: Promise<void> | undefined;
    let again = false;
    let stopped = false;
    const read = async () => {
      try {
        const kills = await this.list();
        if (stopped) return;
        if (failing) {
          failing = false;
          onHealth?.(undefined);
        }
        const serialised = JSON.stringify(kills);
        if (serialised === seen) return;
        seen = serialised;
        onChange(kills);
      } catch (error) {
        if (stopped) return;
        failing = true;
        onHealth?.(error);
      }
    };
    // One read at a time; a notification during a read triggers one more after it.
    const check = () => {
      if (stopped) return;
      if (reading) {
        again = true;
        return;
      }
      reading = read().finally(() => {
        reading = undefined;
        if (again) {
          again = false;
          check();
        }
      });
    };
    return followTopic(this.#events, 'kills', intervalMs, check, this.#stops, () => {
      stopped = true;
    });
  }

  stopAll(): void {
    for (const stop of [...this.#stops]) stop();
  }
}
