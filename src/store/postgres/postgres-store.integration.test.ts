import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PG_URL, pgSchemas } from '../../../test/helpers/pg-schemas.js';
import { storeConformance } from '../store.conformance.js';
import { openPostgresStore } from './postgres-store.js';

/** A new schema per store: tests run in parallel without seeing each other's rows. */
const freshSchema = pgSchemas('t');

storeConformance('postgres', () => openPostgresStore({ url: PG_URL, schema: freshSchema() }), {
  reopen: () => {
    const schema = freshSchema();
    return () => openPostgresStore({ url: PG_URL, schema });
  },
});

test('two stores on one schema append concurrently to one valid chain', async () => {
  const schema = freshSchema();
  const [a, b] = [
    await openPostgresStore({ url: PG_URL, schema }),
    await openPostgresStore({ url: PG_URL, schema }),
  ];
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? a : b).audit.append([
        { type: i % 2 ? 'a' : 'b', data: { i } },
        { type: 'x', data: { i } },
      ]),
    ),
  );
  const result = await b.audit.verify();
  assert.equal(result.ok, true);
  assert.equal(result.records, 80);
  assert.equal(result.headSeq, 80);
  await Promise.all([a.close(), b.close()]);
});

test('a store given the URL of a schema reads what another wrote there', async () => {
  const schema = freshSchema();
  const a = await openPostgresStore({ url: PG_URL, schema });
  await a.kills.kill({ agent: 'bot', reason: 'r', by: 'ops', at: 't' });
  const b = await openPostgresStore({ url: `${PG_URL}?schema=${schema}` });
  assert.deepEqual(
    (await b.kills.list()).map((k) => k.agent),
    ['bot'],
  );
  await Promise.all([a.close(), b.close()]);
});

test('deleting the newest records is reported as a cut tail, even though the rest still chains', async () => {
  const schema = freshSchema();
  const store = await openPostgresStore({ url: PG_URL, schema });
  await store.audit.append(Array.from({ length: 10 }, (_, i) => ({ type: 't', data: { i } })));
  await store.pg.query('DELETE FROM audit WHERE seq > 7');
  const result = await store.audit.verify();
  assert.equal(result.ok, false);
  assert.equal(result.firstBad?.problem, 'tail-cut');
  assert.equal(result.firstBad?.seq, 8);
  await store.close();
});

test('a changed record is found by verify', async () => {
  const schema = freshSchema();
  const store = await openPostgresStore({ url: PG_URL, schema });
  await store.audit.append(Array.from({ length: 10 }, (_, i) => ({ type: 't', data: { i } })));
  await store.pg.query(
    `UPDATE audit SET payload = convert_to(replace(convert_from(payload, 'UTF8'), '"i":4', '"i":5'), 'UTF8') WHERE seq = 5`,
  );
  const result = await store.audit.verify();
  assert.equal(result.ok, false);
  assert.equal(result.firstBad?.seq, 5);
  assert.equal(result.firstBad?.problem, 'hash-mismatch');
  await store.close();
});

test('a kill on one store reaches a watcher on another through NOTIFY', async () => {
  const schema = freshSchema();
  const [a, b] = [
    await openPostgresStore({ url: PG_URL, schema }),
    await openPostgresStore({ url: PG_URL, schema }),
  ];
  const seen: string[][] = [];
  // A poll interval far longer than the test: only the notification can deliver the kill in time.
  const unwatch = b.kills.watch((kills) => seen.push(kills.map((k) => k.agent)), 60_000);
  await new Promise((r) => setTimeout(r, 300));
  await a.kills.kill({ agent: 'bot', reason: 'r', by: 'ops', at: 't' });
  const deadline = Date.now() + 10_000;
  while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, [['bot']]);
  unwatch();
  await Promise.all([a.close(), b.close()]);
});

test('an agent name holding NUL is audited exactly and does not fail the records committed with it', async () => {
  const store = await openPostgresStore({ url: PG_URL, schema: freshSchema() });
  const [odd, plain] = await Promise.all([
    store.audit.append([{ type: 'decision', agent: 'a\0b', data: {} }]),
    store.audit.append([{ type: 'decision', agent: 'bot', data: {} }]),
  ]);
  assert.equal(odd[0]?.agent, 'a\0b');
  assert.equal(plain[0]?.agent, 'bot');
  const [stored] = await store.audit.query({ afterSeq: 0, limit: 1 });
  assert.equal(stored?.agent, 'a\0b');
  assert.equal((await store.audit.verify()).ok, true);
  await store.close();
});
