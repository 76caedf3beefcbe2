import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWarden, type Warden } from '../src/pipeline/warden.js';
import { policyFromObject } from '../src/policy/load.js';
import type { PolicyInput } from '../src/policy/schema.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { type BenchRow, percentile, rate } from './report.js';

const base: PolicyInput = {
  agents: { 'research-agent': { allow: ['fs.read', 'fs.list'], resources: { paths: ['/data/**'] } } },
  rules: [{ id: 'no-secrets', effect: 'deny', match: { params: { path: { glob: '**/secrets/**' } } } }],
};

const action = (i: number) => ({
  agent: 'research-agent',
  type: 'fs.read',
  session: 's1',
  params: { path: `/data/research/${i}.txt` },
});

/**
 * run() throughput on the SQLite store with monitoring off and on (JSON logs to a file, metrics,
 * anomaly detection, OTLP traces to a local HTTP sink), alternating so both see the same machine;
 * and check() p50 in memory, off and on (the observer's cost on the hot path).
 */
export async function benchMonitoring(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-monitoring-'));
  let spans = 0;
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      spans++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const collector = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;
  const monitored: PolicyInput = {
    ...base,
    monitoring: {
      enabled: true,
      logs: { destination: join(dir, 'decisions.log') },
      traces: { endpoint: collector },
    },
  };
  const untraced: PolicyInput = {
    ...base,
    monitoring: { enabled: true, logs: { destination: join(dir, 'decisions-untraced.log') } },
  };
  const runRate = async (policy: PolicyInput, name: string) => {
    const store = await openSqliteStore(join(dir, `${name}.db`));
    const warden: Warden = await createWarden({ policy: policyFromObject(policy), store });
    try {
      return await rate(20_000, 1000, async (i) => {
        const r = await warden.run(action(i), () => 'ok');
        if (r.status !== 'completed') throw new Error(`unexpected ${r.status}`);
      });
    } finally {
      await warden.close();
      await store.close();
    }
  };
  const checkP50 = async (policy: PolicyInput) => {
    const warden = await createWarden({ policy: policyFromObject(policy), store: new MemoryStore() });
    try {
      for (let i = 0; i < 20_000; i++) await warden.check(action(i));
      const samples: number[] = [];
      for (let i = 0; i < 50_000; i++) {
        const t = performance.now();
        await warden.check(action(i));
        samples.push((performance.now() - t) * 1000);
      }
      samples.sort((a, b) => a - b);
      return percentile(samples, 50);
    } finally {
      await warden.close();
    }
  };
  try {
    const off: number[] = [];
    const on: number[] = [];
    const noTraces: number[] = [];
    for (let round = 0; round < 2; round++) {
      (globalThis as { gc?: () => void }).gc?.();
      off.push(await runRate(base, `off-${round}`));
      (globalThis as { gc?: () => void }).gc?.();
      noTraces.push(await runRate(untraced, `untraced-${round}`));
      (globalThis as { gc?: () => void }).gc?.();
      on.push(await runRate(monitored, `on-${round}`));
    }
    if (spans === 0) throw new Error('no trace export reached the local collector');
    const best = (xs: number[]) => Math.max(...xs);
    const runOff = best(off);
    const runOn = best(on);
    const runUntraced = best(noTraces);
    const checkOff = await checkP50(base);
    const checkOn = await checkP50(monitored);
    return [
      {
        scenario: 'monitoring',
        metric: 'run() with logs, metrics, anomalies (SQLite)',
        value: runUntraced,
        unit: 'actions/s',
        baseline: { name: 'monitoring off', value: runOff },
        target: '≥ 70% of monitoring off',
        met: runUntraced >= 0.7 * runOff,
      },
      {
        scenario: 'monitoring',
        metric: 'run() with logs, metrics, anomalies, traces (SQLite)',
        value: runOn,
        unit: 'actions/s',
        baseline: { name: 'monitoring off', value: runOff },
        target: '≥ 50% of monitoring off',
        met: runOn >= 0.5 * runOff,
      },
      {
        scenario: 'monitoring',
        metric: 'check() p50 with monitoring on (memory)',
        value: checkOn,
        unit: 'µs',
        baseline: { name: 'monitoring off', value: checkOff },
      },
    ];
  } finally {
    await new Promise<void>((resolve) => sink.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
}
