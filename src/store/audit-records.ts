import { canonicalJson } from '../audit/canonical-json.js';
import { type ChainPayload, composePayload } from '../audit/hash-chain.js';
import type { AuditEntry, AuditQuery, AuditRecord } from './store.js';

/** An entry checked and with its `data` already in canonical JSON: ready for any thread to append. */
export interface PreparedEntry {
  type: string;
  agent?: string;
  actionId?: string;
  actor?: string;
  ts?: string;
  data: string;
}

/** Validates an entry and canonicalises its data; throws what the caller must fix. */
export function prepareEntry(entry: AuditEntry): PreparedEntry {
  const prepared: PreparedEntry = { type: entry.type, data: canonicalData(entry) };
  if (entry.agent !== undefined) prepared.agent = entry.agent;
  if (entry.actionId !== undefined) prepared.actionId = entry.actionId;
  if (entry.actor !== undefined) prepared.actor = entry.actor;
  if (entry.ts !== undefined) prepared.ts = entry.ts;
  return prepared;
}

/** Validates an entry and returns its `data` in canonical JSON (what {@link prepareEntry} keeps). */
export function canonicalData(entry: AuditEntry): string {
  if (typeof entry.type !== 'string' || entry.type === '') {
    throw new TypeError(`audit entry \`type\` must be a non-empty string, got \`${String(entry.type)}\``);
  }
  if (entry.data === null || typeof entry.data !== 'object' || Array.isArray(entry.data)) {
    throw new TypeError(`audit entry \`data\` must be an object; wrap other values as \`{ value }\``);
  }
  return canonicalJson(entry.data);
}

/** The stored bytes of a prepared entry at `seq`. Shared by every backend: same entries, same bytes. */
export function payloadOf(entry: PreparedEntry, seq: number, now: string): Buffer {
  const { data, ts, ...envelope } = entry;
  return composePayload({ v: 1, seq, ts: ts ?? now, ...envelope }, data);
}

/** Shared by every backend so that they all store the same bytes for the same entries. */
export function payloadFor(entry: AuditEntry, seq: number, now: string): Buffer {
  return payloadOf(prepareEntry(entry), seq, now);
}

/** Decodes a stored row back into the record callers see. */
export function recordFromRow(payload: Buffer | string, hash: Buffer): AuditRecord {
  const p = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) as ChainPayload;
  const record: AuditRecord = {
    seq: p.seq,
    ts: p.ts,
    type: p.type,
    data: p.data,
    hash: hash.toString('hex'),
  };
  if (p.agent !== undefined) record.agent = p.agent;
  if (p.actionId !== undefined) record.actionId = p.actionId;
  if (p.actor !== undefined) record.actor = p.actor;
  return record;
}

/** `limit` clamped to 1..10,000, default 100 (AuditQuery contract). */
export function queryLimit(query: AuditQuery): number {
  const limit = query.limit ?? 100;
  if (!Number.isFinite(limit) || limit < 1) {
    throw new RangeError(`audit query \`limit\` must be a positive number, got \`${limit}\``);
  }
  return Math.min(Math.floor(limit), 10_000);
}

/** Recommended threshold below which verifying in the calling thread beats starting workers. */
export const IN_THREAD_VERIFY_MAX_ROWS = 50_000;

/** What the writer reports for each appended entry, in order. */
export interface Appended {
  seq: number;
  ts: string;
  hash: string;
}

/** The record a caller gets back: its entry, as stored (the stored bytes are its canonical JSON). */
export function recordOf(entry: AuditEntry, appended: Appended): AuditRecord {
  return recordWith(entry, appended.seq, appended.ts, appended.hash);
}

/** {@link recordOf} without the `Appended` object, for a writer that has the three values at hand. */
export function recordWith(entry: AuditEntry, seq: number, ts: string, hash: string): AuditRecord {
  const record: AuditRecord = { seq, ts, type: entry.type, data: entry.data, hash };
  if (entry.agent !== undefined) record.agent = entry.agent;
  if (entry.actionId !== undefined) record.actionId = entry.actionId;
  if (entry.actor !== undefined) record.actor = entry.actor;
  return record;
}
