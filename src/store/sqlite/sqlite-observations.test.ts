import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { LATER_MAX_MS } from '../../audit/audit-log.js';
import type { ObservationRecord } from '../../contract/observation.js';
import { openSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-sqlite-obs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshFile = () => join(dir, `o${++n}.db`);

const record = (source: string): ObservationRecord => ({
  agent: 'bot',
  session: 's1',
  source,
  trust: 'untrusted',
  digest: 'ab'.repeat(32),
  length: 3,
  findings: [],
  labels: ['untrusted'],
  values: [],
  at: '2026-01-01T00:00:00.000Z',
});

/** What another process reading the file sees: committed rows only. */
function committedSources(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT record FROM observations ORDER BY seq').pluck().all() as string[]).map(
      (json) => (JSON.parse(json) as ObservationRecord).source,
    );
  } finally {
    db.close();
  }
}

test('an observation appended later is committed in the next audit transaction, before its own timer', async () => {
  const file = freshFile();
  const store = await openSqliteStore(file, { sync: 'normal', auditWriter: 'inline' });
  try {
    const riding = store.observations.appendLater(record('mcp:files/read'));
    assert.deepEqual(committedSources(file), [], 'nothing is committed before a transaction carries it');
    await store.audit.append([{ type: 'decision', agent: 'bot', data: { n: 1 } }]);
    assert.deepEqual(committedSources(file), ['mcp:files/read']);
    const stored = await riding;
    assert.equal(typeof stored.seq, 'number');
    assert.deepEqual(
      (await store.observations.list('bot', 's1')).map((r) => r.seq),
      [stored.seq],
    );
  } finally {
    await store.close();
  }
});

test('an observation appended later with no audit commit to ride commits on its own', async () => {
  const file = freshFile();
  const store = await openSqliteStore(file, { sync: 'normal', auditWriter: 'inline' });
  try {
    const started = Date.now();
    const stored = await store.observations.appendLater(record('http:https://a.example/'));
    assert.ok(Date.now() - started >= LATER_MAX_MS - 1, 'it waited for a commit to ride');
    assert.deepEqual(committedSources(file), ['http:https://a.example/']);
    assert.equal(typeof stored.seq, 'number');
  } finally {
    await store.close();
  }
});

test('closing the store commits the observations still waiting to ride', async () => {
  const file = freshFile();
  const store = await openSqliteStore(file, { sync: 'normal', auditWriter: 'inline' });
  const riding = store.observations.appendLater(record('email'));
  await store.close();
  assert.equal(typeof (await riding).seq, 'number');
  assert.deepEqual(committedSources(file), ['email']);
});

test('an observation riding an audit transaction that fails is rejected, not reported stored', async () => {
  const file = freshFile();
  const store = await openSqliteStore(file, { sync: 'normal', auditWriter: 'inline', busyTimeoutMs: 0 });
  // Another connection holds the write lock: the audit's BEGIN IMMEDIATE fails at once.
  const other = new Database(file);
  const riding = store.observations.appendLater(record('fs:/tmp/x'));
  other.exec('BEGIN IMMEDIATE');
  try {
    await assert.rejects(store.audit.append([{ type: 'decision', agent: 'bot', data: {} }]), /locked|busy/i);
    await assert.rejects(riding, /locked|busy/i);
  } finally {
    other.exec('ROLLBACK');
    other.close();
    await store.close();
  }
  assert.deepEqual(committedSources(file), []);
});

test('with the writer thread an observation appended later is committed without waiting for a ride', async () => {
  const file = freshFile();
  const store = await openSqliteStore(file, { sync: 'full', auditWriter: 'thread' });
  try {
    const stored = await store.observations.appendLater(record('mcp:db/query'));
    assert.equal(typeof stored.seq, 'number');
    assert.deepEqual(committedSources(file), ['mcp:db/query']);
  } finally {
    await store.close();
  }
});
