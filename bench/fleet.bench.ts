import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Approvals } from '../src/approvals/approvals.js';
import { GENESIS_HASH, linkHash } from '../src/audit/hash-chain.js';
import { createWarden, type Warden } from '../src/pipeline/warden.js';
import { payloadOf, prepareEntry } from '../src/store/audit-records.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import type { PgClient } from '../src/store/postgres/pg-client.js';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/postgres-store.js';
import type { AuditEntry, Store } from '../src/store/store.js';
import type { FloorJob } from './fleet-floor-worker.js';
import { FLEET_POLICY, fleetAction, serveNodeFlags } from './fleet-shared.js';
import { type BenchRow, percentile, rate } from './report.js';

/**
 * Fleet on PostgreSQL (SPEC §8): durable audited `decide()`/s with one Warden, three Wardens in
 * this process (three stores, three pools, one chain, one event loop) and three Wardens in three
 * processes (as a fleet runs), beside, in the same run: a bare batched `INSERT` of distinct
 * decision-sized rows in the audit's own statement shape (the goal's baseline), the old bare
 * `INSERT` of one constant payload, and `decide()` on the memory store (the pipeline's own CPU
 * ceiling, no database). Then the chain append alone, with one and three appenders, the store's
 * one-round-trip function against the designs it was measured against (compare-and-set with
 * retry, and the transaction holding the lock for three round trips it replaced); and how long a
 * kill takes from one store's commit to the watchers of two others (LISTEN/NOTIFY), and a vote
 * from its commit on one store to the run() waiting for it on another.
 */

const PG_URL =
  process.env.WARDEN_BENCH_PG_URL ??
  process.env.WARDEN_TEST_PG_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const DECISIONS = Number(process.env.BENCH_FLEET_DECISIONS ?? 20_000);
const APPENDS = Number(process.env.BENCH_FLEET_APPENDS ?? 15_000);
const KILLS = Number(process.env.BENCH_FLEET_KILLS ?? 100);
/** Schemas are named `<prefix>_<pid>_…` and dropped at the end; a prefix keeps parallel runs apart. */
const PREFIX = process.env.BENCH_FLEET_SCHEMA_PREFIX ?? 'bench';
const BATCH = 250;
/** Statements the bare INSERT keeps in flight: with BATCH rows each, the rows it has outstanding. */
const BARE_IN_FLIGHT = 8;
/**
 * Callers of `decide()` kept waiting at once, over all Wardens: as many rows outstanding as the
 * bare INSERT has (BATCH × BARE_IN_FLIGHT), so both are judged with the same work in flight.
 */
