import { readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseSync } from 'libpg-query';
import type { Action } from '../src/contract/action.js';
import { fsGuard } from '../src/guards/fs/fs-guard.js';
import { FsScope } from '../src/guards/fs/fs-paths.js';
import { sqlGuard } from '../src/guards/sql/sql-guard.js';
import { sqlAnalysisOf } from '../src/lib/resources.js';
import { createWarden } from '../src/pipeline/warden.js';
import { policyFromObject } from '../src/policy/load.js';
import type { PolicyInput } from '../src/policy/schema.js';
import { sqlDialectOf } from '../src/policy/sections/sql.js';
import { loadSqlParser } from '../src/sql/sql-analysis.js';
import { translateSqlite } from '../src/sql/sqlite-dialect.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { buildFsFixture } from '../test/corpus/fs-fixture.js';
import { type BenchRow, microsRow, percentile } from './report.js';

/**
 * Scenario `guards-fs-sql`: the file and SQL guards' decision latency over their benign corpora
 * (`test/corpus/*\/benign.jsonl`), each beside its floor measured in the same run: for files a
 * bare `realpathSync` of the same paths, for SQL a bare `libpg-query` `parseSync` of the same
 * queries (SPEC §8: the SQL guard within 1.5× the bare parse). The HTTP and shell guards report
 * in a sibling scenario.
 */

const ROUNDS = Number(process.env.BENCH_GUARD_ROUNDS ?? 400);
const gc = (globalThis as { gc?: () => void }).gc;

function log(line: string): void {
  process.stdout.write(`  [guards-fs-sql] ${line}\n`);
}

interface Case {
  action: { type: string; params: Record<string, unknown> };
}

