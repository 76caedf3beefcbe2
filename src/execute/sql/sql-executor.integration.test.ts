import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Warden } from '../../pipeline/warden.js';
import type { PolicyInput } from '../../policy/schema.js';
import { loadSqlParser } from '../../sql/sql-analysis.js';
import { testWarden } from '../../testing/index.js';
import { PgDatabase } from './pg-database.js';
import { SqliteDatabase } from './sqlite-database.js';

const PG_URL = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `warden_sql_${process.pid}_${Date.now().toString(36)}`;
let admin: pg.Client;
let dir: string;
let file: string;
const wardens: Warden[] = [];
const closers: (() => Promise<void>)[] = [];

function policy(sql: Record<string, unknown> = {}): PolicyInput {
  return {
    agents: { analyst: { allow: ['sql.query'], resources: { tables: ['*'] } } },
    sql: {
      databases: {
        main: { driver: 'postgres', url: PG_URL, schema },
        local: { driver: 'sqlite', file },
      },
      defaultDatabase: 'main',
      maxRows: 5,
      statementTimeout: '300ms',
      ...sql,
    } as PolicyInput['sql'],
  };
}

async function make(sql: Record<string, unknown> = {}): Promise<Warden> {
  const w = await testWarden(policy(sql));
  wardens.push(w);
  return w;
}

const options = { timeoutMs: 2000, maxRows: 100 };

before(async () => {
  admin = new pg.Client({ connectionString: PG_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}); start it (see docs/operations.md) or set WARDEN_TEST_PG_URL`,
    );
  }
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`CREATE TABLE ${schema}.t (id int primary key, name text)`);
  await admin.query(`INSERT INTO ${schema}.t SELECT g, 'row ' || g FROM generate_series(1, 20) g`);
  // A function whose body writes: the guard cannot see inside a call to it.
  await admin.query(
    `CREATE FUNCTION ${schema}.sneaky() RETURNS int LANGUAGE sql AS 'INSERT INTO ${schema}.t VALUES (999, ''sneaky'') RETURNING 1'`,
  );
  dir = mkdtempSync(join(tmpdir(), 'warden-sqlite-'));
  file = join(dir, 'app.db');
  const db = new Database(file);
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);`);
  const insert = db.prepare('INSERT INTO t (name) VALUES (?)');
  for (let i = 1; i <= 20; i++) insert.run(`row ${i}`);
  db.close();
  await loadSqlParser();
});

after(async () => {
  for (const w of wardens) await w.close();
  for (const c of closers) await c();
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function pgCount(): Promise<number> {
  return Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.t`)).rows[0].n);
}

function sqliteCount(): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('PostgreSQL executor', () => {
  test('a read runs with the row cap and reports truncation', async () => {
    const w = await make();
    const r = await w.run({
      agent: 'analyst',
      type: 'sql.query',
      params: { sql: 'SELECT id, name FROM t ORDER BY id' },
    });
    assert.equal(r.status, 'completed', JSON.stringify(r.reason));
    const out = r.output as { rows: { id: number }[]; truncated: boolean; mode: string };
    assert.deepEqual(
      out.rows.map((x) => x.id),
      [1, 2, 3, 4, 5],
    );
    assert.equal(out.truncated, true);
    assert.equal(out.mode, 'read');
  });

  test('parameters travel apart from the SQL: an injection in a value stays a value', async () => {
    const w = await make();
    const r = await w.run({
      agent: 'analyst',
      type: 'sql.query',
      params: { sql: 'SELECT id FROM t WHERE name = $1', params: ["x'; DROP TABLE t; --"] },
    });
    assert.equal(r.status, 'completed');
    assert.deepEqual((r.output as { rows: unknown[] }).rows, []);
    assert.equal(await pgCount(), 20);
  });

  test('the statement timeout stops a long read', async () => {
    const w = await make();
    const r = await w.run({
      agent: 'analyst',
      type: 'sql.query',
      params: { sql: 'SELECT count(*) FROM generate_series(1, 1000000000) a' },
    });
    assert.equal(r.status, 'failed');
    assert.match(r.reason?.message ?? '', /statement timeout/);
  });

  test('aborting a run cancels its statement on the server', async () => {
    const w = await make({ statementTimeout: '60s' });
    const controller = new AbortController();
    const marker = `warden_abort_${Date.now()}`;
    const sql = `SELECT count(*) AS ${marker} FROM generate_series(1, 10000000000) a`;
    setTimeout(() => controller.abort(), 300);
    const r = await w.run({ agent: 'analyst', type: 'sql.query', params: { sql } }, undefined, {
      signal: controller.signal,
    });
    assert.equal(r.status, 'aborted');
    let running = 1;
    for (let i = 0; i < 50 && running > 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      const q = await admin.query(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`,
        [`%${marker}%`],
      );
      running = Number(q.rows[0].n);
    }
    const rows = (
      await admin.query(
        `SELECT pid, state, backend_type, left(query, 80) AS q FROM pg_stat_activity WHERE query LIKE $1`,
        [`%${marker}%`],
      )
    ).rows;
    assert.equal(running, 0, `the statement is no longer running on the server: ${JSON.stringify(rows)}`);
  });

  test('a read-only run cannot write even if the guard were wrong', async () => {
    const db = new PgDatabase(PG_URL, schema);
    closers.push(() => db.close());
    const disguised = [
      'DELETE FROM t',
      'WITH gone AS (DELETE FROM t RETURNING id) SELECT count(*) FROM gone',
      'UPDATE t SET name = $1',
      'SELECT 1; DELETE FROM t',
      'DROP TABLE t',
    ];
    for (const sql of disguised) {
      const params = sql.includes('$1') ? ['x'] : [];
      await assert.rejects(db.read(sql, params, options), /read-only transaction|multiple commands/, sql);
    }
    assert.equal(await pgCount(), 20);
  });

  test('a write hidden inside a function the guard cannot see into fails in the read-only transaction', async () => {
    const w = await make();
    const r = await w.run({ agent: 'analyst', type: 'sql.query', params: { sql: 'SELECT sneaky()' } });
    assert.equal(r.decision.effect, 'allow', 'the guard sees only a SELECT');
    assert.equal(r.status, 'failed');
    assert.match(r.reason?.message ?? '', /read-only transaction/);
    assert.equal(await pgCount(), 20);
  });

  test('writes ask by default, and run in a transaction when the policy allows them', async () => {
    const asked = await (await make()).check({
      agent: 'analyst',
      type: 'sql.query',
      params: { sql: 'INSERT INTO t VALUES (100, $1)', params: ['new'] },
    });
    assert.equal(asked.effect, 'ask');
    assert.equal(asked.reasons.find((r) => r.stage === 'guards')?.code, 'sql.write');
    const w = await make({ writes: 'allow' });
    const r = await w.run({
      agent: 'analyst',
      type: 'sql.query',
      params: { sql: 'INSERT INTO t VALUES (100, $1) RETURNING id', params: ['new'] },
    });
    assert.equal(r.status, 'completed', JSON.stringify(r.reason));
    assert.deepEqual(r.output && (r.output as { rows: unknown[]; mode: string }).mode, 'write');
    assert.equal(await pgCount(), 21);
    await admin.query(`DELETE FROM ${schema}.t WHERE id = 100`);
  });
});

