// Runs in a worker thread: verifies one slice of the audit log on its own read-only connection.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type VerifyRange, verifyRange } from './verify-range.js';

const { file, range } = workerData as { file: string; range: VerifyRange };
// Buffers arrive as plain Uint8Arrays after the structured clone.
if (range.seed) range.seed = Buffer.from(range.seed.buffer, range.seed.byteOffset, range.seed.byteLength);
const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  parentPort?.postMessage(verifyRange(db, range));
} finally {
  db.close();
}
