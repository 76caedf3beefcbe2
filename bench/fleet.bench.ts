import pg from 'pg';
import { Approvals } from '../src/approvals/approvals.js';
import { createWarden, type Warden } from '../src/pipeline/warden.js';
import { policyFromObject } from '../src/policy/load.js';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/postgres-store.js';
import { type BenchRow, percentile, rate } from './report.js';

/**
 * Fleet on PostgreSQL (SPEC §8): durable audited `decide()`/s with one and with three Wardens on
 * one schema (three stores, three pools, one chain; in this one process, so they share its CPU),
 * beside a bare batched `INSERT` of rows the size of a decision record in the same run; and how
 * long a kill takes from one store's commit to the watchers of two others (LISTEN/NOTIFY), and
 * a vote from its commit on one store to the run() waiting for it on another, beside it.
 */

const PG_URL =
  process.env.WARDEN_BENCH_PG_URL ??
  process.env.WARDEN_TEST_PG_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const DECISIONS = Number(process.env.BENCH_FLEET_DECISIONS ?? 20_000);
const KILLS = Number(process.env.BENCH_FLEET_KILLS ?? 100);
const log = (line: string) => process.stdout.write(`  [fleet] ${line}\n`);

const POLICY = policyFromObject({
  agents: { 'research-agent': { allow: ['fs.read'], resources: { paths: ['/data/**'] } } },
});
const action = (i: number) => ({
  agent: 'research-agent',
  type: 'fs.read',
  params: { path: `/data/r/${i % 5000}.txt` },
});

