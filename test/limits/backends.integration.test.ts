import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { backendConformance } from '../../src/limits/backend.conformance.js';
import { postgresBackend } from '../../src/limits/backends/postgres-backend.js';
import { RedisBackend } from '../../src/limits/backends/redis-backend.js';
import { testWarden } from '../../src/testing/index.js';
import { uniquePrefix } from './workers.js';

const REDIS_URL = process.env.WARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = uniquePrefix('conf').replace(/-/g, '_');

backendConformance('redis', async () => {
  const backend = new RedisBackend({ url: REDIS_URL, prefix: uniquePrefix('conf'), timeoutMs: 2000 });
  await backend.connect();
  if (backend.redis.status !== 'ready') {
    assert.fail(`these tests need Redis at ${REDIS_URL}: start redis-server or set WARDEN_TEST_REDIS_URL`);
  }
  return backend;
});
backendConformance('postgres', async () => postgresBackend({ url: PG_URL, schema, timeoutMs: 5000 }));
after(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('limits over PostgreSQL: fail closed', () => {
  test('with PostgreSQL unreachable, a budgeted action is denied with limits.unavailable, promptly', async () => {
    const warden = await testWarden({
      agents: { a: { allow: ['tool.call'] } },
      limits: {
        backend: 'postgres',
        // Port 9 (discard) has nothing listening here: connections are refused at once.
        postgres: { url: 'postgres://postgres@127.0.0.1:9/test', timeout: '300ms' },
        budgets: [{ usd: 1 }],
      },
    });
    const t0 = performance.now();
    const r = await warden.run({ agent: 'a', type: 'tool.call', cost: { usd: 0.1 } }, () => 'ran');
    assert.equal(r.status, 'denied');
    assert.equal(r.reason?.code, 'limits.unavailable');
    assert.match(r.reason?.message ?? '', /postgres limits backend did not answer/);
    assert.ok(performance.now() - t0 < 5000);
    await warden.close();
  });
});
