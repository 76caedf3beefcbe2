import type { Database, Statement } from 'better-sqlite3';
import type { KillState, KillStore } from '../store.js';

/**
 * Kill switches in the `kills` table. `watch` polls `PRAGMA data_version`, which changes when any
 * other connection (in this process or another) commits, plus a counter for this connection's
 * own writes, and reloads the table only when one of them moved.
 */
export class SqliteKillStore implements KillStore {
  readonly #db: Database;
  readonly #upsert: Statement;
  readonly #delete: Statement;
  readonly #all: Statement;
  readonly #timers = new Set<NodeJS.Timeout>();
  #localChanges = 0;

  constructor(db: Database) {
    this.#db = db;
    this.#upsert = db.prepare(
      `INSERT INTO kills (agent, reason, by, at) VALUES (@agent, @reason, @by, @at)
       ON CONFLICT (agent) DO UPDATE SET reason = excluded.reason, by = excluded.by, at = excluded.at`,
    );
    this.#delete = db.prepare('DELETE FROM kills WHERE agent = ?');
    this.#all = db.prepare('SELECT agent, reason, by, at FROM kills ORDER BY agent');
  }

  async kill(state: KillState): Promise<void> {
    if (typeof state.agent !== 'string' || state.agent === '') {
      throw new TypeError('kill `agent` must be a non-empty agent name, or `*` to stop every agent');
    }
    this.#upsert.run({ agent: state.agent, reason: state.reason, by: state.by, at: state.at });
    this.#localChanges++;
  }

  async revive(agent: string): Promise<boolean> {
    const changed = this.#delete.run(agent).changes > 0;
    if (changed) this.#localChanges++;
    return changed;
  }

  async list(): Promise<KillState[]> {
    return this.#all.all() as KillState[];
  }

  watch(
    onChange: (kills: KillState[]) => void,
    intervalMs = 250,
    onHealth?: (error: unknown | undefined) => void,
  ): () => void {
    let failing = false;
    const version = () => `${this.#db.pragma('data_version', { simple: true })}:${this.#localChanges}`;
    let seenVersion = version();
    let seenKills = JSON.stringify(this.#all.all());
    const timer = setInterval(() => {
      if (!this.#db.open) return stop();
      let now: string;
      let kills: KillState[];
      try {
        now = version();
        if (failing) {
          failing = false;
          onHealth?.(undefined);
        }
        if (now === seenVersion) return;
        // data_version moves on any commit (audit appends too); call back only when kills changed.
        kills = this.#all.all() as KillState[];
      } catch (error) {
        // Reported, and tried again on the next tick; the caller decides how long to trust the last state.
        failing = true;
        onHealth?.(error);
        return;
      }
      seenVersion = now;
      const serialised = JSON.stringify(kills);
      if (serialised === seenKills) return;
      seenKills = serialised;
      onChange(kills);
    }, intervalMs);
    timer.unref();
    this.#timers.add(timer);
    const stop = () => {
      clearInterval(timer);
      this.#timers.delete(timer);
    };
    return stop;
  }

  /** Stops every watcher; called by the store's `close`. */
  stopAll(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
  }
}
