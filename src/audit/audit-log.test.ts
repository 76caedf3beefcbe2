import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntry, AuditRecord, AuditStore } from '../contract/records.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { AuditLog } from './audit-log.js';

/** `inner` with its `append` replaced (spreading a class instance would drop its methods). */
function withAppend(inner: AuditStore, append: AuditStore['append']): AuditStore {
  return { append, query: (q) => inner.query(q), verify: (o) => inner.verify(o), count: () => inner.count() };
}

/** A store whose appends all wait until `release()`: shows what AuditLog hands over meanwhile. */
function gated() {
  const inner = new MemoryStore().audit;
  const batches: number[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const store = withAppend(inner, async (entries) => {
    batches.push(entries.length);
    await gate;
    return inner.append(entries);
  });
  return { store, batches, release: () => release() };
}

/** Wraps a store to record batch sizes and optionally fail or delay batches. */
function spy(inner: AuditStore, opts: { failBatch?: number; delayMs?: number } = {}) {
  const batches: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const store = withAppend(inner, async (entries: readonly AuditEntry[]): Promise<AuditRecord[]> => {
    batches.push(entries.length);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (batches.length === opts.failBatch) throw new Error('disk full');
      return await inner.append(entries);
    } finally {
      inFlight--;
    }
  });
  return { store, batches, maxInFlight: () => maxInFlight };
}

test('concurrent appends share batches of at most maxBatch, in order', async () => {
  const memory = new MemoryStore();
  const s = spy(memory.audit);
  const log = new AuditLog(s.store, { maxBatch: 100 });
  const records = await Promise.all(
    Array.from({ length: 250 }, (_, i) => log.append({ type: 't', data: { i } })),
  );
  assert.deepEqual(s.batches, [100, 100, 50]);
  assert.ok(s.maxInFlight() <= 4, 'never more batches in flight than the default maxInFlight');
  assert.deepEqual(
    records.map((r) => [r.seq, r.data.i]),
    Array.from({ length: 250 }, (_, i) => [i + 1, i]),
  );
  assert.equal((await memory.audit.verify()).ok, true);
});

test('with maxInFlight 1, entries arriving while a batch commits go in the next batch', async () => {
  const { store, batches, release } = gated();
  const log = new AuditLog(store, { maxInFlight: 1 });
  const first = log.append({ type: 't', data: {} });
  while (batches.length === 0) await new Promise((r) => setImmediate(r));
  const later = Array.from({ length: 10 }, () => log.append({ type: 't', data: {} }));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(batches, [1], 'no second batch while the first is in flight');
  release();
  await Promise.all([first, ...later]);
  assert.deepEqual(batches, [1, 10]);
});

test('at most maxInFlight batches are handed to the store before one commits', async () => {
  const { store, batches, release } = gated();
  const log = new AuditLog(store, { maxInFlight: 2 });
  const all = [log.append({ type: 't', data: {} })];
  while (batches.length < 1) await new Promise((r) => setImmediate(r));
  all.push(log.append({ type: 't', data: {} }), log.append({ type: 't', data: {} }));
  while (batches.length < 2) await new Promise((r) => setImmediate(r));
  all.push(...Array.from({ length: 5 }, () => log.append({ type: 't', data: {} })));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(batches, [1, 2], 'a third batch waits for one of the two in flight');
  release();
  await Promise.all(all);
  assert.deepEqual(batches, [1, 2, 5]);
});

test('a queue longer than one batch is handed over as several batches at once, up to maxInFlight', async () => {
  const { store, batches, release } = gated();
  const log = new AuditLog(store, { maxBatch: 2, maxInFlight: 3 });
  const all = Array.from({ length: 10 }, (_, i) => log.append({ type: 't', data: { i } }));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(batches, [2, 2, 2], 'three batches in flight, not one waiting behind another');
  release();
  const records = await Promise.all(all);
  assert.deepEqual(
    records.map((r) => r.data.i),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test('a failed batch rejects every append in it and later batches still commit', async () => {
  const memory = new MemoryStore();
  const s = spy(memory.audit, { failBatch: 1 });
  const log = new AuditLog(s.store);
  const doomed = Array.from({ length: 5 }, (_, i) => log.append({ type: 't', data: { i } }));
  const results = await Promise.allSettled(doomed);
  assert.ok(results.every((r) => r.status === 'rejected' && /disk full/.test(String(r.reason))));
  const ok = await log.append({ type: 't', data: { after: true } });
  assert.equal(ok.seq, 1);
  assert.equal(await memory.audit.count(), 1);
});

test('a bad entry fails its batch rather than being skipped', async () => {
  const log = new AuditLog(new MemoryStore().audit);
  const good = log.append({ type: 't', data: {} });
  const bad = log.append({ type: 't', data: { n: Number.NaN } });
  await assert.rejects(good, /finite/);
  await assert.rejects(bad, /finite/);
});

test('flush waits for queued entries and close refuses new ones', async () => {
  const memory = new MemoryStore();
  const log = new AuditLog(memory.audit, { maxBatch: 3 });
  for (let i = 0; i < 10; i++) void log.append({ type: 't', data: { i } });
  await log.flush();
  assert.equal(await memory.audit.count(), 10);
  await log.close();
  await assert.rejects(log.append({ type: 't', data: {} }), /audit log is closed/);
});

test('an entry appended for later rides the next commit made for another, in order, or is committed on its own', async () => {
  const { store, batches } = spy(new MemoryStore().audit);
  const log = new AuditLog(store);
  const entry = (type: string): AuditEntry => ({ type, agent: 'bot', data: {} });
  const result = log.appendLater(entry('result'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(batches, [], 'nothing was committed for it alone at once');
  const decision = await log.append(entry('decision'));
  const resulted = await result;
  assert.deepEqual(batches, [2], 'one commit for both');
  assert.ok(resulted.seq < decision.seq, 'in the order appended');
  const alone = await log.appendLater(entry('result'));
  assert.equal(alone.type, 'result', 'with no other record coming, it is still committed');
  assert.deepEqual(batches, [2, 1]);
  await log.close();
});
