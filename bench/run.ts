import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchRow, formatRows } from './report.js';

/**
 * `npm run bench`: runs each scenario in turn, prints every figure beside its baseline from the
 * same run, and writes the rows as JSON.
 *
 * Usage: node --expose-gc dist/bench/run.js [scenario …] [--out bench-results.json]
 *
 * Each scenario runs in a Node process of its own, with this one's flags: what one leaves on the
 * heap (the audit bench seeds 500,000 records) made the garbage collector of every later one
 * slower, so a scenario's figures depended on the ones that ran before it.
 */

interface Scenario {
  name: string;
  load(): Promise<(() => Promise<BenchRow[]>) | undefined>;
}

const SCENARIOS: Scenario[] = [
  { name: 'check', load: async () => (await import('./check.bench.js')).benchCheck },
  { name: 'audit', load: async () => (await import('./audit.bench.js')).benchAudit },
  { name: 'pipeline', load: async () => (await import('./pipeline.bench.js')).benchPipeline },
  { name: 'dashboard', load: async () => (await import('./dashboard.bench.js')).benchDashboard },
  { name: 'mcp', load: async () => (await import('./mcp.bench.js')).benchMcp },
  { name: 'guards-fs-sql', load: async () => (await import('./guards-fs-sql.bench.js')).benchGuardsFsSql },
  { name: 'limits', load: async () => (await import('./limits.bench.js')).benchLimits },
  {
    name: 'guards-http-shell',
    load: async () => (await import('./guards-http-shell.bench.js')).benchGuardsHttpShell,
  },
  { name: 'sandbox', load: async () => (await import('./sandbox.bench.js')).benchSandbox },
  { name: 'monitoring', load: async () => (await import('./monitoring.bench.js')).benchMonitoring },
  { name: 'globs', load: async () => (await import('./globs.bench.js')).benchGlobs },
  { name: 'taint', load: async () => (await import('./taint.bench.js')).benchTaint },
  { name: 'redteam', load: async () => (await import('./redteam.bench.js')).benchRedteam },
  { name: 'fleet', load: async () => (await import('./fleet.bench.js')).benchFleet },
  { name: 'output-review', load: async () => (await import('./output-review.bench.js')).benchOutputReview },
];

function parseArgs(argv: readonly string[]): { filters: string[]; out: string; only?: string } {
  const filters: string[] = [];
  let out = 'bench-results.json';
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--out') out = argv[++i] ?? out;
    else if (arg === '--only') only = argv[++i];
    else if (arg.startsWith('--out=')) out = arg.slice('--out='.length);
    else filters.push(arg);
  }
  return { filters, out, ...(only === undefined ? {} : { only }) };
}

/** Runs `scenario` here: its rows, or undefined when it failed (and said why on stderr). */
async function runHere(scenario: Scenario): Promise<BenchRow[] | undefined> {
  try {
    const run = await scenario.load();
    if (!run) {
      process.stdout.write(`  ${scenario.name} bench not present\n`);
      return [];
    }
    return await run();
  } catch (error) {
    process.stderr.write(
      `  ${scenario.name} bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return undefined;
  }
}

/** Runs `scenario` in a child process of this script, with the same Node flags; undefined when it failed. */
async function runInChild(scenario: Scenario): Promise<BenchRow[] | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  const out = join(dir, 'rows.json');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), '--only', scenario.name, '--out', out],
        { stdio: 'inherit' },
      );
      child.on('error', reject);
      child.on('exit', (status) => resolve(status));
    });
    if (code !== 0 || !existsSync(out)) return undefined;
    return (JSON.parse(readFileSync(out, 'utf8')) as { rows: BenchRow[] }).rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { filters, out, only } = parseArgs(process.argv.slice(2));
  if (only !== undefined) {
    // A child of the run below: one scenario, its rows to `out`.
    const scenario = SCENARIOS.find((s) => s.name === only);
    const rows = scenario && (await runHere(scenario));
    if (rows) writeFileSync(out, JSON.stringify({ rows }));
    else process.exitCode = 1;
    return;
  }
  const selected = SCENARIOS.filter((s) => filters.length === 0 || filters.some((f) => s.name.includes(f)));
  if (selected.length === 0) {
    process.stderr.write(
      `no scenario matches ${filters.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`,
    );
    process.exitCode = 2;
    return;
  }
  if (!(globalThis as { gc?: unknown }).gc) {
    process.stderr.write('note: run with node --expose-gc for steadier figures\n');
  }
  const rows: BenchRow[] = [];
  let failed = false;
  for (const scenario of selected) {
    process.stdout.write(`== ${scenario.name}\n`);
    const got = await runInChild(scenario);
    if (got) rows.push(...got);
    else failed = true;
  }
  process.stdout.write(`\n${formatRows(rows)}\n`);
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    rows,
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nwrote ${rows.length} rows to ${out}\n`);
  if (failed) process.exitCode = 1;
}

await main();
// The run is over once the rows are written: secretlint's async lintSource (the output-review
// baseline) leaves work behind that kept the process busy and alive after the last row.
process.exit();
