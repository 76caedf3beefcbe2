import { ChainVerifier, GENESIS_HASH } from '../../audit/hash-chain.js';
import { queryLimit, recordFromRow, recordWith } from '../audit-records.js';
import type { AuditEntry, AuditQuery, AuditRecord, AuditStore, VerifyResult } from '../store.js';
import { type PackInput, packBatch, packInput } from './pg-audit-pack.js';
import type { PgClient } from './pg-client.js';

interface Queued extends PackInput {
  entries: readonly AuditEntry[];
  resolve: (records: AuditRecord[]) => void;
  reject: (error: unknown) => void;
}

/** What a commit reports: the first seq of its rows and their hashes, packed 32 bytes each. */
interface Committed {
  first: number;
  hashes: Buffer;
}

const PAGE = 5000;

/**
 * A decision record that carries its action's result (`hasResult`). jsonb refuses the JSON escape
 * of NUL, so a payload holding one is not parsed (CASE keeps that order) and is left out of a
 * `result` query; such a record is still read, and split, like any other.
 */
const COMBINED = `CASE WHEN position('\\u0000' in convert_from(payload, 'UTF8')) > 0 THEN false
  ELSE jsonb_typeof(convert_from(payload, 'UTF8')::jsonb -> 'data' -> 'result') = 'object' END`;

/**
 * Commits a store keeps in flight at once: while one waits on the network and the chain lock, the
 * next batch is already on its way, so the event loop does not idle for a round trip per commit.
 * Two in flight may reach the lock in either order; the later one is then re-linked in SQL, and
 * since no caller waits on both, no promised order is lost.
 */
const COMMITS_IN_FLIGHT = commitsInFlight(process.env.WARDEN_PG_COMMITS_IN_FLIGHT);

function commitsInFlight(raw: string | undefined): number {
  const n = Number(raw ?? 2);
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    throw new Error(`WARDEN_PG_COMMITS_IN_FLIGHT must be a whole number from 1 to 16, got \`${raw}\``);
  }
  return n;
}

/** The last chain head this store saw: where its next batch is hashed from. */
interface Head {
  seq: number;
  hash: Buffer;
}

/**
 * The audit log in PostgreSQL: one chain for every server on the schema.
 *
 * INVARIANT: one commit is one autocommitted statement, `audit_append()` (PG migration 3), which
 * takes the row lock of `audit_head`, inserts the batch and moves the head: appenders on every
 * server queue on that one lock and each batch extends the head the previous one left. Node
 * hashes the batch from the head this store saw last (node's SHA-256 is far cheaper than
 * PostgreSQL's per call); when another server moved the head meanwhile, the function re-links
 * the batch from the real head (same bytes with the new seq, same hash rule) and returns the
 * hashes, so the chain lock is held for one statement, never across a round trip, and a
 * conflict costs no retry. Within a process, batches are group-committed: while one commit is
 * in flight, every batch queued behind it goes into the next one.
 */
export class PgAuditStore implements AuditStore {
  readonly #pg: PgClient;
  #queue: Queued[] = [];
  #inFlight = 0;
  // A guess: a stale or wrong head only sends the batch down the re-linking path.
  #head: Head = { seq: 0, hash: GENESIS_HASH };

  constructor(pg: PgClient) {
    this.#pg = pg;
  }

