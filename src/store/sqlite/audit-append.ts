import type { Database, Transaction } from 'better-sqlite3';
import { GENESIS_HASH, linkHash } from '../../audit/hash-chain.js';
import { type Appended, type PreparedEntry, payloadOf } from '../audit-records.js';

/**
 * The append transaction, shared by the in-thread writer and the writer thread.
 *
 * INVARIANT: the head is read inside the write transaction (`BEGIN IMMEDIATE`), so concurrent
 * appenders (other connections or processes) serialise on the lock and always extend the
 * latest record.
 */
export function createAppender(
  db: Database,
  alongside?: Alongside,
): (entries: readonly PreparedEntry[]) => Appended[] {
  const tx = createAppendTransaction(db, alongside);
  return (entries) => {
    let appended: Appended[];
    try {
      appended = tx.immediate(entries);
    } catch (error) {
      alongside?.settle(error);
      throw error;
    }
    alongside?.settle();
    return appended;
  };
}

/**
 * Rows of other tables that ride the audit's commits (one transaction, so one fsync, for both):
 * `write` runs inside each append transaction, `settle` once it committed or failed.
 */
export interface Alongside {
  write(): void;
  settle(error?: unknown): void;
}

/** The append as a better-sqlite3 transaction function: nested in another, it is a savepoint of it. */
export function createAppendTransaction(
  db: Database,
  alongside?: Alongside,
): Transaction<(entries: readonly PreparedEntry[]) => Appended[]> {
  const head = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').raw();
  const insert = db.prepare('INSERT INTO audit (seq, hash, payload) VALUES (?, ?, ?)');
  const tx = db.transaction((entries: readonly PreparedEntry[]) => {
    const last = head.get() as [number, Buffer] | undefined;
    let seq = last?.[0] ?? 0;
    let prev = last?.[1] ?? GENESIS_HASH;
    const now = new Date().toISOString();
    const out: Appended[] = [];
    for (const entry of entries) {
      seq++;
      const payload = payloadOf(entry, seq, now);
      prev = linkHash(prev, payload);
      insert.run(seq, prev, payload);
      out.push({ seq, ts: entry.ts ?? now, hash: prev.toString('hex') });
    }
    alongside?.write();
    return out;
  });
  return tx;
}