export async function benchFleet(): Promise<BenchRow[]> {
  const run = `bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const schemas: string[] = [];
  try {
    const bare = await bareInsert(admin, `${run}_bare`, DECISIONS, schemas);
    log(`bare batched INSERT: ${Math.round(bare).toLocaleString('en-US')} rows/s`);
    const one = await decideRate(`${run}_one`, 1, schemas);
    log(`decide() on 1 Warden: ${Math.round(one).toLocaleString('en-US')}/s`);
    const three = await decideRate(`${run}_three`, 3, schemas);
    log(`decide() on 3 Wardens: ${Math.round(three).toLocaleString('en-US')}/s`);
    const kills = await killPropagation(`${run}_kill`, schemas);
    log(`kill propagation p50 ${kills.p50.toFixed(1)} ms, p99 ${kills.p99.toFixed(1)} ms`);
    const votes = await votePropagation(`${run}_vote`, schemas);
    log(
      `vote wakes its waiter on another store p50 ${votes.p50.toFixed(1)} ms, p99 ${votes.p99.toFixed(1)} ms`,
    );
    const baseline = { name: 'bare batched INSERT rows/s', value: bare };
    return [
      {
        scenario: 'fleet',
        metric: 'decide() on PostgreSQL, 1 Warden',
        value: one,
        unit: 'actions/s',
        baseline,
        target: '≥ 0.5× bare',
        met: one >= 0.5 * bare,
      },
      {
        scenario: 'fleet',
        metric: 'decide() on PostgreSQL, 3 Wardens',
        value: three,
        unit: 'actions/s',
        baseline,
        target: '≥ 0.5× bare',
        met: three >= 0.5 * bare,
      },
      {
        scenario: 'fleet',
        metric: 'kill seen by 2 other stores, p50',
        value: kills.p50,
        unit: 'ms',
        target: '≤ 100 ms',
        met: kills.p50 <= 100,
      },
      {
        scenario: 'fleet',
        metric: 'kill seen by 2 other stores, p99',
        value: kills.p99,
        unit: 'ms',
        target: '≤ 100 ms',
        met: kills.p99 <= 100,
      },
      {
        scenario: 'fleet',
        metric: 'vote wakes the waiter on another store, p50',
        value: votes.p50,
        unit: 'ms',
        baseline: { name: 'kill seen by 2 other stores, p50 (ms)', value: kills.p50 },
        target: '≤ 100 ms',
        met: votes.p50 <= 100,
      },
      {
        scenario: 'fleet',
        metric: 'vote wakes the waiter on another store, p99',
        value: votes.p99,
        unit: 'ms',
        baseline: { name: 'kill seen by 2 other stores, p99 (ms)', value: kills.p99 },
        target: '≤ 100 ms',
        met: votes.p99 <= 100,
      },
    ];
  } finally {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

/** Rows of a decision record's size, 250 per INSERT, 8 statements in flight on a pool of 10. */
async function bareInsert(
  admin: pg.Client,
  schema: string,
  rows: number,
  schemas: string[],
): Promise<number> {
  schemas.push(schema);
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.query(
    `CREATE TABLE "${schema}".t (seq bigint PRIMARY KEY, hash bytea NOT NULL, payload bytea NOT NULL, type text, agent text)`,
  );
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10 });
  const payload = Buffer.alloc(600, 'x');
  const hash = Buffer.alloc(32, 1);
  const batches = Math.ceil(rows / 250);
  try {
    const perSecond = await rate(batches, 8, async (b) => {
      const seqs = Array.from({ length: 250 }, (_, i) => b * 250 + i + 1);
      await pool.query({
        name: 'bare',
        text: `INSERT INTO "${schema}".t SELECT s, $2, $3, 'decision', 'research-agent' FROM unnest($1::bigint[]) AS s`,
        values: [seqs, hash, payload],
      });
    });
    return perSecond * 250;
  } finally {
    await pool.end();
  }
}

async function decideRate(schema: string, servers: number, schemas: string[]): Promise<number> {
  schemas.push(schema);
  const stores: PostgresStore[] = [];
  const wardens: Warden[] = [];
  for (let i = 0; i < servers; i++) {
    const store = await openPostgresStore({ url: PG_URL, schema });
    stores.push(store);
    wardens.push(await createWarden({ policy: POLICY, store }));
  }
  let perSecond: number;
  try {
    perSecond = await rate(DECISIONS, 1000, async (i) => {
      const { decision } = await (wardens[i % servers] as Warden).decide(action(i));
      if (decision.effect !== 'allow')
        throw new Error(`unexpected ${decision.effect}: ${decision.reasons[0]?.code}`);
    });
  } finally {
    for (const w of wardens) await w.close();
  }
  const verified = await (stores[0] as PostgresStore).audit.verify();
  for (const s of stores) await s.close();
  if (!verified.ok) throw new Error(`the fleet bench chain does not verify: ${verified.firstBad?.message}`);
  return perSecond;
}

async function killPropagation(schema: string, schemas: string[]): Promise<{ p50: number; p99: number }> {
  schemas.push(schema);
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => openPostgresStore({ url: PG_URL, schema })));
  if (!a || !b || !c) throw new Error('could not open the stores');
  let waiting: { want: number; seen: Set<string>; done: () => void } | undefined;
  const hear = (who: string) => (kills: { agent: string }[]) => {
    if (waiting && kills.length === waiting.want) {
      waiting.seen.add(who);
      if (waiting.seen.size === 2) waiting.done();
    }
  };
  // Polling far slower than the figure: only a notification can deliver within it.
  const stops = [b.kills.watch(hear('b'), 60_000), c.kills.watch(hear('c'), 60_000)];
  await new Promise((r) => setTimeout(r, 500));
  const samples: number[] = [];
  try {
    for (let i = 0; i < KILLS; i++) {
      const want = i % 2 === 0 ? 1 : 0;
      const heard = new Promise<void>((done) => {
        waiting = { want, seen: new Set(), done };
      });
      const t0 = performance.now();
      if (want === 1)
        await a.kills.kill({ agent: 'bot', reason: 'bench', by: 'bench', at: new Date().toISOString() });
      else await a.kills.revive('bot');
      await heard;
      samples.push(performance.now() - t0);
    }
  } finally {
    for (const stop of stops) stop();
    await Promise.all([a.close(), b.close(), c.close()]);
  }
  samples.sort((x, y) => x - y);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** From a vote's commit on store A to `nextChange` resolving on store B's Approvals (its poll a minute away). */
async function votePropagation(schema: string, schemas: string[]): Promise<{ p50: number; p99: number }> {
  schemas.push(schema);
  const [a, b] = await Promise.all([0, 1].map(() => openPostgresStore({ url: PG_URL, schema })));
  if (!a || !b) throw new Error('could not open the stores');
  const waiter = new Approvals(b.approvals, { append: async () => undefined } as never);
  const unfollow = waiter.follow(b.changes);
  const base = {
    actionId: 'act',
    agent: 'bot',
    digest: '0'.repeat(64),
    action: { id: 'act', agent: 'bot', type: 'payment.send', params: {} },
    decision: { id: 'act', effect: 'ask', risk: 'high', reasons: [] },
    required: 1,
    roles: ['approver'],
    votes: [],
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  } as const;
  // Created first, so that their own notifications have come and gone before the votes are timed.
  for (let i = 0; i < KILLS; i++)
    await a.approvals.create({ ...base, id: `apr_bench_${i}`, status: 'pending' } as never);
  await new Promise((r) => setTimeout(r, 500));
  const samples: number[] = [];
  try {
    for (let i = 0; i < KILLS; i++) {
      const id = `apr_bench_${i}`;
      const woken = waiter.nextChange(id, 60_000);
      const t0 = performance.now();
      await a.approvals.update(id, (current) => ({ ...current, status: 'approved' }));
      await woken;
      samples.push(performance.now() - t0);
    }
  } finally {
    unfollow();
    await Promise.all([a.close(), b.close()]);
  }
  samples.sort((x, y) => x - y);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}