function corpus(guard: string): Case[] {
  const text = readFileSync(join(process.cwd(), 'test', 'corpus', guard, 'benign.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Case);
}

function fillRoot<T>(value: T, root: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll('{root}', root)) as T;
}

/** Per-call µs of `fn` over `items`, `ROUNDS` times round, after one warm-up pass. */
function time<T>(items: readonly T[], fn: (item: T) => unknown): number[] {
  for (let r = 0; r < 50; r++) for (const item of items) fn(item);
  gc?.();
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const item of items) {
      const t0 = process.hrtime.bigint();
      fn(item);
      out.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
  return out.sort((a, b) => a - b);
}

/** Like `time`, for two functions timed alternately on each item. */
function timePairs<T>(
  items: readonly T[],
  a: (item: T) => unknown,
  b: (item: T) => unknown,
): [number[], number[]] {
  for (let r = 0; r < 50; r++) {
    for (const item of items) {
      a(item);
      b(item);
    }
  }
  gc?.();
  const outA: number[] = [];
  const outB: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const item of items) {
      let t0 = process.hrtime.bigint();
      a(item);
      outA.push(Number(process.hrtime.bigint() - t0) / 1000);
      t0 = process.hrtime.bigint();
      b(item);
      outB.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
  return [outA.sort((x, y) => x - y), outB.sort((x, y) => x - y)];
}

async function timeAsync<T>(
  items: readonly T[],
  rounds: number,
  fn: (item: T) => Promise<unknown>,
): Promise<number[]> {
  for (const item of items) await fn(item);
  gc?.();
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const item of items) {
      const t0 = process.hrtime.bigint();
      await fn(item);
      out.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
  return out.sort((a, b) => a - b);
}

const row = (
  metric: string,
  value: number,
  baseline?: { name: string; value: number },
  target?: string,
  met?: boolean,
): BenchRow => microsRow('guards-fs-sql', metric, value, baseline, target, met);

async function benchFs(): Promise<BenchRow[]> {
  const { base, root } = buildFsFixture();
  try {
    const input: PolicyInput = {
      agents: { coder: { allow: ['fs.*'], resources: { paths: ['/**'] } } },
      fs: { roots: [root] },
    };
    const policy = policyFromObject(input);
    const guard = fsGuard(new FsScope(policy.config.fs), policy);
    const actions = corpus('fs')
      .map((c) => ({ id: 'b', agent: 'coder', ...fillRoot(c.action, root) }) as Action)
      .filter((a) => a.type !== 'fs.delete'); // deletes raise to ask by design; measured the same otherwise
    const facts = new Map<string, unknown>();
    const guardUs = time(actions, (a) => guard.inspect(a, facts));
    const realpathUs = time(actions, (a) => {
      try {
        realpathSync(String(a.params.path));
      } catch {
        /* a new file: the guard resolves its parent instead */
      }
    });
    const warden = await createWarden({ policy, store: new MemoryStore() });
    const checkUs = await timeAsync(actions, Math.max(20, ROUNDS / 4), (a) =>
      warden.check({ agent: a.agent, type: a.type, params: a.params }),
    );
    await warden.close();
    log(
      `fs: ${actions.length} benign actions × ${ROUNDS}; guard p50 ${percentile(guardUs, 50).toFixed(2)} µs, realpath p50 ${percentile(realpathUs, 50).toFixed(2)} µs, check() p50 ${percentile(checkUs, 50).toFixed(2)} µs`,
    );
    return [
      row('fs guard p50 (benign corpus)', percentile(guardUs, 50), {
        name: 'bare realpathSync p50',
        value: percentile(realpathUs, 50),
      }),
      row('fs guard p99 (benign corpus)', percentile(guardUs, 99), {
        name: 'bare realpathSync p99',
        value: percentile(realpathUs, 99),
      }),
      row('fs check() p50, whole pipeline', percentile(checkUs, 50), {
        name: 'fs guard p50',
        value: percentile(guardUs, 50),
      }),
    ];
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

async function benchSql(): Promise<BenchRow[]> {
  await loadSqlParser();
  const input: PolicyInput = {
    agents: { analyst: { allow: ['sql.query'], resources: { tables: ['*'] } } },
    sql: {
      writes: 'allow',
      databases: {
        app: { driver: 'postgres', url: 'postgres://bench@127.0.0.1:1/never' },
        lite: { driver: 'sqlite', file: 'never-opened.db' },
      },
      defaultDatabase: 'app',
    },
  };
  const policy = policyFromObject(input);
  const guard = sqlGuard(policy.config.sql);
  // The floor: what the parser alone costs on the very text the guard parses (SQLite translated).
  // A `PRAGMA` alone leaves nothing for the parser, so it is left out of both sides.
  const textOf = (a: Action) => {
    const sql = String(a.params.sql);
    return sqlDialectOf(policy.config.sql, a.params) === 'sqlite' ? translateSqlite(sql).postgres : sql;
  };
  const actions = corpus('sql')
    .map((c) => ({ id: 'b', agent: 'analyst', ...c.action }) as Action)
    .filter((a) => textOf(a).trim() !== '');
  const texts = actions.map(textOf);
  // The guard's whole job per decision: parse + walk once (shared through facts) + decide.
  const decide = (a: Action) => {
    const facts = new Map<string, unknown>();
    sqlAnalysisOf(a, facts, sqlDialectOf(policy.config.sql, a.params));
    return guard.inspect(a, facts);
  };
  // Interleaved, query by query, so that the machine's noise falls on both sides alike.
  const [parseUs, guardUs] = timePairs(
    actions.map((a, i) => [texts[i] as string, a] as const),
    ([sql]) => parseSync(sql),
    ([, a]) => decide(a),
  );
  const warden = await createWarden({ policy, store: new MemoryStore() });
  const checkUs = await timeAsync(actions, Math.max(20, ROUNDS / 4), (a) =>
    warden.check({ agent: a.agent, type: a.type, params: a.params }),
  );
  await warden.close();
  const p50 = percentile(guardUs, 50);
  const bare50 = percentile(parseUs, 50);
  const p99 = percentile(guardUs, 99);
  const bare99 = percentile(parseUs, 99);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ratioMean = mean(guardUs) / mean(parseUs);
  log(
    `sql: ${actions.length} benign queries × ${ROUNDS}; guard p50 ${p50.toFixed(1)} µs vs parse ${bare50.toFixed(1)} µs; mean ratio ${ratioMean.toFixed(2)}×; check() p50 ${percentile(checkUs, 50).toFixed(1)} µs`,
  );
  return [
    row(
      'sql guard p50 (parse + walk + decide)',
      p50,
      { name: 'bare parseSync p50', value: bare50 },
      '≤ 1.5× bare parse',
      p50 <= 1.5 * bare50,
    ),
    row(
      'sql guard p99',
      p99,
      { name: 'bare parseSync p99', value: bare99 },
      '≤ 1.5× bare parse',
      p99 <= 1.5 * bare99,
    ),
    row('sql check() p50, whole pipeline', percentile(checkUs, 50), {
      name: 'bare parseSync p50',
      value: bare50,
    }),
    row('sql check() p99, whole pipeline', percentile(checkUs, 99), {
      name: 'bare parseSync p99',
      value: bare99,
    }),
  ];
}

export async function benchGuardsFsSql(): Promise<BenchRow[]> {
  return [...(await benchFs()), ...(await benchSql())];
}
