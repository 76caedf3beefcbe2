import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createWarden, type Warden } from '../pipeline/warden.js';
import { policyFromObject } from '../policy/load.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { ApprovalRecord, AuditRecord } from '../store/store.js';
import { AuditFollower } from './audit-follower.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-follower-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const policy = policyFromObject({
  agents: { bot: { allow: ['search.web', 'pay.send'] } },
  rules: [{ id: 'ask-pay', effect: 'ask', match: { type: 'pay.send' } }],
});

/** Two Wardens on one SQLite file, each with its own connection: two processes sharing a store. */
async function twoProcesses(name: string) {
  const file = join(dir, `${name}.db`);
  const stores: SqliteStore[] = [];
  const open = async () => {
    const store = await openSqliteStore(file, { sync: 'normal' });
    stores.push(store);
    return createWarden({ policy, store, killPollMs: 50 });
  };
  const here = await open();
  const there = await open();
  return {
    here,
    there,
    close: async () => {
      await Promise.all([here.close(), there.close()]);
      for (const s of stores) await s.close();
    },
  };
}

function collect(follower: AuditFollower) {
  const audit: AuditRecord[] = [];
  const approvals: ApprovalRecord[] = [];
  const off = follower.subscribe({
    audit: (r) => audit.push(r),
    approval: (r) => approvals.push(r),
  });
  return { audit, approvals, off };
}

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const search = (w: Warden, q: string) =>
  w.run({ agent: 'bot', type: 'search.web', params: { q } }, () => 'ok');

test("records another process appends reach the listener once, beside this process's own, without replaying history", async () => {
  const { here, there, close } = await twoProcesses('once');
  try {
    await search(there, 'before'); // history: not replayed
    const follower = new AuditFollower(here, { pollMs: 20 });
    const seen = collect(follower);
    await new Promise((resolve) => setTimeout(resolve, 60)); // the first read has found the head
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => search(there, `there-${i}`)),
      ...Array.from({ length: 50 }, (_, i) => search(here, `here-${i}`)),
    ]);
    // 100 runs, two records each.
    await until('200 records', () => seen.audit.length >= 200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const seqs = seen.audit.map((r) => r.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'no record is delivered twice');
    assert.equal(seqs.length, 200);
    const queries = new Set(
      seen.audit.flatMap((r) => {
        const q = (r.data as { action?: { params?: { q?: string } } }).action?.params?.q;
        return q ? [q] : [];
      }),
    );
    assert.ok(queries.has('there-0') && queries.has('here-49'));
    assert.ok(!queries.has('before'));
    seen.off();
  } finally {
    await close();
  }
});

test('an approval another process requests arrives as an approval event with its current state', async () => {
  const { here, there, close } = await twoProcesses('approval');
  const controller = new AbortController();
  try {
    const follower = new AuditFollower(here, { pollMs: 20 });
    const seen = collect(follower);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const waiting = there.run({ agent: 'bot', type: 'pay.send', params: { usd: 5 } }, () => 'paid', {
      signal: controller.signal,
    });
    await until('the approval event', () => seen.approvals.length > 0);
    assert.equal(seen.approvals[0]?.status, 'pending');
    assert.equal(seen.approvals[0]?.action.type, 'pay.send');
    controller.abort('test over');
    await waiting;
    seen.off();
  } finally {
    await close();
  }
});

test('after the last listener leaves, nothing more is read or delivered', async () => {
  const { here, there, close } = await twoProcesses('leave');
  try {
    const follower = new AuditFollower(here, { pollMs: 20 });
    const seen = collect(follower);
    await new Promise((resolve) => setTimeout(resolve, 60));
    seen.off();
    await search(there, 'unheard');
    await search(here, 'unheard-local');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen.audit, []);
  } finally {
    await close();
  }
});
