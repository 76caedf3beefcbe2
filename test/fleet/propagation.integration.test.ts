import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { createWarden, type Warden } from '../../src/pipeline/warden.js';
import { policyFromObject } from '../../src/policy/load.js';
import { AuditFollower } from '../../src/server/audit-follower.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { ApprovalRecord, AuditRecord } from '../../src/store/store.js';
import { slowExecutor } from '../../src/testing/index.js';

// Two Wardens on one PostgreSQL schema, as two servers would be. Their polls are set to a minute,
// so whatever reaches one from the other within the test came through LISTEN/NOTIFY.
const PG_URL = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.WARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const run = `h_pgprop_${process.pid}_${Date.now().toString(36)}`;
const schemas: string[] = [];
const opened: { warden: Warden; store: PostgresStore }[] = [];
const MINUTE = 60_000;

const policy = policyFromObject({
  agents: {
    worker: { allow: ['job.run', 'job.pay'] },
    other: { allow: ['job.run'] },
  },
  monitoring: { enabled: false },
  rules: [
    { id: 'payments-need-one', effect: 'ask', match: { type: 'job.pay' }, approvals: { required: 1 } },
    { id: 'the-rest', effect: 'allow', match: { type: '*' } },
  ],
});

type Feed = 'LISTEN/NOTIFY' | 'Redis pub/sub';

/** Two Wardens ("servers") on a new schema, told of changes through `feed`. */
async function pair(name: string, feed: Feed): Promise<[Warden, Warden]> {
  const schema = `${run}_${name}_${feed === 'Redis pub/sub' ? 'redis' : 'pg'}`;
  schemas.push(schema);
  const made: Warden[] = [];
  for (let i = 0; i < 2; i++) {
    const store = await openPostgresStore({
      url: PG_URL,
      schema,
      ...(feed === 'Redis pub/sub' ? { changes: REDIS_URL } : {}),
    });
    const warden = await createWarden({ policy, store, killPollMs: MINUTE, approvalSweepMs: MINUTE });
    opened.push({ warden, store });
    made.push(warden);
  }
  // Subscribed before anything is announced.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return made as [Warden, Warden];
}

after(async () => {
  for (const { warden, store } of opened) {
    await warden.close();
    await store.close();
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves with the first value `take` returns that is not undefined, checking on each call of the returned `poke`. */
function until<T>(take: () => T | undefined): { seen: Promise<T>; poke: () => void } {
  let resolve: (value: T) => void = () => undefined;
  const seen = new Promise<T>((r) => {
    resolve = r;
  });
  const poke = () => {
    const value = take();
    if (value !== undefined) resolve(value);
  };
  return { seen, poke };
}

for (const feed of ['LISTEN/NOTIFY', 'Redis pub/sub'] as const) {
  test(`${feed}: a vote cast through another server wakes the run() waiting for it at once, not at its next poll`, {
    timeout: 20_000,
  }, async () => {
    const [a, b] = await pair('vote', feed);
    const requested = deferred<ApprovalRecord>();
    const outcome = a.run({ agent: 'worker', type: 'job.pay', params: { amount: 5 } }, async () => 'paid', {
      onApprovalRequested: (approval: ApprovalRecord) => requested.resolve(approval),
    });
    const approvalId = (await requested.promise).id;
    // A waiter that only a notification can wake within the test: its fallback read is a minute away.
    const woken = a.approvals.nextChange(approvalId, MINUTE);
    await b.approvals.vote({
      id: approvalId,
      approver: 'alice',
      role: 'approver',
      vote: 'approve',
      channel: 'api',
    });
    await woken;
    const result = await outcome;
    assert.equal(result.status, 'completed');
    assert.equal(result.output, 'paid');
  });

  test(`${feed}: an override made through one server holds on the other at once`, {
    timeout: 20_000,
  }, async () => {
    const [a, b] = await pair('override', feed);
    const revoked = until(() => a.overrides.revoked('worker'));
    const stop = setInterval(revoked.poke, 5);
    await b.overrides.change('worker', 'revoke', 'oncall', 'incident 7');
    const state = await revoked.seen;
    clearInterval(stop);
    assert.equal(state.by, 'oncall');
    const decided = await a.check({ agent: 'worker', type: 'job.run', params: {} });
    assert.equal(decided.effect, 'deny');
  });

  test(`${feed}: another server's audit records reach this server's live event stream at once`, {
    timeout: 20_000,
  }, async () => {
    const [a, b] = await pair('events', feed);
    const follower = new AuditFollower(a, { pollMs: MINUTE });
    const got: AuditRecord[] = [];
    const seen = until(() => got.find((r) => r.type === 'decision' && r.agent === 'other'));
    const unsubscribe = follower.subscribe({
      audit: (record) => {
        got.push(record);
        seen.poke();
      },
      approval: () => undefined,
    });
    try {
      // The follower's first read sets where it starts; records after it must come through the feed.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await b.decide({ agent: 'other', type: 'job.run', params: { through: 'b' } });
      const record = await seen.seen;
      assert.deepEqual(record.data.action && (record.data.action as { params?: unknown }).params, {
        through: 'b',
      });
    } finally {
      unsubscribe();
    }
  });

  test(`${feed}: a kill through one server aborts the agent’s action executing on the other, recorded as aborted by the kill`, {
    timeout: 20_000,
  }, async () => {
    const [a, b] = await pair('kill', feed);
    const started = deferred<void>();
    const running = a.run({ agent: 'worker', type: 'job.run', params: {} }, (action, context) => {
      started.resolve(undefined);
      return slowExecutor(10 * MINUTE)(action, context);
    });
    const bystander = a.run({ agent: 'other', type: 'job.run', params: {} }, async () => 'unharmed');
    await started.promise;
    await b.kills.kill('worker', 'oncall', 'runaway');
    const killedAt = performance.now();
    const result = await running;
    process.stdout.write(
      `# ${feed}: kill through B → abort on A: ${(performance.now() - killedAt).toFixed(1)} ms\n`,
    );
    assert.equal(result.status, 'aborted');
    assert.equal(result.reason?.code, 'killswitch.agent-killed');
    assert.equal((await bystander).status, 'completed');
    await a.audit.flush();
    const [recorded] = await b.store.audit.query({ type: 'result', agent: 'worker' });
    assert.equal(recorded?.data.status, 'aborted');
    assert.equal((recorded?.data.reason as { code?: string } | undefined)?.code, 'killswitch.agent-killed');
  });
}