const CALLERS = Number(process.env.BENCH_FLEET_CALLERS ?? BATCH * BARE_IN_FLIGHT);
const log = (line: string) => process.stdout.write(`  [fleet] ${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function benchFleet(): Promise<BenchRow[]> {
  const run = `${PREFIX}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const schemas: string[] = [];
  try {
    // Warm-up, not reported: the first row must not pay for the JIT and the module loads.
    await decideRate(() => Promise.resolve(new MemoryStore()), 1, Math.min(DECISIONS, 5000));
    // And on PostgreSQL, in a schema of its own: the store's path (pg's protocol code, the audit's
    // packing, the pool) compiled before the first PostgreSQL row, as the server processes' is.
    const warmSchema = `${run}_warm`;
    schemas.push(warmSchema);
    await decideRate(
      () => openPostgresStore({ url: PG_URL, schema: warmSchema }),
      1,
      Math.min(DECISIONS, 5000),
    );
    const memory = await decideRate(() => Promise.resolve(new MemoryStore()), 1);
    log(`decide() on the memory store (no database): ${fmt(memory)}/s`);
    const oneSchema = `${run}_one`;
    schemas.push(oneSchema);
    const one = await decideRate(() => openPostgresStore({ url: PG_URL, schema: oneSchema }), 1);
    log(`decide() on PostgreSQL, 1 Warden: ${fmt(one)}/s`);
    const payloadBytes = await averagePayload(admin, oneSchema);
    const bareBefore = await bareInsert(admin, `${run}_bare1`, payloadBytes, schemas);
    log(`bare batched INSERT, distinct ${payloadBytes}-byte rows: ${fmt(bareBefore)} rows/s`);
    const constant = await bareConstantInsert(admin, `${run}_const`, schemas);
    log(`bare batched INSERT, constant payload: ${fmt(constant)} rows/s`);
    const threeSchema = `${run}_three`;
    schemas.push(threeSchema);
    const three = await decideRate(() => openPostgresStore({ url: PG_URL, schema: threeSchema }), 3);
    log(`decide() on PostgreSQL, 3 Wardens in 1 process: ${fmt(three)}/s`);
    const procSchema = `${run}_procs`;
    schemas.push(procSchema);
    const { perSecond: procs, cpuUs, gcUs } = await decideInProcesses(procSchema, 3);
    log(
      `decide() on PostgreSQL, 3 Wardens in 3 processes: ${fmt(procs)}/s (per decision ${cpuUs.toFixed(1)} µs CPU, ${gcUs.toFixed(1)} µs GC pauses; Node flags ${serveNodeFlags().join(' ') || 'none'})`,
    );
    // The floors of the 3-process row: the same rows from 3 processes at once, with no pipeline.
    const bareProcs = await floorInProcesses(admin, 'insert', `${run}_bare3`, 3, payloadBytes, [], schemas);
    log(`floor: bare batched INSERT from 3 processes at once: ${fmt(bareProcs)} rows/s`);
    const entries = await decisionEntries(oneSchema);
    const appendProcs = await floorInProcesses(
      admin,
      'append',
      `${run}_append3`,
      3,
      payloadBytes,
      entries,
      schemas,
    );
    log(`floor: chain append alone from 3 processes at once: ${fmt(appendProcs)} rows/s`);
    // Measured again after the decide() rows: the baseline is the mean of both, so a change in
    // the machine's load during the run moves the figures and their baseline alike.
    const bareAfter = await bareInsert(admin, `${run}_bare2`, payloadBytes, schemas);
    log(`bare batched INSERT, distinct ${payloadBytes}-byte rows, again: ${fmt(bareAfter)} rows/s`);
    const bare = (bareBefore + bareAfter) / 2;
    const appendRows = await appendStrategies(run, schemas);
    const kills = await killPropagation(`${run}_kill`, schemas);
    log(`kill propagation p50 ${kills.p50.toFixed(1)} ms, p99 ${kills.p99.toFixed(1)} ms`);
    const votes = await votePropagation(`${run}_vote`, schemas);
    log(
      `vote wakes its waiter on another store p50 ${votes.p50.toFixed(1)} ms, p99 ${votes.p99.toFixed(1)} ms`,
    );
    const baseline = {
      name: `bare batched INSERT, distinct ${payloadBytes}-byte rows (mean of 2), rows/s`,
      value: bare,
    };
    const goal = (metric: string, value: number): BenchRow => ({
      scenario: 'fleet',
      metric,
      value,
      unit: 'actions/s',
      baseline,
      target: '≥ 0.5× bare',
      met: value >= 0.5 * bare,
    });
    const beside = (metric: string, value: number, unit = 'rows/s'): BenchRow => ({
      scenario: 'fleet',
      metric,
      value,
      unit,
      baseline,
    });
    return [
      beside('bare batched INSERT, constant payload (old baseline)', constant),
      beside('decide() on the memory store (pipeline CPU ceiling)', memory, 'actions/s'),
      goal('decide() on PostgreSQL, 1 Warden', one),
      goal('decide() on PostgreSQL, 3 Wardens in 1 process', three),
      goal('decide() on PostgreSQL, 3 Wardens in 3 processes', procs),
      {
        scenario: 'fleet',
        metric: 'CPU per decision in each of the 3 processes (mean)',
        value: cpuUs,
        unit: 'µs',
      },
      beside('floor of 3 processes: bare batched INSERT from 3 processes at once', bareProcs),
      beside(
        'floor of 3 processes: chain append alone (audit.append(), real decision entries) from 3 processes at once',
        appendProcs,
      ),
      ...appendRows.map((row) => ({ ...row, baseline })),
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

/** The mean size of the payloads the 1-Warden run stored: the bare rows are made that size. */
async function averagePayload(admin: pg.Client, schema: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    `SELECT round(avg(length(payload))) AS n FROM "${schema}".audit`,
  );
  return Number(rows[0]?.n ?? 600);
}

/** A table of the audit's own definition (columns and indexes), for the bare inserts. */
async function auditLikeTable(admin: pg.Client, schema: string, schemas: string[]): Promise<void> {
  schemas.push(schema);
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.query(
    `CREATE TABLE "${schema}".t (seq bigint PRIMARY KEY, hash bytea NOT NULL, payload bytea NOT NULL, type text NOT NULL, agent text, action_id text);
     CREATE INDEX ON "${schema}".t (type, seq);
     CREATE INDEX ON "${schema}".t (agent, seq) WHERE agent IS NOT NULL;
     CREATE INDEX ON "${schema}".t (action_id, seq) WHERE action_id IS NOT NULL;`,
  );
}

/**
 * The goal's baseline: what the audit must ship and store, without the chain. Distinct rows
 * (a 32-byte hash and a payload of the decisions' mean size each, plus type, agent and action
 * id) sent as array parameters in the audit's statement shape, 250 rows per statement, 8
 * statements in flight on a pool of 10. The rows are made before the clock starts.
 */
async function bareInsert(
  admin: pg.Client,
  schema: string,
  payloadBytes: number,
  schemas: string[],
): Promise<number> {
  await auditLikeTable(admin, schema, schemas);
  const batches = Math.ceil(DECISIONS / BATCH);
  const made = Array.from({ length: batches }, (_, b) => {
    const seqs: number[] = [];
    const hashes: Buffer[] = [];
    const payloads: Buffer[] = [];
    const actionIds: string[] = [];
    for (let i = 0; i < BATCH; i++) {
      const seq = b * BATCH + i + 1;
      const head = `{"actionId":"act-${seq}","agent":"research-agent","data":{"pad":"`;
      const pad = randomBytes(payloadBytes)
        .toString('base64')
        .slice(0, Math.max(0, payloadBytes - head.length - 2));
      seqs.push(seq);
      hashes.push(randomBytes(32));
      payloads.push(Buffer.from(`${head}${pad}"}`));
      actionIds.push(`act-${seq}`);
    }
    return [seqs, hashes, payloads, seqs.map(() => 'decision'), seqs.map(() => 'research-agent'), actionIds];
  });
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10 });
  try {
    const perSecond = await rate(batches, BARE_IN_FLIGHT, async (b) => {
      await pool.query({
        name: 'bare',
        text: `INSERT INTO "${schema}".t (seq, hash, payload, type, agent, action_id)
               SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::text[])`,
        values: made[b] as unknown[],
      });
    });
    return perSecond * BATCH;
  } finally {
    await pool.end();
  }
}

