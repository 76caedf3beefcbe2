import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { insightsOf } from '../insights.js';
import type { AuditEntry, Store } from '../store.js';
import type { WithStore } from './harness.js';

const at = (minute: number, second = 0) => new Date(Date.UTC(2026, 0, 2, 10, minute, second)).toISOString();

const decision = (
  agent: string,
  id: string,
  minute: number,
  effect: 'allow' | 'ask' | 'deny',
  extra: { session?: string; code?: string; message?: string; estimate?: number; costUsd?: number } = {},
): AuditEntry => ({
  type: 'decision',
  agent,
  actionId: id,
  ts: at(minute),
  data: {
    action: {
      type: 'fs.read',
      params: { path: `/data/${id}` },
      ...(extra.session ? { session: extra.session } : {}),
      ...(extra.costUsd === undefined ? {} : { cost: { usd: extra.costUsd } }),
    },
    decision: {
      id,
      effect,
      risk: 'low',
      reasons: extra.code ? [{ code: extra.code, stage: 'rules', message: extra.message ?? extra.code }] : [],
    },
    ...(extra.estimate === undefined ? {} : { estimate: { usd: extra.estimate, via: 'usd' } }),
  },
});

const result = (
  agent: string,
  id: string,
  minute: number,
  data: Record<string, unknown> = {},
): AuditEntry => ({
  type: 'result',
  agent,
  actionId: id,
  ts: at(minute, 30),
  data: { status: 'completed', durationMs: 1, ...data },
});

/** A small day of one research agent and one finance agent, appended in a few batches. */
async function seed(store: Store): Promise<void> {
  await store.audit.append([
    decision('research', 'a1', 0, 'allow', { session: 's1', estimate: 0.5 }),
    result('research', 'a1', 0, { actual: { usd: 0.25, via: 'reported' } }),
    decision('research', 'a2', 0, 'deny', { session: 's1', code: 'fs.outside-root', message: 'first' }),
    decision('research', 'a3', 1, 'deny', { session: 's1', code: 'fs.outside-root', message: 'latest' }),
    {
      type: 'observation',
      agent: 'research',
      ts: at(1),
      data: { session: 's1', source: 'http:x', trust: 'untrusted' },
    },
    decision('research', 'a4', 1, 'ask', { session: 's2', code: 'rules.ask', costUsd: 2 }),
  ]);
  await store.audit.append([
    { type: 'approval.request', agent: 'research', actionId: 'a4', ts: at(2), data: { approvalId: 'ap1' } },
    result('research', 'a4', 2),
    decision('finance', 'a1', 2, 'allow', { session: 's1', estimate: 1 }),
    result('finance', 'a1', 3, { actual: { usd: 'not a number' } }),
    // A denied action's estimate is never spent, even with a result.
    decision('finance', 'a9', 3, 'deny', { code: 'limits.budget', estimate: 9 }),
    result('finance', 'a9', 3),
    decision('finance', 'late', 20, 'allow'),
  ]);
}

/** What the dashboard reads from the audit, shared by every backend (direct or by scan). */
export function insightCases(name: string, withStore: WithStore): void {
  describe(`${name} store: audit insights`, () => {
    test(
      'counts decisions per bucket by effect, only inside the window',
      withStore(async (store) => {
        await seed(store);
        const insights = insightsOf(store);
        const perMinute = await insights.aggregates({ since: at(0), until: at(10), bucketSeconds: 60 });
        assert.deepEqual(perMinute.decisions, [
          { t: at(0), allow: 1, ask: 0, deny: 1 },
          { t: at(1), allow: 0, ask: 1, deny: 1 },
          { t: at(2), allow: 1, ask: 0, deny: 0 },
          { t: at(3), allow: 0, ask: 0, deny: 1 },
        ]);
        const wide = await insights.aggregates({ since: at(0), until: at(30), bucketSeconds: 600 });
        assert.deepEqual(wide.decisions, [
          { t: at(0), allow: 2, ask: 1, deny: 3 },
          { t: at(20), allow: 1, ask: 0, deny: 0 },
        ]);
        // More records later are rolled up on the next read.
        await store.audit.append([decision('research', 'b1', 0, 'deny', { code: 'fs.outside-root' })]);
        const again = await insights.aggregates({ since: at(0), until: at(1), bucketSeconds: 60 });
        assert.deepEqual(again.decisions, [{ t: at(0), allow: 1, ask: 0, deny: 2 }]);
      }),
    );

    test(
      'spend is the actual cost, else the estimate of an action that was not denied',
      withStore(async (store) => {
        await seed(store);
        const { spend } = await insightsOf(store).aggregates({
          since: at(0),
          until: at(10),
          bucketSeconds: 60,
        });
        assert.deepEqual(spend, [
          { t: at(0), agent: 'research', usd: 0.25 },
          { t: at(2), agent: 'research', usd: 2 },
          { t: at(3), agent: 'finance', usd: 1 },
        ]);
      }),
    );

    test(
      'top reasons count the first reason of denials and asks, with the latest message',
      withStore(async (store) => {
        await seed(store);
        const { reasons } = await insightsOf(store).aggregates({
          since: at(0),
          until: at(10),
          bucketSeconds: 60,
        });
        assert.deepEqual(reasons, [
          { effect: 'deny', code: 'fs.outside-root', count: 2, message: 'latest' },
          { effect: 'deny', code: 'limits.budget', count: 1, message: 'limits.budget' },
          { effect: 'ask', code: 'rules.ask', count: 1, message: 'rules.ask' },
        ]);
      }),
    );

    test(
      "a session holds its decisions, their actions' later records and its observations, in order",
      withStore(async (store) => {
        await seed(store);
        const insights = insightsOf(store);
        const steps = await insights.sessionRecords('research', 's1');
        assert.deepEqual(
          steps.map((r) => [r.type, r.actionId ?? '']),
          [
            ['decision', 'a1'],
            ['result', 'a1'],
            ['decision', 'a2'],
            ['decision', 'a3'],
            ['observation', ''],
          ],
        );
        const s2 = await insights.sessionRecords('research', 's2');
        assert.deepEqual(
          s2.map((r) => r.type),
          ['decision', 'approval.request', 'result'],
        );
        // The same session name of another agent is another session.
        assert.deepEqual(
          (await insights.sessionRecords('finance', 's1')).map((r) => r.type),
          ['decision', 'result'],
        );
        assert.deepEqual(await insights.sessionRecords('research', 'nope'), []);
        assert.deepEqual(await insights.sessions('research'), [
          { session: 's2', records: 3, firstTs: at(1), lastTs: at(2, 30) },
          { session: 's1', records: 5, firstTs: at(0), lastTs: at(1) },
        ]);
      }),
    );
  });
}
