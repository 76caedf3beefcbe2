import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Submissions } from '../pipeline/submissions.js';
import type { Warden } from '../pipeline/warden.js';
import type { PolicyInput } from '../policy/schema.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { testWarden } from '../testing/index.js';
import { ApprovalError } from './approvals.js';
import { recoverOrphans } from './recover-orphans.js';

const policy: PolicyInput = {
  agents: { cleaner: { allow: ['fs.delete'], resources: { paths: ['/tmp/**'] } } },
  approvals: { timeout: '10m' },
};
const dir = mkdtempSync(join(tmpdir(), 'warden-orphans-'));
const wardens: Warden[] = [];
after(async () => {
  for (const w of wardens) await w.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const backends: Record<string, () => Promise<Store>> = {
  memory: async () => new MemoryStore(),
  sqlite: () => openSqliteStore(join(dir, `s${++n}.db`), { sync: 'normal' }),
};

for (const [name, open] of Object.entries(backends)) {
  describe(`orphaned approval requests (${name})`, () => {
    async function setUp() {
      const store = await open();
      const warden = await testWarden(policy, { store });
      wardens.push(warden);
      return { store, warden, submissions: new Submissions(warden) };
    }

    /** What an older Warden left after a crash: the decision, then the request, no action row. */
    async function oldCrash(warden: Warden, store: Store, id: string, withDecision = true) {
      const action = { id, agent: 'cleaner', type: 'fs.delete', params: { path: `/tmp/${id}` } };
      const decision = { id, effect: 'ask' as const, risk: 'high' as const, reasons: [] };
      if (withDecision) {
        await store.audit.append([
          { type: 'decision', agent: 'cleaner', actionId: id, data: { effect: 'ask' } },
        ]);
      }
      const request = warden.approvals.prepare(action, decision as never, 600_000);
      const { via: _, ...asOldCodeWroteIt } = request;
      await store.approvals.create(asOldCodeWroteIt);
      return request.id;
    }

    test('a pending request whose action was never stored is cancelled at start and cannot be approved', async () => {
      const { store, warden } = await setUp();
      const id = await oldCrash(warden, store, 'act_lost_row');
      const recovered = await recoverOrphans(warden.approvals, store);
      assert.deepEqual(
        recovered.map((o) => [o.request.id, o.missing]),
        [[id, 'action']],
      );
      await assert.rejects(
        warden.approvals.vote({ id, approver: 'alice', role: 'approver', vote: 'approve', channel: 'test' }),
        (e: unknown) => e instanceof ApprovalError && e.code === 'approval.not-pending',
      );
      await warden.audit.flush();
      const [record] = await store.audit.query({ type: 'approval.cancelled', actionId: 'act_lost_row' });
      assert.equal(record?.data.code, 'approval.orphaned');
      assert.match(String(record?.data.reason), /action was never stored/);
      assert.deepEqual(await recoverOrphans(warden.approvals, store), [], 'recovered once only');
    });

    test('a pending request whose decision never reached the audit is cancelled, and its action is then denied', async () => {
      const { store, warden, submissions } = await setUp();
      const id = await oldCrash(warden, store, 'act_no_decision', false);
      const request = await store.approvals.get(id);
      assert.ok(request);
      const now = new Date().toISOString();
      await store.actions.create({
        id: request.actionId,
        agent: 'cleaner',
        action: request.action,
        decision: request.decision,
        status: 'pending',
        approvalId: id,
        createdAt: now,
        updatedAt: now,
      });
      const recovered = await recoverOrphans(warden.approvals, store);
      assert.deepEqual(
        recovered.map((o) => o.missing),
        ['decision'],
      );
      const view = await submissions.status('act_no_decision', 'cleaner');
      assert.equal(view.status, 'denied');
      assert.match(JSON.stringify(view.decision.reasons[0]), /approval\.cancelled.*orphaned/);
    });

    test('a request stored with its action but never announced (a crash before the 202) is cancelled: the agent never learnt its id', async () => {
      const { store, warden } = await setUp();
      const action = {
        id: 'act_unannounced',
        agent: 'cleaner',
        type: 'fs.delete',
        params: { path: '/tmp/u' },
      };
      const decision = { id: action.id, effect: 'ask' as const, risk: 'high' as const, reasons: [] };
      await store.audit.append([
        { type: 'decision', agent: 'cleaner', actionId: action.id, data: { effect: 'ask' } },
      ]);
      const request = warden.approvals.prepare(action, decision as never, 600_000);
      const now = new Date().toISOString();
      await store.actions.create(
        {
          id: action.id,
          agent: 'cleaner',
          action,
          decision: decision as never,
          status: 'pending',
          approvalId: request.id,
          createdAt: now,
          updatedAt: now,
        },
        request,
      );
      const recovered = await recoverOrphans(warden.approvals, store);
      assert.deepEqual(
        recovered.map((o) => o.missing),
        ['request'],
      );
      assert.equal((await store.approvals.get(request.id))?.status, 'cancelled');
    });

    test('requests that can still be carried out stay pending: a submission, and a run() waiting for its answer', async () => {
      const { store, warden, submissions } = await setUp();
      const submitted = await submissions.submit({
        agent: 'cleaner',
        type: 'fs.delete',
        params: { path: '/tmp/keep' },
      });
      assert.equal(submitted.status, 'pending');
      const stop = new AbortController();
      const running = warden.run(
        { agent: 'cleaner', type: 'fs.delete', params: { path: '/tmp/run' } },
        () => 'ran',
        { signal: stop.signal },
      );
      while ((await warden.approvals.list('pending')).length < 2) {
        await warden.approvals.nextChange('', 20);
      }
      assert.deepEqual(await recoverOrphans(warden.approvals, store), []);
      assert.equal((await warden.approvals.list('pending')).length, 2);
      stop.abort();
      await running;
    });
  });
}
