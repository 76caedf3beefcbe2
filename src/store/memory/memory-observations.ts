import type { ObservationRecord } from '../../contract/observation.js';
import type { ObservationStore } from '../store.js';

/** Observations in process memory, by session. */
export class MemoryObservationStore implements ObservationStore {
  readonly #sessions = new Map<string, ObservationRecord[]>();
  #seq = 0;

  async append(record: ObservationRecord): Promise<ObservationRecord> {
    const stored = { ...structuredClone(record), seq: ++this.#seq };
    const key = `${record.agent}\0${record.session}`;
    const list = this.#sessions.get(key);
    if (list) list.push(stored);
    else this.#sessions.set(key, [stored]);
    return structuredClone(stored);
  }

  async list(
    agent: string,
    session: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<ObservationRecord[]> {
    const limit = Math.min(Math.max(options.limit ?? 1000, 1), 10_000);
    const after = options.afterSeq ?? 0;
    const list = this.#sessions.get(`${agent}\0${session}`) ?? [];
    return list
      .filter((r) => (r.seq as number) > after)
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }
}
