import { ChainVerifier } from '../../audit/hash-chain.js';
import {
  type PreparedEntry,
  payloadOf,
  prepareEntry,
  queryLimit,
  recordFromRow,
  recordOf,
} from '../audit-records.js';
import type { AuditEntry, AuditQuery, AuditRecord, AuditStore, VerifyResult } from '../store.js';
import type { PgClient } from './pg-client.js';

interface Queued {
  entries: readonly AuditEntry[];
  parts: Parts;
  resolve: (records: AuditRecord[]) => void;
  reject: (error: unknown) => void;
}

/** Column arrays for `audit_append`: each payload split around its seq, which the database assigns. */
interface Parts {
  heads: Buffer[];
  tails: Buffer[];
  types: string[];
  agents: (string | null)[];
  actionIds: (string | null)[];
  ts: string[];
}

const PAGE = 5000;

/**
 * The audit log in PostgreSQL: one chain for every server on the schema.
 *
 * INVARIANT: seq and hash order are assigned inside the database, by `audit_append`, under the
 * row lock of `audit_head`: appenders on every server queue on that one lock and each batch
 * extends the head the previous one left. Within a process, batches are group-committed: while
 * one statement is in flight, every batch queued behind it goes into the next one, so a server
 * holds the lock once per round trip, not once per record.
 */
export class PgAuditStore implements AuditStore {
  readonly #pg: PgClient;
  #queue: Queued[] = [];
  #busy = false;

  constructor(pg: PgClient) {
    this.#pg = pg;
  }

  append(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return Promise.resolve([]);
    let parts: Parts;
    try {
      // Everything is checked and encoded before anything is queued: a bad entry fails its batch alone.
      parts = split(entries.map(prepareEntry), new Date().toISOString());
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ entries, parts, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#busy || this.#queue.length === 0) return;
    this.#busy = true;
    const batch = this.#queue;
    this.#queue = [];
    const all: Parts = { heads: [], tails: [], types: [], agents: [], actionIds: [], ts: [] };
    for (const q of batch) {
      for (const key of Object.keys(all) as (keyof Parts)[]) (all[key] as unknown[]).push(...q.parts[key]);
    }
    this.#pg
      .query<{ r_seq: string; r_hash: Buffer }>(
        'SELECT r_seq, r_hash FROM audit_append($1::bytea[], $2::bytea[], $3::text[], $4::text[], $5::text[])',
        [all.heads, all.tails, all.types, all.agents, all.actionIds],
      )
      .then(
        (rows) => {
          let i = 0;
          for (const q of batch) {
            q.resolve(
              q.entries.map((entry) => {
                const row = rows[i] as { r_seq: string; r_hash: Buffer };
                const appended = {
                  seq: Number(row.r_seq),
                  ts: all.ts[i] as string,
                  hash: row.r_hash.toString('hex'),
                };
                i++;
                return recordOf(entry, appended);
              }),
            );
          }
        },
        (error: unknown) => {
          for (const q of batch) q.reject(error);
        },
      )
      .finally(() => {
        this.#busy = false;
        this.#pump();
      });
  }

  async query(query: AuditQuery): Promise<AuditRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const filters = [
      ['seq > $', query.afterSeq],
      ['seq < $', query.beforeSeq],
      ['agent = $', query.agent],
      ['action_id = $', query.actionId],
      ['type = $', query.type],
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

const SEQ_MARK = ',"seq":0,"ts":';

/** Splits each entry's payload (built with seq 0) around its seq: the database puts the real one between. */
function split(entries: readonly PreparedEntry[], now: string): Parts {
  const parts: Parts = { heads: [], tails: [], types: [], agents: [], actionIds: [], ts: [] };
  for (const entry of entries) {
    const bytes = payloadOf(entry, 0, now);
    // After `data`, the envelope holds only seq, ts, type and v, whose strings cannot hold a raw quote.
    const at = bytes.lastIndexOf(SEQ_MARK);
    parts.heads.push(bytes.subarray(0, at + ',"seq":'.length));
    parts.tails.push(bytes.subarray(at + ',"seq":0'.length));
    // PostgreSQL text cannot hold NUL: the query columns get U+FFFD instead (the payload, which is
    // hashed, keeps the entry exactly), so one odd name cannot fail the batch it is committed with.
    parts.types.push(column(entry.type) as string);
    parts.agents.push(column(entry.agent));
    parts.actionIds.push(column(entry.actionId));
    parts.ts.push(entry.ts ?? now);
  }
  return parts;
}

function column(value: string | undefined): string | null {
  return value === undefined ? null : value.replaceAll('\0', '\uFFFD');
}
