/**
 * The audit trail's records (SPEC §6): what the pipeline appends and what a store returns.
 * Every stage, store and reader shares these shapes; they import nothing of Warden's.
 */

/** What a caller appends. The store assigns `seq`, `ts` (unless given), `prev` and `hash`. */
export interface AuditEntry {
  /** `decision`, `result`, `approval.request`, `approval.vote`, `approval.expired`, `kill`, `revive`, … */
  type: string;
  agent?: string;
  actionId?: string;
  /** Who caused it when that is not the agent: an operator, an approver. */
  actor?: string;
  data: Record<string, unknown>;
  ts?: string;
}

export interface AuditRecord {
  seq: number;
  ts: string;
  type: string;
  agent?: string;
  actionId?: string;
  actor?: string;
  data: Record<string, unknown>;
  /** SHA-256 (hex) of the previous record's hash and this record's canonical JSON. */
  hash: string;
}

export interface AuditQuery {
  afterSeq?: number;
  beforeSeq?: number;
  agent?: string;
  actionId?: string;
  type?: string;
  /**
   * A hint: only records whose JSON contains this text (ASCII case-insensitive). A store may
   * ignore it, so callers re-check what comes back (`GET /v1/audit/search` does).
   */
  text?: string;
  /** Default 100, at most 10,000. */
  limit?: number;
  /** `asc` from the oldest (default), `desc` from the newest. */
  order?: 'asc' | 'desc';
}

export interface VerifyProblem {
  seq: number;
  /**
   * `hash-mismatch` (the record was changed) or `broken-link` (a record before it was removed,
   * inserted or moved); `tail-cut` (records at the end were removed: an anchor — the store's chain
   * head or a signed checkpoint — names a record that is not there); `forged-checkpoint` (a
   * checkpoint whose signature does not verify, or whose hash is not the chain's at its seq).
   */
  problem: 'hash-mismatch' | 'broken-link' | 'seq-gap' | 'unreadable' | 'tail-cut' | 'forged-checkpoint';
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  firstBad?: VerifyProblem;
  /** Hash of the last record verified: an anchor to keep elsewhere. */
  headHash?: string;
  headSeq?: number;
  elapsedMs: number;
}

export interface AuditStore {
  /** Appends atomically, in order, in one transaction; chained to whatever is already stored. */
  append(entries: readonly AuditEntry[]): Promise<AuditRecord[]>;
  query(query: AuditQuery): Promise<AuditRecord[]>;
  verify(options?: { workers?: number }): Promise<VerifyResult>;
  count(): Promise<number>;
}

/**
 * Where the pipeline sends audit entries. `append` resolves once the record is durable; a
 * rejection means it is not, and the caller must fail closed.
 */
export interface AuditSink {
  append(entry: AuditEntry): Promise<AuditRecord>;
}

/**
 * An output may say how it is audited: `output[AUDIT_VIEW]()` returns the bounded summary to
 * record (a sandbox result keeps its exit code, limits and violations and only a prefix of its
 * streams). Symbol keys stay out of the JSON the agent receives.
 */
export const AUDIT_VIEW: unique symbol = Symbol.for('warden.auditView');

/**
 * The records a stored record stands for. A `decision` record with `data.result` (written by
 * `run()` for an executor declared without outside effects, SPEC §6) is the action's decision
 * and its result in one: it reads as the decision (without `result`) followed by a `result`
 * record with the same `seq`, `ts` and `hash`. Every other record stands for itself. Readers that
 * show or count decisions and results (the dashboard, `warden audit`, incident reports,
 * `/v1/audit`, monitoring) read records through this.
 */
export function splitRecord(record: AuditRecord): AuditRecord[] {
  if (!hasResult(record)) return [record];
  const { result, ...decision } = record.data;
  return [
    { ...record, data: decision },
    { ...record, type: 'result', data: result as Record<string, unknown> },
  ];
}

/** `splitRecord` over a page, in order. */
export function splitRecords(records: readonly AuditRecord[]): AuditRecord[] {
  return records.some(hasResult) ? records.flatMap(splitRecord) : (records as AuditRecord[]);
}

/** Whether `record` is a decision that carries its action's result (a combined record). */
export function hasResult(record: AuditRecord): boolean {
  return (
    record.type === 'decision' &&
    typeof record.data.result === 'object' &&
    record.data.result !== null &&
    !Array.isArray(record.data.result)
  );
}
