import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { checkpointSigner, checkpointVerifier, generateCheckpointKeys } from '../audit/checkpoint.js';
import { readCheckpointFile, verifyWithCheckpoints, writeCheckpoint } from './checkpoints.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-checkpoints-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const keys = generateCheckpointKeys();
const signer = checkpointSigner(keys.privateKey);
const verifier = checkpointVerifier(keys.publicKey);

async function logWithCheckpoint(records: number) {
  const file = join(dir, `s${++n}`, 'warden.db');
  const anchors = join(dir, `anchors${n}.jsonl`);
  const store = await openSqliteStore(file);
  await store.audit.append(Array.from({ length: records }, (_, i) => ({ type: 'decision', data: { i } })));
  await writeCheckpoint(store.audit, signer, anchors);
  return { store, file, anchors };
}

test('a log with its checkpoints untouched verifies, counting the checkpoints in the chain and the file', async () => {
  const { store, anchors } = await logWithCheckpoint(20);
  await store.audit.append([{ type: 'decision', data: { later: true } }]);
  await writeCheckpoint(store.audit, signer, anchors);
  const result = await verifyWithCheckpoints(store.audit, verifier, readCheckpointFile(anchors));
  assert.equal(result.ok, true);
  assert.equal(result.checkpoints, 4);
  await store.close();
});

test('deleting the newest records passes plain verify but is a cut tail against the checkpoint file', async () => {
  const { store, file, anchors } = await logWithCheckpoint(20);
  await store.close();
  const db = new Database(file);
  db.prepare('DELETE FROM audit WHERE seq > 15').run();
  db.close();
  const cut = await openSqliteStore(file);
  assert.equal((await cut.audit.verify()).ok, true, 'the cut chain is still a valid chain on its own');
  const result = await verifyWithCheckpoints(cut.audit, verifier, readCheckpointFile(anchors));
  assert.equal(result.ok, false);
  assert.equal(result.firstBad?.problem, 'tail-cut');
  assert.equal(result.firstBad?.seq, 16);
  await cut.close();
});

test('deleting only the last checkpoint record is a cut tail too', async () => {
  const { store, file, anchors } = await logWithCheckpoint(5);
  await store.close();
  const db = new Database(file);
  db.prepare('DELETE FROM audit WHERE seq = 6').run();
  db.close();
  const cut = await openSqliteStore(file);
  const result = await verifyWithCheckpoints(cut.audit, verifier, readCheckpointFile(anchors));
  assert.deepEqual([result.ok, result.firstBad?.problem], [false, 'tail-cut']);
  await cut.close();
});

test('a checkpoint signed by another key is reported as forged, in the chain and in the file', async () => {
  const { store, anchors } = await logWithCheckpoint(5);
  const other = checkpointSigner(generateCheckpointKeys().privateKey);
  await writeCheckpoint(store.audit, other);
  const inChain = await verifyWithCheckpoints(store.audit, verifier);
  assert.deepEqual(
    [inChain.ok, inChain.firstBad?.problem, inChain.firstBad?.seq],
    [false, 'forged-checkpoint', 7],
  );

  const { store: clean, anchors: cleanAnchors } = await logWithCheckpoint(5);
  // A checkpoint line edited to claim more records than were signed.
  const [line] = readCheckpointFile(cleanAnchors) as { checkpoint: { seq: number } }[];
  if (line) line.checkpoint.seq = 3;
  writeFileSync(cleanAnchors, `${JSON.stringify(line)}\n`);
  const inFile = await verifyWithCheckpoints(clean.audit, verifier, readCheckpointFile(cleanAnchors));
  assert.deepEqual([inFile.ok, inFile.firstBad?.problem], [false, 'forged-checkpoint']);
  assert.ok(readFileSync(anchors, 'utf8').length > 0);
  await Promise.all([store.close(), clean.close()]);
});

test('a chain rewritten with recomputed hashes is caught by the signed checkpoint', async () => {
  const { store, file, anchors } = await logWithCheckpoint(10);
  await store.close();
  // Rebuild the chain from scratch with record 3 changed: every hash is valid again.
  const db = new Database(file);
  const rows = db.prepare('SELECT payload FROM audit ORDER BY seq').pluck().all() as Buffer[];
  db.prepare('DELETE FROM audit').run();
  db.close();
  const rewritten = await openSqliteStore(file);
  const entries = rows.map(
    (p) =>
      JSON.parse(p.toString()) as { type: string; data: Record<string, unknown>; ts: string; actor?: string },
  );
  await rewritten.audit.append(
    entries.map((e, i) => ({
      type: e.type,
      ts: e.ts,
      data: i === 2 ? { i: 99 } : e.data,
      ...(e.actor ? { actor: e.actor } : {}),
    })),
  );
  assert.equal((await rewritten.audit.verify()).ok, true);
  const result = await verifyWithCheckpoints(rewritten.audit, verifier, readCheckpointFile(anchors));
  assert.equal(result.ok, false);
  assert.equal(result.firstBad?.problem, 'hash-mismatch');
  await rewritten.close();
});
