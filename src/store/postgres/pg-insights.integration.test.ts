import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PG_URL, pgSchemas } from '../../../test/helpers/pg-schemas.js';
import type { AuditEntry } from '../store.js';
import { openPostgresStore } from './postgres-store.js';

const schema = pgSchemas('h_pgaudit_insights')();

const ts = (minute: number) => new Date(Date.UTC(2026, 0, 2, 10, minute)).toISOString();
const decision = (agent: string, id: string, minute: number, effect: string): AuditEntry => ({
  type: 'decision',
  agent,
  actionId: id,
  ts: ts(minute),
  data: { action: { type: 'fs.read', session: 's' }, decision: { effect, reasons: [] } },
});

test('servers rolling up one schema at once count every decision once, and the ones appended later too', async () => {
  const [a, b] = [
    await openPostgresStore({ url: PG_URL, schema }),
    await openPostgresStore({ url: PG_URL, schema }),
  ];
  if (!a || !b) throw new Error('stores did not open');
  try {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).audit.append([decision(`agent\0${i % 2}`, `a${i}`, i % 3, i % 4 ? 'allow' : 'deny')]),
      ),
    );
    const window = { since: ts(0), until: ts(10), bucketSeconds: 600 };
    const [fromA, fromB] = await Promise.all([a.insights.aggregates(window), b.insights.aggregates(window)]);
    assert.deepEqual(fromA.decisions, [{ t: ts(0), allow: 15, ask: 0, deny: 5 }]);
    assert.deepEqual(fromB.decisions, fromA.decisions);
    await a.audit.append([decision('late', 'z', 4, 'ask')]);
    assert.deepEqual((await b.insights.aggregates(window)).decisions, [
      { t: ts(0), allow: 15, ask: 1, deny: 5 },
    ]);
    // An agent name holding NUL is found under its own name.
    const sessions = await a.insights.sessions('agent\u00001');
    assert.equal(sessions[0]?.records, 10);
    const records = await b.insights.sessionRecords('agent\u00000', 's');
    assert.deepEqual(new Set(records.map((r) => r.agent)), new Set(['agent\u00000']));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
