import { linkHash, payloadHead, payloadTail, SEQ_KEY } from '../../audit/hash-chain.js';
import type { PreparedEntry } from '../audit-records.js';

/** Prepared entries of one append call, with the UTF-8 length of each one's canonical data. */
export interface PackInput {
  prepared: readonly PreparedEntry[];
  sizes: readonly number[];
  /** The time of entries without their own `ts`. */
  now: string;
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

// Room for a payload's envelope (head and tail) beyond its data: a UTF-16 unit is at most 3 bytes.
const envelopeRoom = (head: string, tail: string) => 3 * (head.length + tail.length);

/**
 * Hashes the rows from `seq`/`hash` and packs them. Each payload is written straight into the
 * packed buffer, in the pieces the chain rule defines (`payloadHead`, the data, `payloadTail`):
 * no composed string, Buffer or array element per row, and the seq offset is known without a search.
 */
export function packBatch(batch: readonly PackInput[], seq: number, hash: Buffer): PackedBatch {
  let count = 0;
  let room = 0;
  for (const q of batch) {
    count += q.prepared.length;
    for (const size of q.sizes) room += size + 256;
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
    for (let k = 0; k < q.prepared.length; k++) {
      const entry = q.prepared[k] as PreparedEntry;
      const size = q.sizes[k] as number;
      seq++;
      const head = payloadHead(entry);
      const tail = payloadTail(seq, entry.ts ?? q.now, entry.type);
      const need = off + size + envelopeRoom(head, tail);
      if (need > payloads.length) {
        const grown = Buffer.allocUnsafe(2 * need);
        payloads.copy(grown, 0, 0, off);
        payloads = grown;
      }
      const start = off;
      off += payloads.write(head, off, 'utf8');
      off += payloads.write(entry.data, off, 'utf8');
      seqAt.push(off - start + SEQ_KEY.length);
      off += payloads.write(tail, off, 'utf8');
      prev = linkHash(prev, payloads.subarray(start, off));
      prev.copy(hashes, offs.length * 32);
      offs.push(start);
      lens.push(off - start);
      // PostgreSQL text cannot hold NUL: the query columns get U+FFFD instead (the payload,
      // which is hashed, keeps the entry exactly), so one odd name cannot fail its batch.
      types.push(column(entry.type) as string);
      agents.push(column(entry.agent));
      actionIds.push(column(entry.actionId));
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
