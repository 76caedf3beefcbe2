import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Warden } from '../../pipeline/warden.js';
import { policyFromObject } from '../../policy/load.js';
import type { PolicyInput } from '../../policy/schema.js';
import { analyzeSql, loadSqlParser } from '../../sql/sql-analysis.js';
import { testWarden } from '../../testing/index.js';
import { sqlGuard } from './sql-guard.js';

const agents: PolicyInput['agents'] = { a: { allow: ['sql.query'], resources: { tables: ['*'] } } };
const wardens: Warden[] = [];
async function make(sql: PolicyInput['sql'] = {}): Promise<Warden> {
  const w = await testWarden({ agents, sql });
  wardens.push(w);
  return w;
}
after(async () => {
  for (const w of wardens) await w.close();
});
const q = (sql: string, database?: string) => ({
  agent: 'a',
  type: 'sql.query',
  params: database ? { sql, database } : { sql },
});

describe('SQL guard defaults', () => {
  test("the guide's stacked query `SELECT * FROM users; DROP TABLE users;` is refused", async () => {
    const d = await (await make()).check(q('SELECT * FROM users; DROP TABLE users;'));
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'sql.forbidden']);
    assert.match(d.reasons[0]?.message ?? '', /`DROP` on `users` is forbidden by `sql.forbid`/);
  });

  test('reads are allowed; writes ask for approval by default', async () => {
    const w = await make();
    assert.equal((await w.check(q('SELECT * FROM orders WHERE id = 1'))).effect, 'allow');
    const write = await w.check(q("INSERT INTO orders (note) VALUES ('x')"));
    assert.equal(write.effect, 'ask');
    assert.ok(write.reasons.some((r) => r.code === 'sql.write'));
  });

  test('an UPDATE whose WHERE does not narrow is destructive and asks, naming the statement', async () => {
    const d = await (await make()).check(q('UPDATE accounts SET balance = 0 WHERE 1 = 1 OR id = 3'));
    assert.equal(d.effect, 'ask');
    assert.equal(d.risk, 'critical');
    assert.match(d.reasons.find((r) => r.code === 'sql.destructive')?.message ?? '', /UPDATE accounts/);
  });

  test('dangerous functions are denied by default, however the name is qualified or quoted', async () => {
    const w = await make();
    for (const sql of [
      "SELECT pg_catalog.PG_READ_FILE('/etc/passwd')",
      `SELECT "lo_import"('/etc/passwd')`,
    ]) {
      const d = await w.check(q(sql));
      assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'sql.dangerous-function'], sql);
    }
  });

  test('policy lists decide: forbidTables, denyFunctions, and admin: ask', async () => {
    const w = await make({ forbidTables: { 'audit_*': ['*'] }, denyFunctions: ['md5'], admin: 'ask' });
    assert.equal((await w.check(q('SELECT * FROM audit_log'))).reasons[0]?.code, 'sql.forbidden-table');
    assert.equal((await w.check(q("SELECT md5('x')"))).reasons[0]?.code, 'sql.dangerous-function');
    const admin = await w.check(q("COPY t TO PROGRAM 'id'"));
    assert.equal(admin.effect, 'ask');
  });
});

describe('SQL dialects and databases', () => {
  const databases = {
    pg: { driver: 'postgres' as const, url: 'postgres://x@127.0.0.1:1/x' },
    lite: { driver: 'sqlite' as const, file: 'x.db' },
  };

  test('SQLite syntax parses for a sqlite database and not for a postgres one', async () => {
    const w = await make({ databases, defaultDatabase: 'pg' });
    const sql = 'SELECT `id` FROM [orders] WHERE id = ?';
    assert.equal((await w.check(q(sql, 'lite'))).effect, 'allow');
    assert.deepEqual((await w.check(q(sql, 'pg'))).reasons[0]?.code, 'risk.sql-unparsable');
  });

  test('an unknown database is denied, naming the known ones', async () => {
    const d = await (await make({ databases })).check(q('SELECT 1', 'prod'));
    assert.equal(d.reasons[0]?.code, 'sql.unknown-database');
    assert.match(d.reasons[0]?.message ?? '', /pg, lite/);
  });

  test('SQLite strings and comments are never rewritten', async () => {
    await loadSqlParser();
    const a = analyzeSql("SELECT '`x` ? [y]' AS s -- ; DROP TABLE t", 'sqlite');
    assert.equal(a.worst, 'read');
    assert.equal(a.statements, 1);
  });
});

