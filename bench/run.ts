import { writeFileSync } from 'node:fs';
import { type BenchRow, formatRows } from './report.js';

/**
 * `npm run bench`: runs each scenario in turn, prints every figure beside its baseline from the
 * same run, and writes the rows as JSON.
 *
 * Usage: node --expose-gc dist/bench/run.js [scenario …] [--out bench-results.json]
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

function parseArgs(argv: readonly string[]): { filters: string[]; out: string } {
  const filters: string[] = [];
  let out = 'bench-results.json';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--out') out = argv[++i] ?? out;
    else if (arg.startsWith('--out=')) out = arg.slice('--out='.length);
    else filters.push(arg);
  }
  return { filters, out };
}

async function main(): Promise<void> {
  const { filters, out } = parseArgs(process.argv.slice(2));
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
    try {
      const run = await scenario.load();
      if (!run) {
        process.stdout.write(`  ${scenario.name} bench not present\n`);
        continue;
      }
      rows.push(...(await run()));
    } catch (error) {
      failed = true;
      process.stderr.write(
        `  ${scenario.name} bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
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
