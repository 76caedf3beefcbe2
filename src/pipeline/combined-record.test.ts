import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { AuditRecord } from '../contract/records.js';
import { policyFromObject } from '../policy/load.js';
import { createApp } from '../server/app.js';
import { TokenRegistry } from '../server/tokens.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createWarden } from './warden.js';

// run() with an executor declared without outside effects writes ONE record per allowed action
// (a decision carrying its result); every reader still sees a decision and a result.

const dir = mkdtempSync(join(tmpdir(), 'warden-combined-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const VIEWER = 'viewer-token-0123456789';
const policy = policyFromObject({
  agents: { research: { allow: ['search.web'] } },
  rules: [{ id: 'no-secrets', effect: 'deny', match: { params: { q: { glob: '*secret*' } } } }],
  monitoring: { enabled: false },
});
const act = (id: string, q = 'x') => ({
  id,
  agent: 'research',
  session: 's1',
  type: 'search.web',
  params: { q },
  cost: { usd: 0.25 },
});

for (const [name, open] of [
  ['memory', async () => new MemoryStore()],
  ['sqlite', () => openSqliteStore(join(dir, 'combined.db'))],
] as [string, () => Promise<Store>][]) {
  describe(`combined decision + result records (${name} store)`, async () => {
    const store = await open();
    const warden = await createWarden({ policy, store });
    const tokens = new TokenRegistry([]);
    tokens.register(VIEWER, { name: 'vic', role: 'viewer' });
    const app = createApp(warden, tokens);
    after(async () => {
      await warden.close();
      await store.close();
    });
    const get = async (path: string) =>
      (await (await app.request(path, { headers: { authorization: `Bearer ${VIEWER}` } })).json()) as {
        records: AuditRecord[];
      };

    test('an effect-free executor that finishes leaves one record; the default leaves two', async () => {
      const before = await store.audit.count();
      const fast = await warden.run(act('a1'), () => 'found', { effects: 'none' });
      assert.equal(fast.status, 'completed');
      assert.equal(fast.output, 'found');
      assert.equal(await store.audit.count(), before + 1);
      await warden.run(act('a2'), () => 'found');
      assert.equal(await store.audit.count(), before + 3);
    });

    test('a denied action and a failing effect-free executor are recorded as before and as one record', async () => {
      const denied = await warden.run(act('a3', 'my secret'), () => 'never', { effects: 'none' });
      assert.equal(denied.status, 'denied');
      const failed = await warden.run(
        act('a4'),
        () => {
          throw new Error('no answer');
        },
        { effects: 'none' },
      );
      assert.equal(failed.status, 'failed');
      const [record] = await store.audit.query({ actionId: 'a4' });
      assert.equal(record?.type, 'decision');
      assert.equal((record?.data.result as { status?: string } | undefined)?.status, 'failed');
    });

    test('/v1/audit shows a combined record as its decision and its result, and type=result finds it', async () => {
      const all = await get('/v1/audit?limit=100');
      assert.deepEqual(
        all.records.filter((r) => r.actionId === 'a1').map((r) => r.type),
        ['decision', 'result'],
      );
      const decisionView = all.records.find((r) => r.actionId === 'a1' && r.type === 'decision');
      assert.equal(decisionView?.data.result, undefined);
      const results = await get('/v1/audit?type=result&limit=100');
      assert.deepEqual(
        results.records.map((r) => [r.actionId, r.type, r.data.status]),
        [
          ['a1', 'result', 'completed'],
          ['a2', 'result', 'completed'],
          ['a4', 'result', 'failed'],
        ],
      );
      const decisions = await get('/v1/audit?type=decision&limit=100');
      assert.deepEqual(
        decisions.records.map((r) => r.actionId),
        ['a1', 'a2', 'a3', 'a4'],
      );
      const search = await get('/v1/audit/search?q=found&type=result');
      assert.deepEqual(search.records.map((r) => [r.actionId, r.type]).sort(), [
        ['a1', 'result'],
        ['a2', 'result'],
      ]);
    });

    test('the overview, the session trace and the incident report count it as a decision and a result', async () => {
      const overview = (await (
        await app.request('/v1/overview?window=1h', { headers: { authorization: `Bearer ${VIEWER}` } })
      ).json()) as { decisions: { allow: number; deny: number }[]; spend: { agent: string; usd: number }[] };
      assert.equal(
        overview.decisions.reduce((n, b) => n + b.allow, 0),
        3,
      );
      // a1, a2 and a4 ran: each spends its $0.25 estimate (no actual cost came back).
      assert.deepEqual(
        overview.spend.map((s) => [s.agent, s.usd]),
        [['research', 0.75]],
      );
      const trace = (await (
        await app.request('/v1/sessions/research/s1', { headers: { authorization: `Bearer ${VIEWER}` } })
      ).json()) as { steps: { actionId?: string; result?: { status: string } }[] };
      assert.deepEqual(
        trace.steps.map((s) => s.result?.status ?? '-'),
        ['completed', 'completed', '-', 'failed'],
      );
      const incident = (await (
        await app.request('/v1/incident?agent=research&since=1h', {
          headers: { authorization: `Bearer ${VIEWER}` },
        })
      ).json()) as { report: { actions: { completed: number; failed: number; denied: number } } };
      assert.deepEqual(
        [incident.report.actions.completed, incident.report.actions.failed, incident.report.actions.denied],
        [2, 1, 1],
      );
    });
  });
}
