import { type ChangeFeed, StoreConflictError, type StoredToken, type TokenStore } from '../store.js';
import { type PgClient, UNIQUE_VIOLATION } from './pg-client.js';
import { afterCommit, followTopic, PgEvents } from './pg-events.js';

interface Row {
  hash: string;
  name: string;
  role: StoredToken['role'];
  agent: string | null;
  created_at: string;
}

const ACTIVE =
  'SELECT hash, name, role, agent, created_at FROM tokens WHERE revoked_at IS NULL ORDER BY created_at, hash';

/** Bearer token hashes in `tokens`; a create or revoke notifies every server on the schema. */
export class PgTokenStore implements TokenStore {
  readonly #pg: PgClient;
  readonly #events: ChangeFeed;
  readonly #stops = new Set<() => void>();

  constructor(pg: PgClient, events: ChangeFeed) {
    this.#pg = pg;
    this.#events = events;
  }

  async create(token: StoredToken): Promise<void> {
    await this.#pg.transaction(async (tx) => {
      try {
        await tx.query(
          'INSERT INTO tokens (hash, name, role, agent, created_at) VALUES ($1, $2, $3, $4, $5)',
          [token.sha256, token.name, token.role, token.agent ?? null, token.createdAt],
        );
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
          throw new StoreConflictError('this token is stored already: create a new one');
        }
        throw error;
      }
      await tx.query(PgEvents.notify, [this.#pg.channel, 'tokens']);
    });
    afterCommit(this.#events, 'tokens');
  }

  async revoke(which: { name?: string; sha256?: string }): Promise<number> {
    if (which.name === undefined && which.sha256 === undefined) {
      throw new TypeError('revoke needs the token `name` or its `sha256`');
    }
    const revoked = await this.#pg.transaction(async (tx) => {
      const rows = await tx.query(
        'UPDATE tokens SET revoked_at = $3 WHERE revoked_at IS NULL AND (name = $1 OR hash = $2) RETURNING hash',
        [which.name ?? null, which.sha256 ?? null, new Date().toISOString()],
      );
      if (rows.length > 0) await tx.query(PgEvents.notify, [this.#pg.channel, 'tokens']);
      return rows.length;
    });
    if (revoked > 0) afterCommit(this.#events, 'tokens');
    return revoked;
  }

  async list(): Promise<StoredToken[]> {
    return (await this.#pg.query<Row>(ACTIVE)).map((r) => ({
      sha256: r.hash,
      name: r.name,
      role: r.role,
      ...(r.agent === null ? {} : { agent: r.agent }),
      createdAt: r.created_at,
    }));
  }

  watch(onChange: (tokens: StoredToken[]) => void, intervalMs = 1000): () => void {
    let seen = '';
    let stopped = false;
    let reading = false;
    const check = async () => {
      if (reading || stopped) return;
      reading = true;
      try {
        const tokens = await this.list();
        const serialised = JSON.stringify(tokens);
        if (!stopped && serialised !== seen) {
          seen = serialised;
          onChange(tokens);
        }
      } catch {
        // Kept as last read; the next tick tries again.
      } finally {
        reading = false;
      }
    };
    return followTopic(
      this.#events,
      'tokens',
      intervalMs,
      () => void check(),
      this.#stops,
      () => {
        stopped = true;
      },
    );
  }

  stopAll(): void {
    for (const stop of [...this.#stops]) stop();
  }
}
