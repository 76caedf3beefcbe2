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
export function createAppender(db: Database): (entries: readonly PreparedEntry[]) => Appended[] {
  const tx = createAppendTransaction(db);
  return (entries) => tx.immediate(entries);
}

/** The append as a better-sqlite3 transaction function: nested in another, it is a savepoint of it. */
export function createAppendTransaction(
  db: Database,
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
    return out;
  });
  return tx;
}