  append(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return Promise.resolve([]);
    let input: PackInput;
    try {
      // Everything is checked and encoded before anything is queued: a bad entry fails its batch alone.
      input = packInput(entries, new Date().toISOString());
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...input, entries, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#inFlight >= COMMITS_IN_FLIGHT || this.#queue.length === 0) return;
    this.#inFlight++;
    const batch = this.#queue;
    this.#queue = [];
    this.#commit(batch)
      .then(
        ({ first, hashes }) => {
          let i = 0;
          for (const q of batch) {
            const records: AuditRecord[] = [];
            for (let k = 0; k < q.entries.length; k++, i++) {
              const hash = hashes.toString('hex', i * 32, i * 32 + 32);
              records.push(recordWith(q.entries[k] as AuditEntry, first + i, q.stamps[k] ?? q.now, hash));
            }
            q.resolve(records);
          }
        },
        (error: unknown) => {
          for (const q of batch) q.reject(error);
        },
      )
      .finally(() => {
        this.#inFlight--;
        this.#pump();
      });
  }

  async #commit(batch: readonly Queued[]): Promise<Committed> {
    const expected = this.#head;
    const packed = packBatch(batch, expected.seq, expected.hash);
    // The next commit, if one starts before this one returns, is hashed from where this one should end.
    this.#head = { seq: packed.lastSeq, hash: packed.lastHash };
    // Payloads and hashes as two bytea parameters, sent as raw bytes: bytea[] would be hex-escaped text both ways.
    const [result] = await this.#pg.query<{ first_seq: string; relinked: Buffer | null }>(
      'SELECT first_seq, relinked FROM audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      [expected.seq, expected.hash, ...packed.params],
    );
    if (!result) throw new Error('audit_append() returned no row');
    const first = Number(result.first_seq);
    const { count } = packed;
    const stored = result.relinked ?? packed.params[0];
    const last = first + count - 1;
    // A commit answered after a later-sequenced one (they raced for the lock) must not move the guess back.
    if (last >= this.#head.seq) {
      this.#head = { seq: last, hash: Buffer.from(stored.subarray(count * 32 - 32, count * 32)) };
    }
    return { first, hashes: stored };
  }

  async query(query: AuditQuery): Promise<AuditRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const filters = [
      ['seq > $', query.afterSeq],
      ['seq < $', query.beforeSeq],
      ['agent = $', query.agent],
      ['action_id = $', query.actionId],
      // `result` also finds decisions carrying their result (SPEC §6); `splitRecord` tells them apart.
      [
        query.type === 'result' ? `(type = $ OR (type = 'decision' AND ${COMBINED}))` : 'type = $',
        query.type,
      ],
      ["position($ in lower(convert_from(payload, 'UTF8'))) > 0", query.text?.toLowerCase()],
    ] as const;
    for (const [clause, value] of filters) {
      if (value === undefined) continue;
      values.push(value);
      where.push(clause.replace('$', `$${values.length}`));
    }
    values.push(queryLimit(query));
    const order = query.order === 'desc' ? 'DESC' : 'ASC';
    const rows = await this.#pg.query<{ payload: Buffer; hash: Buffer }>(
      `SELECT payload, hash FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${order} LIMIT $${values.length}`,
      values,
    );
    return rows.map((r) => recordFromRow(r.payload, r.hash));
  }

  async count(): Promise<number> {
    const [row] = await this.#pg.query<{ n: string }>('SELECT count(*) AS n FROM audit');
    return Number(row?.n ?? 0);
  }

  /**
   * Re-hashes the whole chain in one snapshot (appends on other servers go on meanwhile), then
   * compares its end with the chain head: a head beyond the last stored record means records at
   * the end were deleted (`tail-cut`).
   */
  async verify(): Promise<VerifyResult> {
    const started = performance.now();
    return this.#pg.transaction(async (tx) => {
      await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const verifier = new ChainVerifier();
      let cursor = Number.MIN_SAFE_INTEGER;
      let last = 0;
      for (;;) {
        const rows = await tx.query<{ seq: string; hash: Buffer | null; payload: Buffer | null }>(
          'SELECT seq, hash, payload FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2',
          [cursor, PAGE],
        );
        for (const row of rows) {
          const seq = Number(row.seq);
          const problem = verifier.push([seq, row.hash, row.payload]);
          if (problem) {
            return {
              ok: false,
              records: verifier.count,
              firstBad: problem,
              elapsedMs: performance.now() - started,
            };
          }
          last = seq;
        }
        if (rows.length < PAGE) break;
        cursor = last;
      }
      const [head] = await tx.query<{ seq: string }>('SELECT seq FROM audit_head');
      const headSeq = Number(head?.seq ?? 0);
      const elapsedMs = performance.now() - started;
      if (headSeq > last) {
        return {
          ok: false,
          records: verifier.count,
          firstBad: {
            seq: last + 1,
            problem: 'tail-cut',
            message: `records ${last + 1}..${headSeq} are missing: the chain head says ${headSeq} records were appended`,
          },
          elapsedMs,
        };
      }
      const result: VerifyResult = { ok: true, records: verifier.count, elapsedMs };
      if (verifier.count > 0) {
        result.headHash = verifier.prevHash.toString('hex');
        result.headSeq = last;
      }
      return result;
    });
  }
}
