import { policyFromObject } from '../src/policy/load.js';
import { loadRedteamCorpus } from '../src/redteam/corpus.js';
import { runRedteam } from '../src/redteam/run.js';
import { createCedarEngine } from './cedar-100.js';
import { buildPolicy, buildWorkload } from './policy-100.js';
import type { BenchRow } from './report.js';

const VARIANTS = Number(process.env.BENCH_REDTEAM_VARIANTS ?? 10);
const CEDAR_CALLS = Number(process.env.BENCH_CEDAR_CALLS ?? 20_000);

function log(line: string): void {
  process.stdout.write(`  [redteam] ${line}\n`);
}

/**
 * `warden redteam` throughput: red-team cases decided per second (the shipped corpus with
 * `VARIANTS` variants per attack, bursts left out: they measure limits, not checking), against
 * the Cedar-comparable baseline in the same run: Cedar deciding the 100-rule policy's requests
 * (bench/check.bench.ts). Red-team cases go through every content guard (SQL parsed, shell
 * parsed, paths resolved on disk), which Cedar's requests do not.
 */
export async function benchRedteam(): Promise<BenchRow[]> {
  const policy = policyFromObject(
    {
      agents: {
        dev: {
          allow: ['fs.*', 'sql.query', 'http.request', 'shell.exec', 'code.exec', 'llm.generate'],
          resources: { paths: ['/workspace/**'], tables: ['*'], hosts: ['*'] },
        },
      },
      fs: { roots: ['/workspace'] },
      shell: { commands: { git: true, ls: { paths: true }, cat: { paths: true }, grep: true } },
      monitoring: { enabled: false },
    },
    'bench/redteam',
  );
  const corpus = loadRedteamCorpus().filter((c) => !c.repeat);
  // Warm-up run, then the measured one.
  await runRedteam(policy, { corpus, variants: 1 });
  const report = await runRedteam(policy, { corpus, variants: VARIANTS });
  const casesPerSecond = report.checks / (report.elapsedMs / 1000);

  const source = buildPolicy();
  const cedar = createCedarEngine(source, policyFromObject(source, 'bench/policy-100'));
  const requests = buildWorkload(1000).map((a) => cedar.translate(a));
  for (let i = 0; i < 2000; i++) cedar.authorize(requests[i % requests.length] as (typeof requests)[number]);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CEDAR_CALLS; i++)
    cedar.authorize(requests[i % requests.length] as (typeof requests)[number]);
  const cedarPerSecond = CEDAR_CALLS / (Number(process.hrtime.bigint() - t0) / 1e9);

  log(`${report.checks} red-team decisions (${VARIANTS} variants per attack) in ${report.elapsedMs} ms`);
  log(
    `${Math.round(casesPerSecond)} cases/s; Cedar (100 rules, preparsed): ${Math.round(cedarPerSecond)} requests/s`,
  );
  return [
    {
      scenario: 'redteam',
      metric: 'red-team cases checked per second (all content guards)',
      value: Math.round(casesPerSecond),
      unit: 'cases/s',
      baseline: { name: 'Cedar requests/s (100-rule policy)', value: Math.round(cedarPerSecond) },
      target: '≥ 1,000 cases/s (thousands of variants in a CI minute)',
      met: casesPerSecond >= 1000,
    },
  ];
}
