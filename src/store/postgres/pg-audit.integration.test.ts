import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { PG_URL, pgSchemas } from '../../../test/helpers/pg-schemas.js';
import { MemoryStore } from '../memory/memory-store.js';
import type { AuditEntry } from '../store.js';
import { openPostgresStore, type PostgresStore } from './postgres-store.js';

const freshSchema = pgSchemas('h_pgaudit');

async function openMany(count: number): Promise<PostgresStore[]> {
  const schema = freshSchema();
  const stores: PostgresStore[] = [];
  for (let i = 0; i < count; i++) stores.push(await openPostgresStore({ url: PG_URL, schema }));
  return stores;
}

test('three stores appending concurrently on one schema build one gapless chain that verifies', async () => {
  const stores = await openMany(3);
  const returned = (
    await Promise.all(
      Array.from({ length: 90 }, (_, i) =>
        (stores[i % 3] as PostgresStore).audit.append(
          Array.from({ length: 1 + (i % 4) }, (_, j) => ({
            type: 'decision',
            agent: `agent-${i % 3}`,
            data: { i, j, note: 'ü "quoted" \\ seq' },
          })),
        ),
      ),
    )
  ).flat();
  const total = returned.length;
  // Every caller got the seq and hash its record is stored under: no seq twice, none skipped.
  assert.deepEqual(
    returned.map((r) => r.seq).sort((a, b) => a - b),
    Array.from({ length: total }, (_, i) => i + 1),
  );
  const stored = await (stores[1] as PostgresStore).audit.query({ afterSeq: 0, limit: 10_000 });
  const bySeq = new Map(stored.map((r) => [r.seq, r]));
  for (const record of returned) {
    assert.equal(bySeq.get(record.seq)?.hash, record.hash);
    assert.deepEqual(bySeq.get(record.seq)?.data, record.data);
  }
  const verified = await (stores[2] as PostgresStore).audit.verify();
  assert.equal(verified.ok, true);
  assert.equal(verified.records, total);
  assert.equal(verified.headSeq, total);
  await Promise.all(stores.map((s) => s.close()));
});

test('one store with two commits in flight (they may reach the chain lock in either order) returns each caller the seq and hash it is stored under', async () => {
  const [store] = await openMany(1);
  const audit = (store as PostgresStore).audit;
  const returned = [];
  // Waves of appends: each wave queues behind a commit in flight, so two commits race for the lock.
  for (let wave = 0; wave < 20; wave++) {
    const batch = await Promise.all(
      Array.from({ length: 1 + (wave % 5) }, (_, i) =>
        audit.append([{ type: 'decision', agent: 'a', data: { wave, i } }]),
      ),
    );
    returned.push(...batch.flat());
    if (wave % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const stored = new Map((await audit.query({ afterSeq: 0, limit: 10_000 })).map((r) => [r.seq, r]));
  assert.equal(stored.size, returned.length);
  for (const record of returned) {
    assert.equal(stored.get(record.seq)?.hash, record.hash);
    assert.deepEqual(stored.get(record.seq)?.data, record.data);
  }
  assert.equal((await audit.verify()).ok, true);
  await (store as PostgresStore).close();
});

test('a batch re-linked from a head another server moved stores the bytes and hashes the memory store does', async () => {
  const [a, b] = await openMany(2);
  if (!a || !b) throw new Error('stores did not open');
  const ts = '2026-01-02T03:04:05.000Z';
  const entry = (i: number): AuditEntry => ({
    type: 'decision',
    agent: 'bot',
    actionId: `act-${i}`,
    ts,
    // A nested "seq" key must not be taken for the record's own.
    data: { i, seq: 99, text: `,"seq":${i},` },
  });
  // b has seen nothing: its batch is hashed for seqs 1.. and re-linked to 10.. (one more digit).
  await b.audit.append([entry(0)]);
  await a.audit.append(Array.from({ length: 8 }, (_, i) => entry(i + 1)));
  const relinked = await b.audit.append([entry(9), entry(10), entry(11)]);
  assert.deepEqual(
    relinked.map((r) => r.seq),
    [10, 11, 12],
  );
  const memory = new MemoryStore();
  const expected = await memory.audit.append(Array.from({ length: 12 }, (_, i) => entry(i)));
  const stored = await a.audit.query({ afterSeq: 0, limit: 100 });
  assert.deepEqual(
    stored.map((r) => r.hash),
    expected.map((r) => r.hash),
  );
  assert.deepEqual(
    relinked.map((r) => r.hash),
    expected.slice(9).map((r) => r.hash),
  );
  assert.equal((await a.audit.verify()).ok, true);
  await Promise.all([a.close(), b.close()]);
});

test('a connection dropped between two statements of a transaction fails it as unavailable, and the process goes on', async () => {
  const [store] = await openMany(1);
  if (!store) throw new Error('store did not open');
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await assert.rejects(
      store.pg.transaction(async (tx) => {
        const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [row?.pid]);
        // The drop arrives while no statement is running on the connection.
        await new Promise((r) => setTimeout(r, 300));
        await tx.query('SELECT 1');
      }),
      (error: Error & { code?: string }) => error.code === 'store.unavailable',
    );
    // The pool replaces the connection: the store still appends.
    const [record] = await store.audit.append([{ type: 't', data: {} }]);
    assert.equal(record?.seq, 1);
  } finally {
    await admin.end();
    await store.close();
  }
});

test('a type=result query finds result records and decisions carrying their result, and a NUL in a payload does not fail it', async () => {
  const [store] = await openMany(1);
  const audit = (store as PostgresStore).audit;
  await audit.append([
    { type: 'decision', agent: 'a', actionId: 'act_1', data: { effect: 'allow' } },
    { type: 'result', agent: 'a', actionId: 'act_1', data: { status: 'completed' } },
    {
      type: 'decision',
      agent: 'a',
      actionId: 'act_2',
      data: { effect: 'allow', result: { status: 'completed' } },
    },
    { type: 'decision', agent: 'a', actionId: 'act_3', data: { effect: 'allow', note: 'a\u0000b' } },
    { type: 'decision', agent: 'a', actionId: 'act_4', data: { effect: 'allow', result: 'not an object' } },
  ]);
  const found = await audit.query({ type: 'result', limit: 100 });
  assert.deepEqual(
    found.map((r) => [r.type, r.actionId]),
    [
      ['result', 'act_1'],
      ['decision', 'act_2'],
    ],
  );
  await (store as PostgresStore).close();
});

test('names holding quotes, backslashes, commas and braces are found by query exactly as written', async () => {
  const [store] = await openMany(1);
  const audit = (store as PostgresStore).audit;
  const odd = ['say "hi"', 'back\\slash', 'a,b', '{x}', 'NULL', 'ü ☃'];
  await audit.append([
    ...odd.map((agent, i) => ({ type: 'decision', agent, actionId: `act_${i}`, data: { i } })),
    { type: 'note "q"', data: { none: true } },
  ]);
  for (const [i, agent] of odd.entries()) {
    const found = await audit.query({ agent });
    assert.deepEqual(
      found.map((r) => [r.agent, r.actionId, r.data]),
      [[agent, `act_${i}`, { i }]],
    );
  }
  assert.equal((await audit.query({ type: 'note "q"' })).length, 1);
  assert.equal((await audit.verify()).ok, true);
  await (store as PostgresStore).close();
});