describe('table grants see through CTE names', () => {
  test('a CTE named like a forbidden table does not hide the real table read inside it', async () => {
    const w = await testWarden({
      agents: { a: { allow: ['sql.query'], resources: { tables: ['orders', 'recent'] } } },
    });
    wardens.push(w);
    const hidden = await w.check(q('WITH orders AS (SELECT * FROM users) SELECT * FROM orders'));
    assert.deepEqual([hidden.effect, hidden.reasons[0]?.code], ['deny', 'permissions.resource-not-granted']);
    const shadow = await w.check(q('WITH users AS (SELECT * FROM users) SELECT * FROM users'));
    assert.equal(shadow.effect, 'deny');
    const fine = await w.check(q('WITH recent AS (SELECT * FROM orders) SELECT * FROM recent'));
    assert.equal(fine.effect, 'allow');
  });
});

describe('SQL analysis is shared, not repeated', () => {
  test('the guard decides from the analysis the risk stage left in ctx.facts', async () => {
    await loadSqlParser();
    const guard = sqlGuard(policyFromObject({}).config.sql);
    const facts = new Map<string, unknown>([['sql.analysis', analyzeSql('DROP TABLE users')]]);
    // The SQL text says SELECT; the shared analysis says DROP: the guard must use the latter.
    const findings = await guard.inspect(
      { id: 'x', agent: 'a', type: 'sql.query', params: { sql: 'SELECT 1' } },
      facts,
    );
    assert.equal(findings[0]?.code, 'sql.forbidden');
  });
});

describe('obfuscation does not hide a DROP', () => {
  test('any casing and any comments between the words of `DROP TABLE users` are refused', async () => {
    const w = await make();
    const word = (s: string) =>
      fc
        .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
        .map((up) => [...s].map((ch, i) => (up[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));
    const gap = fc.constantFrom(' ', '/**/', '/* x */', '\n', '\t', ' -- c\n ', '  ');
    await fc.assert(
      fc.asyncProperty(word('drop'), gap, word('table'), gap, gap, async (d, g1, t, g2, g3) => {
        const sql = `SELECT 1;${g3}${d}${g1}${t}${g2}users`;
        const decision = await w.check(q(sql));
        return decision.effect === 'deny';
      }),
      { numRuns: 150 },
    );
  });
});

describe('SQL guard: ALTER forms that destroy data', () => {
  const policy: PolicyInput['sql'] = { ddl: 'allow', destructive: 'deny' };

  test('`ALTER TABLE … DROP COLUMN` and `ALTER COLUMN … TYPE` are destructive, not ordinary DDL', async () => {
    const w = await make(policy);
    for (const sql of [
      'ALTER TABLE users DROP COLUMN email',
      'alter table public.users drop email cascade',
      'ALTER TABLE users ADD COLUMN note text, DROP COLUMN IF EXISTS email',
      'ALTER TABLE orders ALTER COLUMN total TYPE int USING 0',
      'ALTER TYPE address DROP ATTRIBUTE street',
      'WITH x AS (SELECT 1) SELECT 1; ALTER TABLE t DROP COLUMN a',
    ]) {
      const d = await w.check(q(sql));
      assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'sql.destructive'], sql);
      assert.match(d.reasons[0]?.message ?? '', /destroys stored values/, sql);
    }
  });

  test('ALTER forms that keep every row and value stay ordinary DDL (benign neighbours)', async () => {
    const w = await make(policy);
    for (const sql of [
      'ALTER TABLE users ADD COLUMN note text',
      'ALTER TABLE users ALTER COLUMN note SET DEFAULT $$x$$',
      'ALTER TABLE users DROP CONSTRAINT users_email_key',
      'ALTER TABLE users ALTER COLUMN note DROP DEFAULT',
      'ALTER TABLE users RENAME COLUMN note TO remark',
      'ALTER TABLE users RENAME TO members',
    ]) {
      // DDL is critical risk (it asks by default); what matters is that it is not called destructive.
      const d = await w.check(q(sql));
      assert.notEqual(d.effect, 'deny', `${sql}: ${JSON.stringify(d.reasons)}`);
      assert.ok(!d.reasons.some((r) => r.code === 'sql.destructive'), sql);
      await loadSqlParser();
      assert.equal(analyzeSql(sql).worst, 'ddl', sql);
    }
  });
});
