// Runs in a worker thread: owns a write connection and appends batches of audit entries, so that
// canonical JSON, hashing, inserts and the fsync run beside the pipeline instead of blocking it.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { PreparedEntry } from '../audit-records.js';
import { createAppender } from './audit-append.js';

const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };
const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
const append = createAppender(db);

parentPort?.on('message', (message: { id: number; entries: PreparedEntry[] } | { close: true }) => {
  if ('close' in message) {
    db.close();
    parentPort?.close();
    return;
  }
  try {
    parentPort?.postMessage({ id: message.id, appended: append(message.entries) });
  } catch (error) {
    parentPort?.postMessage({
      id: message.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
});
