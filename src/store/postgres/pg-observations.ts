import type { ObservationRecord } from '../../contract/observation.js';
import type { ObservationStore } from '../store.js';
import type { PgClient } from './pg-client.js';

const INSERT = 'INSERT INTO observations (agent, session, record) VALUES ($1, $2, $3) RETURNING seq';
const LIST =
  'SELECT seq, record FROM observations WHERE agent = $1 AND session = $2 AND seq > $3 ORDER BY seq LIMIT $4';

/** Observations (SPEC §2b) in the `observations` table, shared by every server on the schema. */
export class PgObservationStore implements ObservationStore {
  readonly #pg: PgClient;

  constructor(pg: PgClient) {
    this.#pg = pg;
  }

  async append(record: ObservationRecord): Promise<ObservationRecord> {
    const { seq: _ignored, ...rest } = record;
    const [row] = await this.#pg.query<{ seq: string }>(INSERT, [
      Buffer.from(record.agent),
      Buffer.from(record.session),
      JSON.stringify(rest),
    ]);
    return { ...rest, seq: Number(row?.seq) };
  }

  async list(
    agent: string,
    session: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<ObservationRecord[]> {
    const limit = Math.min(Math.max(options.limit ?? 1000, 1), 10_000);
    const rows = await this.#pg.query<{ seq: string; record: string }>(LIST, [
      Buffer.from(agent),
      Buffer.from(session),
      options.afterSeq ?? 0,
      limit,
    ]);
    return rows.map((r) => ({ ...(JSON.parse(r.record) as ObservationRecord), seq: Number(r.seq) }));
  }
}
