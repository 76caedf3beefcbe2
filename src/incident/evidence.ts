import { encodePayload, GENESIS_HASH, linkHash } from '../audit/hash-chain.js';
import type { AuditRecord, AuditStore } from '../store/store.js';

/** One preserved record: the record as stored, plus the hash of the record before it in the whole chain. */
export type EvidenceRecord = AuditRecord & { prev: string };

/** What `warden incident preserve` writes. */
export interface Evidence {
  format: 'warden.evidence/1';
  agent: string;
  exportedAt: string;
  /** The chain head when the export was taken: keep it elsewhere as an anchor. */
  head: { seq: number; hash: string } | null;
  /** Whether the whole stored chain verified when the export was taken. */
  chainVerified: boolean;
  records: EvidenceRecord[];
}

/**
 * Exports `agent`'s audit records with the chain proof: each record carries its own hash and
 * the hash of the record before it in the full chain (another agent's, often), so each record
 * can be re-hashed on its own — `hash = SHA-256(prev || canonical payload)` — and consecutive
 * records are checked to link. The head hash ties the export to the chain as it was.
 */
export async function preserveEvidence(audit: AuditStore, agent: string): Promise<Evidence> {
  const verified = await audit.verify();
  const head = (await audit.query({ order: 'desc', limit: 1 }))[0];
  const records: EvidenceRecord[] = [];
  let after = 0;
  let previous: AuditRecord | undefined;
  for (;;) {
    const page = await audit.query({ agent, afterSeq: after, limit: 5000 });
    for (const record of page) {
      let prev: string;
      if (record.seq === 1) prev = GENESIS_HASH.toString('hex');
      else if (previous && previous.seq === record.seq - 1) prev = previous.hash;
      else {
        const before = (await audit.query({ afterSeq: record.seq - 2, limit: 1 }))[0];
        if (!before || before.seq !== record.seq - 1) {
          throw new Error(
            `audit record ${record.seq - 1} is missing from the store; run \`warden audit verify\``,
          );
        }
        prev = before.hash;
      }
      records.push({ ...record, prev });
      previous = record;
    }
    const last = page.at(-1);
    if (!last || page.length < 5000) break;
    after = last.seq;
  }
  return {
    format: 'warden.evidence/1',
    agent,
    exportedAt: new Date().toISOString(),
    head: head ? { seq: head.seq, hash: head.hash } : null,
    chainVerified: verified.ok,
    records,
  };
}

export interface EvidenceCheck {
  ok: boolean;
  records: number;
  problems: { seq: number; problem: string }[];
}

/**
 * Verifies an export offline: every record re-hashes to its `hash` from its `prev`, records are
 * in increasing seq order, consecutive seqs link (`prev` of n+1 is the hash of n), and none is
 * newer than the head. With `stored` (the live chain), each hash must also match the stored record.
 */
export function verifyEvidence(evidence: Evidence, stored?: Map<number, string>): EvidenceCheck {
  const problems: EvidenceCheck['problems'] = [];
  if (evidence?.format !== 'warden.evidence/1' || !Array.isArray(evidence.records)) {
    return {
      ok: false,
      records: 0,
      problems: [{ seq: 0, problem: 'not a warden evidence file (format warden.evidence/1)' }],
    };
  }
  let last: EvidenceRecord | undefined;
  for (const r of evidence.records) {
    const { hash, prev, ...rest } = r;
    try {
      const computed = linkHash(Buffer.from(prev, 'hex'), encodePayload({ ...rest, v: 1 })).toString('hex');
      if (computed !== hash) problems.push({ seq: r.seq, problem: 'hash-mismatch: the record was changed' });
    } catch (error) {
      problems.push({ seq: r.seq, problem: `unreadable: ${(error as Error).message}` });
    }
    if (last && r.seq <= last.seq)
      problems.push({ seq: r.seq, problem: 'out of order: seq does not increase' });
    if (last && r.seq === last.seq + 1 && prev !== last.hash) {
      problems.push({ seq: r.seq, problem: 'broken-link: prev is not the hash of the record before it' });
    }
    if (evidence.agent && r.agent !== evidence.agent)
      problems.push({ seq: r.seq, problem: `record of another agent (${r.agent})` });
    if (evidence.head && r.seq > evidence.head.seq)
      problems.push({ seq: r.seq, problem: 'newer than the head of the export' });
    if (stored) {
      const live = stored.get(r.seq);
      if (live === undefined) problems.push({ seq: r.seq, problem: 'not in the store' });
      else if (live !== hash) problems.push({ seq: r.seq, problem: 'differs from the stored record' });
    }
    last = r;
  }
  if (evidence.head && last && last.seq === evidence.head.seq && last.hash !== evidence.head.hash) {
    problems.push({ seq: last.seq, problem: 'the head hash does not match the last record' });
  }
  return { ok: problems.length === 0, records: evidence.records.length, problems };
}
