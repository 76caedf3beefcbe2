// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the literal `${VAR}` syntax is what these tests exercise
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { policyFromObject } from '../policy/load.js';
import { storeOf } from './common.js';

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['WARDEN_DB', 'TEST_STORE_URL', 'TEST_PG_PASSWORD']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const withStore = (store: Record<string, string>) => policyFromObject({ agents: {}, store });

test('--db wins over $WARDEN_DB, which wins over the policy’s store section', () => {
  const policy = withStore({ url: 'postgres://policy/db' });
  delete process.env.WARDEN_DB;
  assert.equal(storeOf(undefined, policy), 'postgres://policy/db');
  process.env.WARDEN_DB = 'postgres://env/db';
  assert.equal(storeOf(undefined, policy), 'postgres://env/db');
  assert.equal(storeOf('cli.db', policy), 'cli.db');
});

test('the policy’s store URL takes ${VAR} and urlEnv from the environment, and names a missing variable', () => {
  delete process.env.WARDEN_DB;
  process.env.TEST_PG_PASSWORD = 's3cret';
  assert.equal(
    storeOf(undefined, withStore({ url: 'postgres://warden:${TEST_PG_PASSWORD}@db:5432/w' })),
    'postgres://warden:s3cret@db:5432/w',
  );
  process.env.TEST_STORE_URL = 'postgres://from-env/w';
  assert.equal(storeOf(undefined, withStore({ urlEnv: 'TEST_STORE_URL' })), 'postgres://from-env/w');
  delete process.env.TEST_STORE_URL;
  assert.throws(
    () => storeOf(undefined, withStore({ urlEnv: 'TEST_STORE_URL' })),
    /TEST_STORE_URL` is not set/,
  );
  assert.throws(
    () => storeOf(undefined, withStore({ url: 'postgres://${NOPE_NOT_SET}/w' })),
    /NOPE_NOT_SET` is not set/,
  );
});

test('without --db, $WARDEN_DB or a store section, the embedded default is used', () => {
  delete process.env.WARDEN_DB;
  assert.equal(storeOf(undefined, policyFromObject({ agents: {} })), undefined);
});
