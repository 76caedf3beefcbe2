import { linkHash, payloadHead, payloadTail, SEQ_KEY } from '../../audit/hash-chain.js';
import { canonicalData } from '../audit-records.js';
import type { AuditEntry } from '../store.js';

/**
 * The entries of one append call, checked and encoded when appended: per entry, its payload up to
 * the end of its data (`payloadHead` and the canonical data), UTF-8, back to back in `starts`,
 * entry i `sizes[i]` bytes long; and the fields the rest of its row needs. Encoded at once so that
 * the strings die young: kept until the commit, they were copied by every scavenge meanwhile.
 */
export interface PackInput {
  starts: Buffer;
  sizes: readonly number[];
  types: readonly string[];
  agents: readonly (string | undefined)[];
  actionIds: readonly (string | undefined)[];
  /** Each entry's own `ts`, if it has one. */
  stamps: readonly (string | undefined)[];
  /** The time of entries without their own `ts`. */
  now: string;
}

/** Checks and encodes `entries` (see {@link PackInput}); throws what the caller must fix. */
export function packInput(entries: readonly AuditEntry[], now: string): PackInput {
  const heads: string[] = [];
  const json: string[] = [];
  const sizes: number[] = [];
  let total = 0;
  for (const entry of entries) {
    const data = canonicalData(entry);
    const head = payloadHead(entry);
    const size = Buffer.byteLength(head) + Buffer.byteLength(data);
    heads.push(head);
    json.push(data);
    sizes.push(size);
    total += size;
  }
  const starts = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = 0; i < heads.length; i++) {
    off += starts.write(heads[i] as string, off, 'utf8');
    off += starts.write(json[i] as string, off, 'utf8');
  }
  return {
    starts,
    sizes,
    types: entries.map((e) => e.type),
    agents: entries.map((e) => e.agent),
    actionIds: entries.map((e) => e.actionId),
    stamps: entries.map((e) => e.ts),
    now,
  };
}

/**
 * A batch as `audit_append()` (PG migration 3) takes it: every payload in one buffer, every hash
 * in another, and the per-row columns as array literals.
 */
export interface PackedBatch {
  count: number;
  /** The seq and hash of the last row, when the batch extends the chain from `seq`/`hash`. */
  lastSeq: number;
  lastHash: Buffer;
  /** The parameters after `expected_seq, expected_hash`, in order. */
  params: [Buffer, Buffer, string, string, string, string, string, string];
}

/**
 * Hashes the rows from `seq`/`hash` and packs them. Each payload is written straight into the
 * packed buffer, in the pieces the chain rule defines (head and data as encoded, then
 * `payloadTail`): no composed string, Buffer or array element per row, and the seq offset is
 * known without a search.
 */
export function packBatch(batch: readonly PackInput[], seq: number, hash: Buffer): PackedBatch {
  let count = 0;
  let room = 0;
  for (const q of batch) {
    count += q.sizes.length;
    room += q.starts.length + 256 * q.sizes.length;
  }
  const hashes = Buffer.allocUnsafe(count * 32);
  let payloads = Buffer.allocUnsafe(room);
  const offs: number[] = [];
  const lens: number[] = [];
  const seqAt: number[] = [];
  const types: string[] = [];
  const agents: (string | null)[] = [];
  const actionIds: (string | null)[] = [];
  let prev = hash;
  let off = 0;
  for (const q of batch) {
    let at = 0;
    for (let k = 0; k < q.sizes.length; k++) {
      const size = q.sizes[k] as number;
      const type = q.types[k] as string;
      seq++;
      const tail = payloadTail(seq, q.stamps[k] ?? q.now, type);
      const need = off + size + 3 * tail.length;
      if (need > payloads.length) {
        const grown = Buffer.allocUnsafe(2 * need);
        payloads.copy(grown, 0, 0, off);
        payloads = grown;
      }
      const start = off;
      off += q.starts.copy(payloads, off, at, at + size);
      at += size;
      seqAt.push(size + SEQ_KEY.length);
      off += payloads.write(tail, off, 'utf8');
      prev = linkHash(prev, payloads.subarray(start, off));
      prev.copy(hashes, offs.length * 32);
      offs.push(start);
      lens.push(off - start);
      // PostgreSQL text cannot hold NUL: the query columns get U+FFFD instead (the payload,
      // which is hashed, keeps the entry exactly), so one odd name cannot fail its batch.
      types.push(column(type) as string);
      agents.push(column(q.agents[k]));
      actionIds.push(column(q.actionIds[k]));
    }
  }
  return {
    count,
    lastSeq: seq,
    lastHash: prev,
    // Array literals built here: pg's own array builder allocates several strings per element.
    params: [
      hashes,
      payloads.subarray(0, off),
      intArray(offs),
      intArray(lens),
      intArray(seqAt),
      textArray(types),
      textArray(agents),
      textArray(actionIds),
    ],
  };
}

function column(value: string | undefined): string | null {
  if (value === undefined) return null;
  return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
}

/** A PostgreSQL int[] literal. */
function intArray(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}

/** A PostgreSQL text[] literal, elements quoted and escaped as pg's own array builder does. */
export function textArray(values: readonly (string | null)[]): string {
  if (values.length === 0) return '{}';
  // The usual batch (names without quotes or backslashes, no NULL) is one join, no string per element.
  if (values.every((v) => v !== null && !ARRAY_ESCAPE.test(v))) return `{"${values.join('","')}"}`;
  const quoted = values.map((v) =>
    v === null ? 'NULL' : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
  );
  return `{${quoted.join(',')}}`;
}

const ARRAY_ESCAPE = /["\\]/;
