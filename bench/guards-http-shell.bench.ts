import { readFileSync } from 'node:fs';
import type { Action } from '../src/contract/action.js';
import type { Guard } from '../src/guards/guard.js';
import { createHttpGuard } from '../src/guards/http/http-guard.js';
import { compileHttp } from '../src/guards/http/url-checks.js';
import { compileShell, createShellGuard } from '../src/guards/shell/shell-guard.js';
import { loadShellParser, parseShell } from '../src/guards/shell/shell-parser.js';
import { policyFromObject } from '../src/policy/load.js';
import { HttpPolicySchema } from '../src/policy/sections/http.js';
import { type BenchRow, percentile } from './report.js';

/**
 * Scenario `guards-http-shell`: the decision latency of the HTTP and shell guards over their
 * benign corpora (what a well-behaved agent sends), each beside a baseline from the same run: a
 * bare `new URL()` of the same URLs, and a bare tree-sitter parse of the same commands.
 */

const CALLS = Number(process.env.BENCH_GUARD_CALLS ?? 50_000);
const gc = (globalThis as { gc?: () => void }).gc;

function corpus(path: string): Record<string, unknown>[] {
  // dist/bench/… → the repository's test/corpus/
  const text = readFileSync(new URL(`../../test/corpus/${path}`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function time<T>(items: readonly T[], fn: (item: T) => unknown): { p50: number; p99: number } {
  for (let i = 0; i < Math.min(CALLS, 5_000); i++) fn(items[i % items.length] as T); // warm up
  gc?.();
  const samples = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const item = items[i % items.length] as T;
    const t0 = process.hrtime.bigint();
    fn(item);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const sorted = Array.from(samples).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

function inspectSync(guard: Guard, facts: Map<string, unknown>): (a: Action) => unknown {
  return (action) => {
    facts.clear();
    const out = guard.inspect(action, facts);
    if (out instanceof Promise)
      throw new Error(`${guard.name} guard is asynchronous; the bench times it synchronously`);
    return out;
  };
}

function rows(
  scenario: string,
  what: string,
  guard: { p50: number; p99: number },
  base: { p50: number; p99: number },
  baseName: string,
): BenchRow[] {
  return [
    {
      scenario,
      metric: `${what} guard p50`,
      value: guard.p50,
      unit: 'µs',
      baseline: { name: `${baseName} p50`, value: base.p50 },
    },
    {
      scenario,
      metric: `${what} guard p99`,
      value: guard.p99,
      unit: 'µs',
      baseline: { name: `${baseName} p99`, value: base.p99 },
    },
  ];
}

export async function benchGuardsHttpShell(): Promise<BenchRow[]> {
  const scenario = 'guards-http-shell';
  const log = (line: string) => process.stdout.write(`  [${scenario}] ${line}\n`);

  // HTTP: the guard checks only what it can without I/O (the executor vets DNS at connect time).
  const httpCases = corpus('http/benign.jsonl').filter((c) => !c.execute);
  const http = compileHttp(HttpPolicySchema.parse({}), 10_000);
  const httpGuard = createHttpGuard(http);
  const httpActions = httpCases.map(
    (c, i) => ({ id: `h${i}`, agent: 'bench', type: 'http.request', params: c.params }) as unknown as Action,
  );
  const urls = httpActions.map((a) => String(a.params.url));
  for (const a of httpActions) {
    const found = httpGuard.inspect(a, new Map()) as { effect: string }[];
    if (found.some((f) => f.effect === 'deny')) throw new Error(`benign URL denied: ${String(a.params.url)}`);
  }
  const httpBase = time(urls, (u) => new URL(u));
  const httpGuardTime = time(httpActions, inspectSync(httpGuard, new Map()));
  log(`${httpActions.length} benign requests × ${CALLS} calls`);

  // Shell: the guard parses (tree-sitter, WebAssembly) and walks the whole tree.
  await loadShellParser();
  const policy = policyFromObject(
    JSON.parse(readFileSync(new URL('../../test/corpus/shell/policy.json', import.meta.url), 'utf8')),
  );
  const shellGuard = createShellGuard(compileShell(policy.config.shell), policy);
  const shellCases = corpus('shell/benign.jsonl').filter((c) => typeof c.command === 'string');
  const shellActions = shellCases.map(
    (c, i) =>
      ({
        id: `s${i}`,
        agent: 'dev',
        type: 'shell.exec',
        params: { command: c.command },
      }) as unknown as Action,
  );
  for (const a of shellActions) {
    const found = shellGuard.inspect(a, new Map()) as { effect: string; message: string }[];
    if (found.length > 0)
      throw new Error(`benign command denied: ${String(a.params.command)}: ${found[0]?.message}`);
  }
  const commands = shellActions.map((a) => String(a.params.command));
  const shellBase = time(commands, (c) => parseShell(c).delete());
  const shellGuardTime = time(shellActions, inspectSync(shellGuard, new Map()));
  log(`${shellActions.length} benign commands × ${CALLS} calls`);

  return [
    ...rows(scenario, 'HTTP', httpGuardTime, httpBase, 'bare new URL()'),
    ...rows(scenario, 'shell', shellGuardTime, shellBase, 'bare tree-sitter parse'),
  ];
}