/** The old baseline, kept for comparison: only the seqs vary, one 600-byte payload and hash for every row. */
async function bareConstantInsert(admin: pg.Client, schema: string, schemas: string[]): Promise<number> {
  await auditLikeTable(admin, schema, schemas);
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10 });
  const payload = Buffer.alloc(600, 'x');
  const hash = Buffer.alloc(32, 1);
  const batches = Math.ceil(DECISIONS / BATCH);
  try {
    const perSecond = await rate(batches, BARE_IN_FLIGHT, async (b) => {
      const seqs = Array.from({ length: BATCH }, (_, i) => b * BATCH + i + 1);
      await pool.query({
        name: 'bare-constant',
        text: `INSERT INTO "${schema}".t (seq, hash, payload, type, agent) SELECT s, $2, $3, 'decision', 'research-agent' FROM unnest($1::bigint[]) AS s`,
        values: [seqs, hash, payload],
      });
    });
    return perSecond * BATCH;
  } finally {
    await pool.end();
  }
}

/** `decide()`/s with `servers` Wardens in this process, {@link CALLERS} callers spread over them. */
async function decideRate(
  open: () => Promise<Store>,
  servers: number,
  decisions = DECISIONS,
): Promise<number> {
  const stores: Store[] = [];
  const wardens: Warden[] = [];
  for (let i = 0; i < servers; i++) {
    const store = await open();
    stores.push(store);
    wardens.push(await createWarden({ policy: FLEET_POLICY, store }));
  }
  let perSecond: number;
  try {
    perSecond = await rate(decisions, CALLERS, async (i) => {
      const { decision } = await (wardens[i % servers] as Warden).decide(fleetAction(i));
      if (decision.effect !== 'allow')
        throw new Error(`unexpected ${decision.effect}: ${decision.reasons[0]?.code}`);
    });
  } finally {
    for (const w of wardens) await w.close();
  }
  const verified = await (stores[0] as Store).audit.verify();
  for (const s of stores) await s.close();
  if (!verified.ok) throw new Error(`the fleet bench chain does not verify: ${verified.firstBad?.message}`);
  return perSecond;
}

