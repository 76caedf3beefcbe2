import type { KeyObject } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { type Checkpoint, checkpointSigned, signCheckpoint } from '../audit/checkpoint.js';
import type { AuditRecord, AuditStore, VerifyProblem, VerifyResult } from './store.js';

/** The audit record type holding a checkpoint of the records before it. */
export const CHECKPOINT_RECORD = 'audit.checkpoint';

/** One line of a checkpoint file: the checkpoint, and the seq of the record that holds it in the chain. */
export interface CheckpointLine {
  checkpoint: Checkpoint;
  record: number;
}

/**
 * Signs the chain's current head and appends the checkpoint to the chain (a record of type
 * `audit.checkpoint`) and, with `file`, as one JSON line to that file: keep the file (or what it
 * is copied to) away from the store, so that cutting the store's tail cannot cut the file's.
 * Returns undefined when the chain is empty.
 */
export async function writeCheckpoint(
  audit: AuditStore,
  key: KeyObject,
  file?: string,
): Promise<CheckpointLine | undefined> {
  const [head] = await audit.query({ order: 'desc', limit: 1 });
  if (!head) return undefined;
  const checkpoint = signCheckpoint(key, head);
  const [record] = await audit.append([{ type: CHECKPOINT_RECORD, actor: 'warden', data: { checkpoint } }]);
  const line: CheckpointLine = { checkpoint, record: (record as AuditRecord).seq };
  if (file) appendFileSync(file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  return line;
}

/**
 * Writes a checkpoint every `everyMs` (and none while nothing was appended since the last one).
 * A failure is reported through `onError` and tried again at the next tick; `onWritten` hears of
 * each one written.
 */
export function startCheckpoints(
  audit: AuditStore,
  key: KeyObject,
  options: {
    everyMs: number;
    file?: string;
    onError?: (error: unknown) => void;
    /** Told of each checkpoint once it is in the chain (and the file): e.g. to export it. */
    onWritten?: (line: CheckpointLine) => void;
  },
): () => void {
  let last = -1;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const [head] = await audit.query({ order: 'desc', limit: 1 });
      if (head && head.seq !== last) {
        const line = await writeCheckpoint(audit, key, options.file);
        if (line) {
          last = line.record;
          options.onWritten?.(line);
        }
      }
    } catch (error) {
      options.onError?.(error);
    } finally {
      busy = false;
    }
  }, options.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Reads a checkpoint file; a line that is not JSON is itself reported as forged. */
export function readCheckpointFile(file: string): unknown[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        return { unreadable: line.slice(0, 80) };
      }
    });
}

/**
 * Verifies the chain, then every checkpoint against it and the public key:
 * - a checkpoint whose signature does not verify is `forged-checkpoint` (in the chain or the file);
 * - a signed checkpoint whose hash is not the chain's at its seq means the chain was rewritten
 *   (hashes recomputed) from there: `hash-mismatch`;
 * - a checkpoint of the file that names a record past the chain's head (the checkpoint's own
 *   record, or the head it signed) means the newest records were removed: `tail-cut`.
 */
export async function verifyWithCheckpoints(
  audit: AuditStore,
  key: KeyObject,
  lines: readonly unknown[] = [],
): Promise<VerifyResult & { checkpoints: number }> {
  const result = await audit.verify();
  if (!result.ok) return { ...result, checkpoints: 0 };
  const headSeq = result.headSeq ?? 0;
  const fail = (firstBad: VerifyProblem, checkpoints: number) => ({
    ...result,
    ok: false,
    firstBad,
    checkpoints,
  });
  const hashAt = async (seq: number) =>
    (await audit.query({ afterSeq: seq - 1, beforeSeq: seq + 1, limit: 1 }))[0]?.hash;
  let checked = 0;
  // In the chain: every checkpoint record.
  for (let after = 0; ; ) {
    const page = await audit.query({ type: CHECKPOINT_RECORD, afterSeq: after, limit: 1000 });
    for (const record of page) {
      const cp = (record.data as { checkpoint?: unknown }).checkpoint;
      const problem = await judge(cp, record.seq, key, headSeq, hashAt);
      if (problem) return fail(problem, checked);
      checked++;
    }
    if (page.length < 1000) break;
    after = (page.at(-1) as AuditRecord).seq;
  }
  // In the file: the same checkpoints, kept where a store's attacker cannot reach them.
  for (const line of lines) {
    const { checkpoint, record } = (line ?? {}) as Partial<CheckpointLine>;
    if (typeof record === 'number' && record > headSeq) {
      return fail(
        {
          seq: headSeq + 1,
          problem: 'tail-cut',
          message: `the chain ends at record ${headSeq} but the checkpoint file holds a checkpoint stored as record ${record}: records ${headSeq + 1}..${record} or more were removed`,
        },
        checked,
      );
    }
    const problem = await judge(checkpoint, typeof record === 'number' ? record : 0, key, headSeq, hashAt);
    if (problem) return fail(problem, checked);
    checked++;
  }
  return { ...result, checkpoints: checked };
}

async function judge(
  cp: unknown,
  at: number,
  key: KeyObject,
  headSeq: number,
  hashAt: (seq: number) => Promise<string | undefined>,
): Promise<VerifyProblem | undefined> {
  if (!checkpointSigned(key, cp)) {
    return {
      seq: at,
      problem: 'forged-checkpoint',
      message: `the checkpoint ${at ? `in record ${at}` : 'in the file'} is not signed by this public key`,
    };
  }
  if (cp.seq > headSeq) {
    return {
      seq: headSeq + 1,
      problem: 'tail-cut',
      message: `a signed checkpoint covers records up to ${cp.seq} but the chain ends at ${headSeq}: the newest records were removed`,
    };
  }
  if ((await hashAt(cp.seq)) !== cp.hash) {
    return {
      seq: cp.seq,
      problem: 'hash-mismatch',
      message: `record ${cp.seq} does not have the hash its signed checkpoint gives: the chain was rewritten from there`,
    };
  }
  return undefined;
}
