import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import type { AuditEntry } from '../src/store/store.js';
import { rate } from './report.js';

/**
 * One process of the fleet bench's 3-process floors: what any design with one writer per process
 * costs on this machine, without Warden's pipeline. `insert`: the bare batched INSERT of distinct
 * decision-sized rows (the goal's baseline statement) into the table it is given; `append`: the
 * store's own chain append (`audit.append()`, one `audit_append()` statement per commit) of real
 * decision entries onto the schema's one chain. Both send BATCH rows per call with `inFlight`
 * calls outstanding, warm up on 5,000 rows of the same work (as the decide() workers do) before
 * saying `ready`, and on `go` report the wall time they finished.
 */
const WARM_UP = 5000;
const BATCH = 250;

/** What the parent sends first: the work and the rows this process times. */
export interface FloorJob {
  kind: 'insert' | 'append';
  url: string;
  schema: string;
  /** Calls this process times, BATCH rows each, and how many it keeps outstanding. */
  batches: number;
  inFlight: number;
  /** insert: first seq of this process's rows, and the size of each row's payload. */
  firstSeq: number;
  payloadBytes: number;
  /** append: decision entries to append, BATCH at a time (each batch its own action ids). */
  entries: AuditEntry[];
}

if (!process.send) throw new Error('fork fleet-floor-worker.js and send it a FloorJob');
const send = process.send.bind(process);

process.once('message', (job: FloorJob) => {
  void (async () => {
    try {
      const close = job.kind === 'insert' ? await insertWork(job) : await appendWork(job);
      process.once('message', () => {
        void (async () => {
          try {
            await rate(job.batches, job.inFlight, (b) => close.timed(b));
            const finishedAt = Date.now();
            await close.end();
            send({ finishedAt });
          } catch (error) {
            send({ error: (error as Error).message });
          }
          process.disconnect();
        })();
      });
      send({ ready: true });
    } catch (error) {
      send({ error: (error as Error).message });
      process.disconnect();
    }
  })();
});

interface Work {
  timed(batch: number): Promise<void>;
  end(): Promise<void>;
}

async function insertWork(job: FloorJob): Promise<Work> {
  const warm = Math.ceil(WARM_UP / BATCH);
  // The rows are made before the clock starts; the warm-up's seqs lie past every timed one.
  const made = Array.from({ length: job.batches + warm }, (_, b) =>
    rows(
      b < job.batches ? job.firstSeq + b * BATCH : 1e12 + job.firstSeq * 1e4 + (b - job.batches) * BATCH,
      job.payloadBytes,
    ),
  );
  const pool = new pg.Pool({ connectionString: job.url, max: 10 });
  const insert = async (b: number) => {
    await pool.query({
      name: 'bare',
      text: `INSERT INTO "${job.schema}".t (seq, hash, payload, type, agent, action_id)
             SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::text[])`,
      values: made[b] as unknown[],
    });
  };
  await rate(warm, job.inFlight, (b) => insert(job.batches + b));
  return { timed: insert, end: () => pool.end() };
}

/** BATCH distinct rows from `first`: a 32-byte hash and a payload of `bytes` each, as the one-process bare INSERT makes them. */
function rows(first: number, bytes: number): unknown[] {
  const seqs: number[] = [];
  const hashes: Buffer[] = [];
  const payloads: Buffer[] = [];
  const actionIds: string[] = [];
  for (let i = 0; i < BATCH; i++) {
    const seq = first + i;
    const head = `{"actionId":"act-${seq}","agent":"research-agent","data":{"pad":"`;
    const pad = randomBytes(bytes)
      .toString('base64')
      .slice(0, Math.max(0, bytes - head.length - 2));
    seqs.push(seq);
    hashes.push(randomBytes(32));
    payloads.push(Buffer.from(`${head}${pad}"}`));
    actionIds.push(`act-${seq}`);
  }
  return [seqs, hashes, payloads, seqs.map(() => 'decision'), seqs.map(() => 'research-agent'), actionIds];
}

async function appendWork(job: FloorJob): Promise<Work> {
  const store = await openPostgresStore({ url: job.url, schema: job.schema });
  const batchOf = (b: number): AuditEntry[] =>
    Array.from({ length: BATCH }, (_, i) => {
      const entry = job.entries[i % job.entries.length] as AuditEntry;
      return { ...entry, actionId: `${entry.actionId}-${job.firstSeq}-${b}` };
    });
  const warm = Math.ceil(WARM_UP / BATCH);
  const made = Array.from({ length: job.batches + warm }, (_, b) => batchOf(b));
  const append = async (b: number) => {
    await store.audit.append(made[b] as AuditEntry[]);
  };
  await rate(warm, job.inFlight, (b) => append(job.batches + b));
  return { timed: append, end: () => store.close() };
}
