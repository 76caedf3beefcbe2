import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { postgresBackend } from '../../src/limits/backends/postgres-backend.js';
import { buildLimiters } from '../../src/limits/build-limiters.js';
import { limitsView } from '../../src/limits/usage.js';
import { createWarden } from '../../src/pipeline/warden.js';
import { policyFromObject } from '../../src/policy/load.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { LimitsSchema } from '../../src/policy/sections/limits.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/cli.js';
import { runWorkers, uniquePrefix } from './workers.js';

const PG_URL = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const agents: PolicyInput['agents'] = { research: { allow: ['search.web', 'tool.call'] } };

describe('limits over PostgreSQL, across processes', () => {
  const schema = uniquePrefix('pg').replace(/-/g, '_');
  before(async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
    } catch (error) {
      assert.fail(
        `these tests need PostgreSQL at ${PG_URL}: start it (\`pg_ctlcluster 15 main start\`) or set WARDEN_TEST_PG_URL (${error})`,
      );
    }
    await client.end();
  });
  after(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  test('4 processes × 200 concurrent $0.10 actions against $5 spend exactly $5.00, every cent in the ledger', async () => {
    const limits = {
      backend: 'postgres',
      postgres: { url: PG_URL, prefix: schema, timeout: '30s' },
      budgets: [{ usd: 5 }],
    };
    const results = await runWorkers(4, {
      policy: { agents, limits },
      attempts: 200,
      action: { agent: 'research', type: 'tool.call', cost: { usd: 0.1 } },
    });
    assert.equal(
      results.reduce((s, r) => s + r.admitted, 0),
      50,
      JSON.stringify(results),
    );
    const config = LimitsSchema.parse(limits);
    const backend = postgresBackend({ url: PG_URL, schema, timeoutMs: 5000 });
    try {
      const usage = (
        await Promise.all(buildLimiters(config, backend, ['research']).map((l) => l.usage?.() ?? []))
      )
        .flat()
        .find((u) => u.key === 'research');
      assert.deepEqual({ used: usage?.used, reserved: usage?.reserved }, { used: 5, reserved: 0 });
      const { rows } = await backend.pool.query<{ kind: string; n: string; micros: string }>(
        `SELECT kind, count(*) AS n, sum(micros) AS micros FROM "${schema}".limit_ledger GROUP BY kind ORDER BY kind`,
      );
      assert.deepEqual(
        rows.map((r) => [r.kind, Number(r.n), Number(r.micros)]),
        [
          ['reserve', 50, 5_000_000],
          ['settle', 50, 5_000_000],
        ],
      );
    } finally {
      await backend.close();
    }
  });
});

describe('limits in the SQLite store survive a restart', () => {
  const tmp = tempDir('warden-limits-');
  after(() => tmp.remove());

  test('4 processes × 100 concurrent attempts on one store file against 150 an hour admit exactly 150', async () => {
    const results = await runWorkers(4, {
      policy: { agents, limits: { rate: [{ windows: { '1h': 150 } }] } },
      store: join(tmp.dir, 'shared.db'),
      attempts: 100,
      action: { agent: 'research', type: 'search.web' },
    });
    assert.equal(
      results.reduce((s, r) => s + r.admitted, 0),
      150,
      JSON.stringify(results),
    );
  });

  test('a second process sees the first one’s rate count and spend', async () => {
    const store = join(tmp.dir, 'warden.db');
    const limits = { rate: [{ windows: { '1h': 3 } }], budgets: [{ usd: 1 }] }; // backend follows the store
    const job = {
      policy: { agents, limits },
      store,
      sequential: true,
      action: { agent: 'research', type: 'tool.call', cost: { usd: 0.3 } },
    };
    const [first] = await runWorkers(1, { ...job, attempts: 2 });
    assert.deepEqual(first, { admitted: 2, denied: {} });
    // Spent $0.60 and 2 of 3 calls: the next $0.30 fits in both, the one after fails on both.
    const [second] = await runWorkers(1, { ...job, attempts: 2 });
    assert.equal(second?.admitted, 1, JSON.stringify(second));
    assert.equal(second?.denied['limits.rate'], 1, 'the rate count survived the restart');
    const [third] = await runWorkers(1, {
      ...job,
      action: { ...job.action, cost: { usd: 0.2 } },
      attempts: 1,
    });
    assert.deepEqual(third?.denied, { 'limits.rate': 1 });
  });

  test('a hold taken by decide() before a restart is settled after it, and an unreported one expires', async () => {
    const file = join(tmp.dir, 'holds.db');
    // The TTL must outlast two store opens on a slow machine (CI took over 1 s), yet let the test
    // watch b's hold expire: 5 s, and the expiry is polled for rather than slept through.
    const policy = policyFromObject({ agents, limits: { budgets: [{ usd: 1 }], holdTtl: '5s' } });
    const open = async () => {
      const store = await openSqliteStore(file);
      return { store, warden: await createWarden({ policy, store }) };
    };
    const first = await open();
    const a = await first.warden.decide({ agent: 'research', type: 'tool.call', cost: { usd: 0.5 } });
    const b = await first.warden.decide({ agent: 'research', type: 'tool.call', cost: { usd: 0.4 } });
    assert.equal(a.decision.effect, 'allow');
    assert.equal(b.decision.effect, 'allow');
    await first.warden.close();
    await first.store.close();

    const second = await open();
    const full = await second.warden.check({ agent: 'research', type: 'tool.call', cost: { usd: 0.2 } });
    assert.equal(full.reasons[0]?.code, 'limits.budget', 'both holds outlived the restart');
    await second.warden.settle(a.action?.id as string, { completed: true, usd: 0.3 }, 'research');
    const budgetNow = async () => {
      const view = await limitsView(second.warden.limiters, 'research');
      const budget = view.agents[0]?.limits.find((l) => l.kind === 'budget');
      return { used: budget?.used, reserved: budget?.reserved };
    };
    assert.deepEqual(await budgetNow(), { used: 0.3, reserved: 0.4 }, 'a settled, b still held');
    // b's result never comes: its hold expires.
    const deadline = Date.now() + 15_000;
    while ((await budgetNow()).reserved !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(await budgetNow(), { used: 0.3, reserved: 0 });
    await second.warden.close();
    await second.store.close();
  });

  test('the spend survives a restart: $0.90 spent in one process leaves no room for $0.20 in the next', async () => {
    const store = join(tmp.dir, 'spend.db');
    const limits = { budgets: [{ usd: 1 }] };
    const job = { policy: { agents, limits }, store, sequential: true };
    const [first] = await runWorkers(1, {
      ...job,
      attempts: 3,
      action: { agent: 'research', type: 'tool.call', cost: { usd: 0.3 } },
    });
    assert.equal(first?.admitted, 3);
    const [second] = await runWorkers(1, {
      ...job,
      attempts: 1,
      action: { agent: 'research', type: 'tool.call', cost: { usd: 0.2 } },
    });
    assert.deepEqual(second, { admitted: 0, denied: { 'limits.budget': 1 } });
  });
});