/**
 * `decide()`/s with `servers` Wardens in as many child processes on one schema: all start on
 * one signal; the rate is every decision over the time until the last one finished.
 */
async function decideInProcesses(
  schema: string,
  servers: number,
): Promise<{ perSecond: number; cpuUs: number; gcUs: number }> {
  const share = Math.ceil(DECISIONS / servers);
  const { seconds, results } = await inProcesses(
    Array.from({ length: servers }, () => ({
      script: './fleet-worker.js',
      args: [PG_URL, schema],
      server: true,
    })),
    (i) => ({ count: share, inFlight: Math.ceil(CALLERS / servers), offset: i * share }),
  );
  await verifyChain(schema);
  const mean = (key: string) => results.reduce((sum, r) => sum + (r[key] as number), 0) / servers;
  return { perSecond: (share * servers) / seconds, cpuUs: mean('cpuUs'), gcUs: mean('gcUs') };
}

/**
 * The 3-process floors: the bare batched INSERT (`insert`) or the store's chain append alone
 * (`append`) from `servers` processes at once, BATCH rows a call, the BARE_IN_FLIGHT calls of the
 * one-process bare INSERT shared out among them (the same rows outstanding as every row here),
 * each process warmed up on 5,000 rows first. Rows/s until the last process finished.
 */
async function floorInProcesses(
  admin: pg.Client,
  kind: FloorJob['kind'],
  schema: string,
  servers: number,
  payloadBytes: number,
  entries: AuditEntry[],
  schemas: string[],
): Promise<number> {
  if (kind === 'insert') await auditLikeTable(admin, schema, schemas);
  else schemas.push(schema);
  const batches = Math.ceil(DECISIONS / BATCH);
  const jobs = Array.from({ length: servers }, (_, i): FloorJob => {
    const first = Math.floor((batches * i) / servers);
    return {
      kind,
      url: PG_URL,
      schema,
      batches: Math.floor((batches * (i + 1)) / servers) - first,
      inFlight: Math.floor((BARE_IN_FLIGHT * (i + 1)) / servers) - Math.floor((BARE_IN_FLIGHT * i) / servers),
      firstSeq: first * BATCH + 1,
      payloadBytes,
      entries,
    };
  });
  const { seconds } = await inProcesses(
    // The appenders run Warden's store, as servers do; the bare INSERT's are plain clients.
    jobs.map((job) => ({ script: './fleet-floor-worker.js', args: [], job, server: kind === 'append' })),
    () => ({ go: true }),
  );
  if (kind === 'append') await verifyChain(schema);
  return (batches * BATCH) / seconds;
}

/**
 * Forks one child per worker (sending it its `job`, if any; one that stands for a `server` with
 * `warden serve`'s Node flags), waits until every one is ready, starts them all with `go(i)`, and
 * returns the seconds from the start to the last one finished.
 */
