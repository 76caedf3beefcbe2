import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir();
const pristine = join(tmp.dir, 'pristine.db');
after(tmp.remove);

before(async () => {
  const store = await openSqliteStore(pristine);
  await store.audit.append(
    Array.from({ length: 100 }, (_, i) => ({
      type: 'decision',
      agent: `agent-${i % 3}`,
      actionId: `act_${i}`,
      data: { i },
    })),
  );
  await store.close();
});

let n = 0;
function tampered(change: (db: Database.Database) => void): string {
  const file = join(tmp.dir, `copy-${n++}.db`);
  copyFileSync(pristine, file);
  const db = new Database(file);
  change(db);
  db.close();
  return file;
}

describe('warden audit verify on a real SQLite file', () => {
  test('an untouched log verifies and prints its head', async () => {
    const r = await runCli(['audit', 'verify', '--db', pristine]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: 100 records verified .* head 100 [0-9a-f]{64}/);
  });

  const cases: Array<[string, (db: Database.Database) => void, RegExp]> = [
    [
      'an updated field',
      (db) =>
        db
          .prepare(
            `UPDATE audit SET payload = CAST(replace(CAST(payload AS TEXT), '"i":37', '"i":99') AS BLOB) WHERE seq = 38`,
          )
          .run(),
      /record 38: hash-mismatch/,
    ],
    ['a deleted row', (db) => db.prepare('DELETE FROM audit WHERE seq = 50').run(), /record 50: seq-gap/],
    [
      'two swapped rows',
      (db) => {
        const row = db.prepare('SELECT hash, payload FROM audit WHERE seq = ?');
        const a = row.get(20) as { hash: Buffer; payload: Buffer };
        const b = row.get(21) as { hash: Buffer; payload: Buffer };
        const set = db.prepare('UPDATE audit SET hash = ?, payload = ? WHERE seq = ?');
        set.run(b.hash, b.payload, 20);
        set.run(a.hash, a.payload, 21);
      },
      /record 20: /,
    ],
  ];
  for (const [what, change, expected] of cases) {
    test(`${what} makes verify fail (exit 1) and name the record`, async () => {
      const r = await runCli(['audit', 'verify', '--db', tampered(change)]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^TAMPERED: /);
      assert.match(r.stdout, expected);
    });
  }

  test('export writes every record with its chain hash as JSON lines', async () => {
    const r = await runCli(['audit', 'export', '--format', 'jsonl', '--db', pristine]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; hash: string });
    assert.equal(lines.length, 100);
    assert.deepEqual(
      lines.map((l) => l.seq),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.ok(lines.every((l) => /^[0-9a-f]{64}$/.test(l.hash)));
  });
});

test('commands on an existing deployment refuse a store that does not exist, and create nothing', async () => {
  const missing = join(tmp.dir, 'typo', 'warden.db');
  for (const args of [
    ['kill', 'bot', '--reason', 'x'],
    ['audit', 'verify'],
    ['approvals', 'list'],
  ]) {
    const r = await runCli([...args, '--db', missing]);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /no store at/);
  }
  assert.equal(existsSync(missing), false);
});

describe('warden audit keygen, checkpoint and verify --public-key', () => {
  test('a tail cut after a checkpoint fails verify with the checkpoint file, and exits 1', async () => {
    const db = tampered(() => undefined);
    const key = join(tmp.dir, 'checkpoint.key');
    const anchors = join(tmp.dir, 'anchors.jsonl');
    assert.equal((await runCli(['audit', 'keygen', '--out', key])).code, 0);
    const cp = await runCli(['audit', 'checkpoint', '--key', key, '--file', anchors, '--db', db]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.match(cp.stdout, /checkpoint of record 100 .* stored as record 101/);
    const good = await runCli([
      'audit',
      'verify',
      '--db',
      db,
      '--public-key',
      `${key}.pub`,
      '--checkpoints',
      anchors,
    ]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /2 signed checkpoints hold/);
    const cut = new Database(db);
    cut.prepare('DELETE FROM audit WHERE seq > 90').run();
    cut.close();
    const bad = await runCli([
      'audit',
      'verify',
      '--db',
      db,
      '--public-key',
      `${key}.pub`,
      '--checkpoints',
      anchors,
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /TAMPERED: record 91: tail-cut/);
  });
});
