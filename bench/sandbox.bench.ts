import { spawn } from 'node:child_process';
import { SandboxPolicySchema } from '../src/policy/sections/sandbox.js';
import { findOnPath } from '../src/sandbox/bwrap-host.js';
import { createBwrapSandbox } from '../src/sandbox/bwrap-sandbox.js';
import { type BenchRow, percentile } from './report.js';

/**
 * SPEC §8, sandbox line: start-to-exit of `/bin/true` and `python3 -c pass` in the full sandbox
 * (namespaces, binds, seccomp, per-run cgroups with memory/CPU/pids limits, rlimits, output
 * capture, cleanup) as configured by default (pre-started sandboxes), and cold (`warm: 0`), beside a plain spawn and a bare `bwrap --unshare-all --ro-bind / / CMD` of
 * the same command, measured round-robin in the same run so that load affects all alike.
 */

const RUNS_TRUE = Number(process.env.BENCH_SANDBOX_RUNS ?? 200);
const RUNS_PYTHON = Number(process.env.BENCH_SANDBOX_PYTHON_RUNS ?? 60);

function log(line: string): void {
  process.stdout.write(`  [sandbox] ${line}\n`);
}

function spawnToExit(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function benchSandbox(): Promise<BenchRow[]> {
  const bwrap = findOnPath('bwrap');
  if (!bwrap)
    throw new Error('bubblewrap is missing: install bubblewrap (Debian: `apt-get install bubblewrap`)');
  const python = findOnPath('python3', '/usr/bin:/bin') ?? 'python3';
  const sandbox = createBwrapSandbox(SandboxPolicySchema.parse({}));
  // The same with no pre-started sandboxes: every run pays bubblewrap's set-up and the cgroup moves.
  const cold = createBwrapSandbox(SandboxPolicySchema.parse({ warm: 0 }));
  log(sandbox.info.summary);
  const rows: BenchRow[] = [];
  try {
    for (const [label, argv, runs] of [
      ['/bin/true', ['/bin/true'], RUNS_TRUE],
      ['python3 -c pass', [python, '-c', 'pass'], RUNS_PYTHON],
    ] as const) {
      const variants = {
        'plain spawn': () => spawnToExit(argv[0], argv.slice(1)),
        'bare bwrap': () => spawnToExit(bwrap, ['--unshare-all', '--ro-bind', '/', '/', ...argv]),
        'full sandbox': async () => {
          const r = await sandbox.run({ argv });
          if (r.exitCode !== 0) throw new Error(`sandboxed ${label} exited ${r.exitCode}: ${r.stderr.text}`);
        },
        'full sandbox, cold': async () => {
          const r = await cold.run({ argv });
          if (r.exitCode !== 0) throw new Error(`sandboxed ${label} exited ${r.exitCode}: ${r.stderr.text}`);
        },
      };
      const samples: Record<string, number[]> = {
        'plain spawn': [],
        'bare bwrap': [],
        'full sandbox': [],
        'full sandbox, cold': [],
      };
      for (let i = 0; i < 5; i++) for (const fn of Object.values(variants)) await fn(); // warm-up
      for (let i = 0; i < runs; i++) {
        for (const [name, fn] of Object.entries(variants)) samples[name]?.push(await timed(fn));
      }
      const stat = (name: string, p: number) =>
        percentile(
          [...(samples[name] ?? [])].sort((a, b) => a - b),
          p,
        );
      for (const p of [50, 95]) {
        const full = stat('full sandbox', p);
        const coldStart = stat('full sandbox, cold', p);
        const bare = stat('bare bwrap', p);
        const plain = stat('plain spawn', p);
        log(
          `${label} p${p}: full ${full.toFixed(2)} ms (cold ${coldStart.toFixed(2)} ms), bare bwrap ${bare.toFixed(2)} ms, plain spawn ${plain.toFixed(2)} ms`,
        );
        rows.push({
          scenario: 'sandbox',
          metric: `start ${label}, full sandbox cold (warm: 0) p${p}`,
          value: coldStart,
          unit: 'ms',
          baseline: { name: 'bare bwrap', value: bare },
        });
        rows.push({
          scenario: 'sandbox',
          metric: `start ${label}, full sandbox p${p}`,
          value: full,
          unit: 'ms',
          baseline: { name: 'bare bwrap', value: bare },
          target: '≤ 2× bare bwrap',
          met: full <= 2 * bare,
        });
        rows.push({
          scenario: 'sandbox',
          metric: `start ${label}, bare bwrap p${p}`,
          value: bare,
          unit: 'ms',
          baseline: { name: 'plain spawn', value: plain },
        });
      }
    }
  } finally {
    await sandbox.close();
    await cold.close();
  }
  return rows;
}