async function inProcesses(
  workers: { script: string; args: string[]; job?: unknown; server?: boolean }[],
  go: (i: number) => unknown,
): Promise<{ seconds: number; results: Record<string, unknown>[] }> {
  const children = workers.map((w) =>
    fork(new URL(w.script, import.meta.url), w.args, {
      stdio: 'inherit',
      // A process that stands for a server starts as `warden serve` does (bin/warden).
      execArgv: w.server ? [...process.execArgv, ...serveNodeFlags()] : process.execArgv,
    }),
  );
  const next = (child: (typeof children)[number]) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Record<string, unknown>));
      child.once('exit', (code) => reject(new Error(`a fleet worker exited (${code}) before answering`)));
    });
  const failed = (results: Record<string, unknown>[]) => {
    const bad = results.find((r) => r.error);
    if (bad) throw new Error(`a fleet worker failed: ${String(bad.error)}`);
  };
  try {
    const ready = children.map(next);
    workers.forEach((w, i) => {
      if (w.job !== undefined) children[i]?.send(w.job as never);
    });
    failed(await Promise.all(ready));
    const started = Date.now();
    const done = children.map(next);
    children.forEach((child, i) => {
      child.send(go(i) as never);
    });
    const results = await Promise.all(done);
    failed(results);
    const finished = Math.max(...results.map((r) => r.finishedAt as number));
    return { seconds: (finished - started) / 1000, results };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

async function verifyChain(schema: string): Promise<void> {
  const store = await openPostgresStore({ url: PG_URL, schema });
  try {
    const verified = await store.audit.verify();
    if (!verified.ok) throw new Error(`the fleet bench chain does not verify: ${verified.firstBad?.message}`);
  } finally {
    await store.close();
  }
}

/** Real decision entries, as the 1-Warden run stored them: what the chain-append floor appends. */
async function decisionEntries(schema: string): Promise<AuditEntry[]> {
  const store = await openPostgresStore({ url: PG_URL, schema });
  try {
    const records = await store.audit.query({ type: 'decision', limit: BATCH });
    return records.map(({ type, agent, actionId, actor, data }) => ({
      type,
      data,
      ...(agent === undefined ? {} : { agent }),
      ...(actionId === undefined ? {} : { actionId }),
      ...(actor === undefined ? {} : { actor }),
    }));
  } finally {
    await store.close();
  }
}

/**
 * The chain append alone, each strategy with 1 and with 3 appenders, in interleaved rounds (the
 * median of 3 is reported), so that a change in the machine's load favours none of them.
 */
async function appendStrategies(run: string, schemas: string[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const appenders of [1, 3]) {
    const rates: Record<Strategy, number[]> = { function: [], cas: [], transaction: [] };
    const retries: Record<Strategy, number> = { function: 0, cas: 0, transaction: 0 };
    for (let round = 0; round < 3; round++) {
      for (const strategy of STRATEGIES) {
        const schema = `${run}_append_${strategy}_${appenders}_${round}`;
        schemas.push(schema);
        const result = await appendRate(schema, strategy, appenders);
        rates[strategy].push(result.perSecond);
        retries[strategy] += result.retries;
      }
    }
    for (const strategy of STRATEGIES) {
      const median = [...rates[strategy]].sort((a, b) => a - b)[1] as number;
      const extra =
        strategy === 'cas' ? ` (${retries.cas} retries in ${3 * Math.ceil(APPENDS / BATCH)} commits)` : '';
      const metric = `chain append only, ${appenders} appender${appenders > 1 ? 's' : ''}, ${STRATEGY[strategy]}${extra}`;
      log(`${metric}: ${rates[strategy].map(fmt).join(', ')} rows/s`);
      rows.push({ scenario: 'fleet', metric, value: median, unit: 'rows/s' });
    }
  }
  return rows;
}

type Strategy = 'function' | 'cas' | 'transaction';
const STRATEGIES: readonly Strategy[] = ['function', 'cas', 'transaction'];
const STRATEGY: Record<Strategy, string> = {
  function: 'audit_append() (1 round trip)',
  cas: 'compare-and-set',
  transaction: 'transaction, lock held 3 round trips',
};

/**
 * The chain append alone: `appenders` stores on one schema, each committing 250 decision-like
 * entries at a time, one commit in flight each. `function` is the store (audit_append(), one
 * round trip); `cas` and `transaction` are the alternatives it was measured against, here only.
 */
async function appendRate(
  schema: string,
  strategy: Strategy,
  appenders: number,
): Promise<{ perSecond: number; retries: number }> {
  const stores = await Promise.all(
    Array.from({ length: appenders }, () => openPostgresStore({ url: PG_URL, schema })),
  );
  const now = new Date().toISOString();
  const entries = Array.from(
    { length: BATCH },
    (_, i): AuditEntry => ({
      type: 'decision',
      agent: 'research-agent',
      actionId: `act-${i}`,
      data: {
        effect: 'allow',
        action: fleetAction(i),
        reasons: [
          { code: 'permissions.allowed', message: 'fs.read is allowed for research-agent on /data/**' },
        ],
        stages: { permissions: 4.1, limits: 2.3, guards: 11.7 },
        pad: 'x'.repeat(300),
      },
    }),
  );
  const counters = { retries: 0 };
  const appendOnce = stores.map((store) => {
    if (strategy === 'function') return () => store.audit.append(entries).then(() => undefined);
    const head = { seq: 0, hash: GENESIS_HASH };
    return strategy === 'cas'
      ? () => casAppend(store.pg, head, entries, now, counters)
      : () => transactionAppend(store.pg, entries, now);
  });
  try {
    const each = Math.ceil(APPENDS / BATCH / appenders);
    const started = performance.now();
    await Promise.all(
      appendOnce.map(async (once) => {
        for (let i = 0; i < each; i++) await once();
      }),
    );
    const perSecond = (each * appenders) / ((performance.now() - started) / 1000);
    const verified = await (stores[0] as PostgresStore).audit.verify();
    if (!verified.ok) throw new Error(`the ${strategy} chain does not verify: ${verified.firstBad?.message}`);
    return { perSecond: perSecond * BATCH, retries: counters.retries };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

function chainRows(entries: readonly AuditEntry[], seq: number, prev: Buffer, now: string) {
  const rows = { seqs: [] as number[], hashes: [] as Buffer[], payloads: [] as Buffer[] };
  for (const entry of entries) {
    seq++;
    const payload = payloadOf(prepareEntry(entry), seq, now);
    prev = linkHash(prev, payload);
    rows.seqs.push(seq);
    rows.hashes.push(prev);
    rows.payloads.push(payload);
  }
  const meta = [entries.map((e) => e.type), entries.map((e) => e.agent), entries.map((e) => e.actionId)];
  return { ...rows, meta, seq, prev };
}

const INSERT_ROWS = `INSERT INTO audit (seq, hash, payload, type, agent, action_id)
  SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::text[])`;

/** Compare-and-set: one statement moves the head only from the expected seq; on a miss, re-read and retry. */
async function casAppend(
  client: PgClient,
  head: { seq: number; hash: Buffer },
  entries: readonly AuditEntry[],
  now: string,
  counters: { retries: number },
): Promise<void> {
  for (;;) {
    const rows = chainRows(entries, head.seq, head.hash, now);
    const moved = await client.query<{ seq: string }>(
      `WITH moved AS (UPDATE audit_head SET seq = $7, hash = $8 WHERE seq = $9 RETURNING seq),
            added AS (${INSERT_ROWS} WHERE EXISTS (SELECT 1 FROM moved))
       SELECT seq FROM moved`,
      [rows.seqs, rows.hashes, rows.payloads, ...rows.meta, rows.seq, rows.prev, head.seq],
    );
    if (moved.length === 1) {
      head.seq = rows.seq;
      head.hash = rows.prev;
      return;
    }
    counters.retries++;
    const [real] = await client.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_head');
    head.seq = Number(real?.seq ?? 0);
    head.hash = real?.hash ?? GENESIS_HASH;
  }
}

/** The design audit_append() replaced: BEGIN; SELECT … FOR UPDATE; INSERT + UPDATE; COMMIT. */
async function transactionAppend(
  client: PgClient,
  entries: readonly AuditEntry[],
  now: string,
): Promise<void> {
  await client.transaction(async (tx) => {
    const [head] = await tx.query<{ seq: string; hash: Buffer }>(
      'SELECT seq, hash FROM audit_head FOR UPDATE',
    );
    const rows = chainRows(entries, Number(head?.seq ?? 0), head?.hash ?? GENESIS_HASH, now);
    await tx.query(`WITH added AS (${INSERT_ROWS}) UPDATE audit_head SET seq = $7, hash = $8`, [
      rows.seqs,
      rows.hashes,
      rows.payloads,
      ...rows.meta,
      rows.seq,
      rows.prev,
    ]);
  });
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
