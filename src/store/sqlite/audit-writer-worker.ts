// Runs in a worker thread: owns a write connection and appends batches of audit entries, so that
// hashing, inserts and the fsync run beside the pipeline instead of blocking it.
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { PreparedEntry } from '../audit-records.js';
import { createAppender } from './audit-append.js';
import { type AuditSync, applySync, synchronousOf } from './audit-sync.js';

type Message = { id: number; entries: PreparedEntry[] } | { id: number; synchronous: true } | { close: true };

const { file, busyTimeoutMs, sync } = workerData as { file: string; busyTimeoutMs: number; sync: AuditSync };
const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
db.pragma('journal_mode = WAL');
applySync(db, sync);
const append = createAppender(db);
const port = parentPort as MessagePort;

// Batches that queued up while the previous commit ran share the next transaction (one fsync):
// small commits when the load is light, large ones under pressure, capped to bound latency.
const MAX_ENTRIES_PER_COMMIT = 4000;

port.on('message', (first: Message) => {
  if ('synchronous' in first) {
    port.postMessage({ id: first.id, synchronous: synchronousOf(db) });
    return;
  }
  const batches: Array<{ id: number; entries: PreparedEntry[] }> = [];
  let closing = 'close' in first;
  if (!('close' in first)) batches.push(first);
  let size = batches[0]?.entries.length ?? 0;
  while (!closing && size < MAX_ENTRIES_PER_COMMIT) {
    const next = receiveMessageOnPort(port)?.message as Message | undefined;
    if (!next) break;
    if ('close' in next) closing = true;
    else if ('synchronous' in next) port.postMessage({ id: next.id, synchronous: synchronousOf(db) });
    else {
      batches.push(next);
      size += next.entries.length;
    }
  }
  if (batches.length > 0) commit(batches);
  if (closing) {
    db.close();
    port.close();
  }
});

function commit(batches: Array<{ id: number; entries: PreparedEntry[] }>): void {
  try {
    const appended = append(
      batches.length === 1 ? (batches[0]?.entries ?? []) : batches.flatMap((b) => b.entries),
    );
    let offset = 0;
    for (const batch of batches) {
      port.postMessage({ id: batch.id, appended: appended.slice(offset, offset + batch.entries.length) });
      offset += batch.entries.length;
    }
  } catch (error) {
    // One transaction: nothing of any of these batches was written; each caller fails closed.
    const message = error instanceof Error ? error.message : String(error);
    for (const batch of batches) port.postMessage({ id: batch.id, error: message });
  }
}