describe('SQLite executor', () => {
  test('a read with SQLite placeholders runs on a read-only connection, capped', async () => {
    const w = await make();
    const r = await w.run({
      agent: 'analyst',
      type: 'sql.query',
      params: { database: 'local', sql: 'SELECT id, `name` FROM [t] WHERE id > ? ORDER BY id', params: [2] },
    });
    assert.equal(r.status, 'completed', JSON.stringify(r.reason));
    const out = r.output as { rows: { id: number }[]; truncated: boolean };
    assert.deepEqual(
      out.rows.map((x) => x.id),
      [3, 4, 5, 6, 7],
    );
    assert.equal(out.truncated, true);
  });

  test('a read-only run cannot write even if the guard were wrong', async () => {
    const db = new SqliteDatabase(file);
    closers.push(() => db.close());
    for (const sql of [
      'DELETE FROM t',
      'INSERT INTO t (name) VALUES (1)',
      'DROP TABLE t',
      "ATTACH 'x.db' AS x",
      'SELECT 1; DELETE FROM t',
    ]) {
      await assert.rejects(
        db.read(sql, [], options),
        /read-only|readonly|more than one statement|unable to open/i,
        sql,
      );
    }
    assert.equal(sqliteCount(), 20);
  });

  test('a runaway query is stopped at the timeout, and the next query still runs', async () => {
    const w = await make();
    const runaway = await w.run({
      agent: 'analyst',
      type: 'sql.query',
      params: {
        database: 'local',
        sql: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c',
      },
    });
    assert.equal(runaway.status, 'failed');
    assert.match(runaway.reason?.message ?? '', /did not finish within/);
    const next = await w.run({
      agent: 'analyst',
      type: 'sql.query',
      params: { database: 'local', sql: 'SELECT count(*) AS n FROM t' },
    });
    assert.deepEqual((next.output as { rows: unknown[] }).rows, [{ n: 20 }]);
  });

  test('PRAGMA reads are allowed; PRAGMA writes and ATTACH are refused', async () => {
    const w = await make();
    const info = await w.run({
      agent: 'analyst',
      type: 'sql.query',
      params: { database: 'local', sql: 'PRAGMA table_info(t)' },
    });
    assert.equal(info.status, 'completed', JSON.stringify(info.reason));
    assert.equal((info.output as { rows: unknown[] }).rows.length, 2);
    for (const sql of [
      'PRAGMA journal_mode = DELETE',
      "ATTACH DATABASE '/tmp/x.db' AS x",
      "SELECT load_extension('/tmp/x.so')",
    ]) {
      const d = await w.check({ agent: 'analyst', type: 'sql.query', params: { database: 'local', sql } });
      assert.equal(d.effect, 'deny', sql);
    }
  });

  test('an INSERT OR REPLACE write runs in a transaction when writes are allowed', async () => {
    const w = await make({ writes: 'allow' });
    const r = await w.run({
      agent: 'analyst',
      type: 'sql.query',
      params: {
        database: 'local',
        sql: 'INSERT OR REPLACE INTO t (id, name) VALUES (?, ?)',
        params: [1, 'renamed'],
      },
    });
    assert.equal(r.status, 'completed', JSON.stringify(r.reason));
    assert.equal((r.output as { rowCount: number }).rowCount, 1);
    assert.equal(sqliteCount(), 20);
  });
});
