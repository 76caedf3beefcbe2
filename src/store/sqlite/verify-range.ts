import type { Database } from 'better-sqlite3';
import { type ChainRow, ChainVerifier } from '../../audit/hash-chain.js';
import type { VerifyProblem } from '../store.js';

/** One slice of the log to verify: rows with `after < seq <= last`. */
export interface VerifyRange {
  /** Seq before the first row of the slice; `first` slices read from the very start instead. */
  after: number;
  last: number;
  first: boolean;
  /** Stored hash of row `after` (absent for the first slice, or when that row is missing). */
  seed?: Buffer;
}

export interface RangeResult {
  count: number;
  problem?: VerifyProblem;
  lastHash?: Buffer;
}

const PAGE = 8192;

/** Verifies one slice on `db`, paging through raw rows so memory stays flat. */
export function verifyRange(db: Database, range: VerifyRange): RangeResult {
  const page = db
    .prepare('SELECT seq, hash, payload FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?')
    .raw();
  if (!range.first && range.seed === undefined) {
    // The previous slice reports the missing row itself; this keeps the result well-defined.
    return {
      count: 0,
      problem: { seq: range.after, problem: 'seq-gap', message: `record ${range.after} is missing` },
    };
  }
  const verifier = range.first
    ? new ChainVerifier()
    : new ChainVerifier({ prevHash: range.seed as Buffer, firstSeq: range.after + 1 });
  let cursor = range.first ? Number.MIN_SAFE_INTEGER : range.after;
  for (;;) {
    const rows = page.all(cursor, range.last, PAGE) as ChainRow[];
    for (const row of rows) {
      const problem = verifier.push(row);
      if (problem) return { count: verifier.count, problem };
    }
    const lastRow = rows.at(-1);
    if (lastRow === undefined || rows.length < PAGE) break;
    cursor = lastRow[0];
  }
  const problem = verifier.finish(range.last);
  if (problem) return { count: verifier.count, problem };
  return verifier.count === 0 ? { count: 0 } : { count: verifier.count, lastHash: verifier.prevHash };
}
