// Runs in a worker thread: owns a write connection and appends batches of audit entries, so that
// hashing, inserts and the fsync run beside the pipeline instead of blocking it.
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { PreparedEntry } from '../audit-records.js';
import { createAppendTransaction } from './audit-append.js';
import { type AuditSync, applySync, synchronousOf } from './audit-sync.js';
import type { ObservationRow } from './audit-writer.js';

type Batch = { id: number; entries: PreparedEntry[] } | { id: number; observations: ObservationRow[] };
type Message = Batch | { id: number; synchronous: true } | { close: true };

const { file, busyTimeoutMs, sync } = workerData as { file: string; busyTimeoutMs: number; sync: AuditSync };
const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
db.pragma('journal_mode = WAL');
applySync(db, sync);
const appendIn = createAppendTransaction(db);
const observe = db.prepare('INSERT INTO observations (agent, session, record) VALUES (?, ?, ?)');
// Audit entries and observations queued together share one transaction, so one fsync.
const write = db.transaction(
  (entries: readonly PreparedEntry[], observations: readonly ObservationRow[]) => ({
    appended: entries.length > 0 ? appendIn(entries) : [],
    seqs: observations.map((o) => Number(observe.run(o.agent, o.session, o.record).lastInsertRowid)),
  }),
);
const port = parentPort as MessagePort;

// Batches that queued up while the previous commit ran share the next transaction (one fsync):
// small commits when the load is light, large ones under pressure, capped to bound latency.
const MAX_ENTRIES_PER_COMMIT = 4000;

port.on('message', (first: Message) => {
  if ('synchronous' in first) {
    port.postMessage({ id: first.id, synchronous: synchronousOf(db) });
    return;
  }
  const batches: Batch[] = [];
  let closing = 'close' in first;
  if (!('close' in first)) batches.push(first);
  let size = batches[0] ? sizeOf(batches[0]) : 0;
  while (!closing && size < MAX_ENTRIES_PER_COMMIT) {
    const next = receiveMessageOnPort(port)?.message as Message | undefined;
    if (!next) break;
    if ('close' in next) closing = true;
    else if ('synchronous' in next) port.postMessage({ id: next.id, synchronous: synchronousOf(db) });
    else {
      batches.push(next);
      size += sizeOf(next);
    }
  }
  if (batches.length > 0) commit(batches);
  if (closing) {
    db.close();
    port.close();
  }
});

function sizeOf(batch: Batch): number {
  return 'entries' in batch ? batch.entries.length : batch.observations.length;
}

function commit(batches: Batch[]): void {
  try {
    const entries = batches.flatMap((b) => ('entries' in b ? b.entries : []));
    const observations = batches.flatMap((b) => ('observations' in b ? b.observations : []));
    const { appended, seqs } = write.immediate(entries, observations);
    let [a, o] = [0, 0];
    for (const batch of batches) {
      if ('entries' in batch) {
        port.postMessage({ id: batch.id, appended: appended.slice(a, a + batch.entries.length) });
        a += batch.entries.length;
      } else {
        port.postMessage({ id: batch.id, seqs: seqs.slice(o, o + batch.observations.length) });
        o += batch.observations.length;
      }
    }
  } catch (error) {
    // One transaction: nothing of any of these batches was written; each caller fails closed.
    const message = error instanceof Error ? error.message : String(error);
    for (const batch of batches) port.postMessage({ id: batch.id, error: message });
  }
}
