import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { linkHash } from '../../audit/hash-chain.js';
import { openSqliteStore } from './sqlite-store.js';

// Tampering through a separate connection, as an attacker with file access would; verify must
// name the first record affected, in-thread and when the log is split across worker threads.
const N = 1000;
const dir = mkdtempSync(join(tmpdir(), 'warden-tamper-'));
const template = join(dir, 'template.db');
let cases = 0;

before(async () => {
  const store = await openSqliteStore(template);
  await store.audit.append(
    Array.from({ length: N }, (_, i) => ({
      type: 'decision',
      agent: `a${i % 4}`,
      data: { i, note: 'x'.repeat(40) },
    })),
  );
  await store.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

type Tamper = (db: Database.Database) => void;

const row = (db: Database.Database, seq: number) =>
  db.prepare('SELECT hash, payload FROM audit WHERE seq = ?').get(seq) as { hash: Buffer; payload: Buffer };

const editField =
  (seq: number): Tamper =>
  (db) =>
    db
      .prepare(
        `UPDATE audit SET payload = CAST(json_set(CAST(payload AS TEXT), '$.data.i', -1) AS BLOB) WHERE seq = ?`,
      )
      .run(seq);

const swap =
  (a: number, b: number): Tamper =>
  (db) => {
    const [ra, rb] = [row(db, a), row(db, b)];
    const set = db.prepare('UPDATE audit SET hash = ?, payload = ? WHERE seq = ?');
    set.run(rb.hash, rb.payload, a);
    set.run(ra.hash, ra.payload, b);
  };

const cases_: [string, Tamper, { seq: number; problem: string }][] = [
  ['an edited field in the first record', editField(1), { seq: 1, problem: 'hash-mismatch' }],
  ['an edited field in a middle record', editField(437), { seq: 437, problem: 'hash-mismatch' }],
  ['an edited field in the last record', editField(N), { seq: N, problem: 'hash-mismatch' }],
  [
    'an edited stored hash',
    (db) => db.prepare('UPDATE audit SET hash = zeroblob(32) WHERE seq = 800').run(),
    { seq: 800, problem: 'hash-mismatch' },
  ],
  [
    'a deleted first row',
    (db) => db.prepare('DELETE FROM audit WHERE seq = 1').run(),
    { seq: 1, problem: 'seq-gap' },
  ],
  [
    'a deleted middle row',
    (db) => db.prepare('DELETE FROM audit WHERE seq = 300').run(),
    { seq: 300, problem: 'seq-gap' },
  ],
  [
    'a deleted row at a worker boundary',
    (db) => db.prepare('DELETE FROM audit WHERE seq = 500').run(),
    { seq: 500, problem: 'seq-gap' },
  ],
  [
    'a deleted last-but-one row',
    (db) => db.prepare(`DELETE FROM audit WHERE seq = ${N - 1}`).run(),
    { seq: N - 1, problem: 'seq-gap' },
  ],
  ['two swapped rows', swap(120, 640), { seq: 120, problem: 'broken-link' }],
  [
    'a forged row appended with a bad link',
    (db) =>
      db
        .prepare('INSERT INTO audit (seq, hash, payload) VALUES (?, randomblob(32), ?)')
        .run(N + 1, row(db, 3).payload),
    { seq: N + 1, problem: 'broken-link' },
  ],
  [
    'a forged row numbered before the first record',
    (db) =>
      db
        .prepare('INSERT INTO audit (seq, hash, payload) VALUES (0, randomblob(32), ?)')
        .run(row(db, 1).payload),
    { seq: 0, problem: 'broken-link' },
  ],
  [
    'all later rows renumbered to hide a deletion',
    (db) => {
      db.prepare('DELETE FROM audit WHERE seq = 700').run();
      db.prepare('UPDATE audit SET seq = -seq WHERE seq > 700').run();
      db.prepare('UPDATE audit SET seq = -seq - 1 WHERE seq < 0').run();
    },
    { seq: 700, problem: 'broken-link' },
  ],
  [
    'an edit whose hash was recomputed',
    (db) => {
      editField(250)(db);
      const hash = linkHash(row(db, 249).hash, row(db, 250).payload);
      db.prepare('UPDATE audit SET hash = ? WHERE seq = 250').run(hash);
    },
    { seq: 251, problem: 'hash-mismatch' },
  ],
];

for (const workers of [0, 2, 3]) {
  describe(workers === 0 ? 'verify in-thread' : `verify across ${workers} worker threads`, () => {
    test('an untouched log verifies ok', async () => {
      const store = await openSqliteStore(copyOfTemplate());
      const result = await store.audit.verify({ workers });
      await store.close();
      assert.equal(result.ok, true);
      assert.equal(result.records, N);
      assert.equal(result.headSeq, N);
    });

    for (const [name, tamper, expected] of cases_) {
      test(`names the record for ${name}`, async () => {
        const file = copyOfTemplate();
        const attacker = new Database(file);
        tamper(attacker);
        attacker.close();
        const store = await openSqliteStore(file);
        const result = await store.audit.verify({ workers });
        await store.close();
        assert.equal(result.ok, false);
        assert.deepEqual({ seq: result.firstBad?.seq, problem: result.firstBad?.problem }, expected);
      });
    }
  });
}

function copyOfTemplate(): string {
  const file = join(dir, `case-${++cases}.db`);
  copyFileSync(template, file);
  return file;
}
