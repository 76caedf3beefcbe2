import type { Database } from 'better-sqlite3';
import { GENESIS_HASH, linkHash } from '../../audit/hash-chain.js';
import { type PreparedEntry, payloadOf } from '../audit-records.js';
import type { AuditEntry, AuditRecord } from '../store.js';

/** What the writer reports for each appended entry, in order. */
export interface Appended {
  seq: number;
  ts: string;
  hash: string;
}

/**
 * The append transaction, shared by the in-thread writer and the writer thread.
 *
 * INVARIANT: the head is read inside the write transaction (`BEGIN IMMEDIATE`), so concurrent
 * appenders (other connections or processes) serialise on the lock and always extend the
 * latest record.
 */
export function createAppender(db: Database): (entries: readonly PreparedEntry[]) => Appended[] {
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
  return (entries) => tx.immediate(entries);
}

/** The record a caller gets back: its entry, as stored (the stored bytes are its canonical JSON). */
export function recordOf(entry: AuditEntry, appended: Appended): AuditRecord {
  const record: AuditRecord = {
    seq: appended.seq,
    ts: appended.ts,
    type: entry.type,
    data: entry.data,
    hash: appended.hash,
  };
  if (entry.agent !== undefined) record.agent = entry.agent;
  if (entry.actionId !== undefined) record.actionId = entry.actionId;
  if (entry.actor !== undefined) record.actor = entry.actor;
  return record;
}
