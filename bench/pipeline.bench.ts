import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWarden, type Warden } from '../src/pipeline/warden.js';
import { policyFromObject } from '../src/policy/load.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { bareInsertRate } from './audit.bench.js';
import { type BenchRow, microsRow, rate } from './report.js';

const POLICY = policyFromObject({
  agents: { 'research-agent': { allow: ['fs.read', 'fs.list'], resources: { paths: ['/data/**'] } } },
  rules: [{ id: 'no-secrets', effect: 'deny', match: { params: { path: { glob: '**/secrets/**' } } } }],
});

const action = (i: number) => ({
  agent: 'research-agent',
  type: 'fs.read',
  params: { path: `/data/research/${i % 5000}.txt` },
});

async function withWarden<T>(dir: string, name: string, fn: (w: Warden) => Promise<T>): Promise<T> {
  const store = await openSqliteStore(join(dir, `${name}.db`));
  const warden = await createWarden({ policy: POLICY, store });
  let result: T;
  try {
    result = await fn(warden);
  } finally {
    await warden.close();
    await store.close();
  }
  const reopened = await openSqliteStore(join(dir, `${name}.db`));
  const verified = await reopened.audit.verify();
  await reopened.close();
  if (!verified.ok) throw new Error(`the ${name} bench log does not verify: ${verified.firstBad?.message}`);
  return result;
}

function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

/**
 * Durable audited actions through the whole pipeline on the embedded SQLite store (SPEC §8):
 * `decide()` (the agent executes itself: one durable decision record per action), `run()` with an
 * executor declared effect-free (`effects: 'none'`: decision and result in one record, committed
 * before the output is returned) and `run()` with the default executor (decision committed
 * before execution, result after: two records), beside bare SQLite inserting 100 rows per
 * fsync'd transaction and `decide()` in the same run.
 */
export async function benchPipeline(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-pipeline-'));
  try {
    const bare = bareInsertRate(dir, 50_000);
    const baseline = { name: 'bare SQLite rows/s, 100 per fsync', value: bare };
    const inFlight = Number(process.env.INFLIGHT ?? 1000);
    // CPU time of the process (event loop and writer thread) per call: unlike actions/s, it hardly
    // moves with what else the machine runs. check() on the same Warden is what deciding alone costs.
    const cpu = { decide: 0, check: 0 };
    const decided = await withWarden(dir, 'decide', async (w) => {
      const start = process.cpuUsage();
      const value = await rate(60_000, inFlight, async (i) => {
        const { decision } = await w.decide(action(i));
        if (decision.effect !== 'allow') throw new Error(`unexpected ${decision.effect}`);
      });
      cpu.decide = cpuMicros(start) / 60_000;
      const checkStart = process.cpuUsage();
      await rate(60_000, inFlight, async (i) => {
        const decision = await w.check(action(i));
        if (decision.effect !== 'allow') throw new Error(`unexpected ${decision.effect}`);
      });
      cpu.check = cpuMicros(checkStart) / 60_000;
      return value;
    });
    const ran = await withWarden(dir, 'run', (w) =>
      rate(40_000, inFlight, async (i) => {
        const r = await w.run(action(i), () => 'ok');
        if (r.status !== 'completed') throw new Error(`unexpected ${r.status}`);
      }),
    );
    const combined = await withWarden(dir, 'run-combined', (w) =>
      rate(60_000, Number(process.env.INFLIGHT ?? 1000), async (i) => {
        const r = await w.run(action(i), () => 'ok', { effects: 'none' });
        if (r.status !== 'completed') throw new Error(`unexpected ${r.status}`);
      }),
    );
    return [
      {
        scenario: 'pipeline',
        metric: 'decide(): durable audited actions (1 record each)',
        value: decided,
        unit: 'actions/s',
        baseline,
        target: '≥ 40,000 actions/s',
        met: decided >= 40_000,
      },
      microsRow('pipeline', 'decide(): CPU per action, both threads (decision, record, commit)', cpu.decide, {
        name: 'check() CPU per action, same Warden',
        value: cpu.check,
      }),
      {
        scenario: 'pipeline',
        metric: 'run(), effect-free executor: durable audited actions (1 combined record each)',
        value: combined,
        unit: 'actions/s',
        baseline: { name: 'decide() durable actions/s', value: decided },
        target: '≥ 0.8× decide()',
        met: combined >= 0.8 * decided,
      },
      {
        scenario: 'pipeline',
        metric: 'run(), executor with effects: durable audited actions (2 records each)',
        value: ran,
        unit: 'actions/s',
        baseline: { name: 'decide() durable actions/s', value: decided },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
