import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { storeConformance } from '../store.conformance.js';
import type { ActionRecord } from '../store.js';
import { SCHEMA_VERSION } from './migrations.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshFile = () => join(dir, `s${++n}`, 'warden.db');

storeConformance('sqlite', () => openSqliteStore(freshFile()), {
  reopen: () => {
    const file = freshFile();
    return () => openSqliteStore(file);
  },
});

test('creates the directory, uses WAL with full sync, and records the schema version', async () => {
  const file = freshFile();
  const store = await openSqliteStore(file);
  await store.close();
  const db = new Database(file);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
});

test('data survives close and reopen', async () => {
  const file = freshFile();
  const store = await openSqliteStore(file);
  await store.audit.append([{ type: 'decision', data: { n: 1 } }]);
  await store.kills.kill({ agent: 'bot', reason: 'r', by: 'ops', at: 't' });
  await store.close();
  const again = await openSqliteStore(file);
  assert.equal(await again.audit.count(), 1);
  assert.deepEqual(
    (await again.kills.list()).map((k) => k.agent),
    ['bot'],
  );
  assert.equal((await again.audit.verify()).ok, true);
  await again.close();
});

test('refuses a file written by a newer schema, saying what to do', async () => {
  const file = freshFile();
  await (await openSqliteStore(file)).close();
  const db = new Database(file);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  await assert.rejects(openSqliteStore(file), /schema version \d+ .* upgrade Warden/);
});

test('two stores on one file append to one valid chain', async () => {
  const file = freshFile();
  const [a, b] = [await openSqliteStore(file), await openSqliteStore(file)];
  for (let i = 0; i < 20; i++) {
    await Promise.all([
      a.audit.append([{ type: 'a', data: { i } }]),
      b.audit.append([{ type: 'b', data: { i } }]),
    ]);
  }
  const result = await a.audit.verify();
  assert.equal(result.ok, true);
  assert.equal(result.records, 40);
  await Promise.all([a.close(), b.close()]);
});

test('an older store keeps its actions, now keyed by agent and id', async () => {
  const file = freshFile();
  await (await openSqliteStore(file)).close();
  // Back to the version-4 actions table, holding one action as version 4 stored it.
  const db = new Database(file);
  db.exec('DROP TABLE actions; CREATE TABLE actions (id TEXT PRIMARY KEY, record TEXT NOT NULL);');
  const old: ActionRecord = {
    id: 'act_old',
    agent: 'bot',
    action: { agent: 'bot', type: 'fs.read', params: {}, id: 'act_old' },
    decision: { id: 'act_old', effect: 'allow', risk: 'low', reasons: [] },
    status: 'allowed',
    createdAt: 't',
    updatedAt: 't',
  };
  db.prepare('INSERT INTO actions (id, record) VALUES (?, ?)').run('act_old', JSON.stringify(old));
  db.pragma('user_version = 4');
  db.close();
  const store = await openSqliteStore(file);
  assert.deepEqual(await store.actions.get('bot', 'act_old'), old);
  assert.deepEqual(
    (await store.actions.list({ status: 'allowed' })).map((a) => a.id),
    ['act_old'],
  );
  await store.actions.create({ ...old, agent: 'other' });
  assert.equal((await store.actions.find('act_old')).length, 2);
  await store.close();
});
