import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../cli/common.js';
import { policyFromObject } from '../../policy/load.js';
import { PolicyError } from '../../policy/policy-error.js';
import { storeConformance } from '../store.conformance.js';
import { openSqliteStore, type SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-sync-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshFile = () => join(dir, `s${++n}.db`);

// `normal` commits audit appends inline by default: the whole store contract must still hold.
storeConformance('sqlite, audit.sync normal', () => openSqliteStore(freshFile(), { sync: 'normal' }), {
  reopen: () => {
    const file = freshFile();
    return () => openSqliteStore(file, { sync: 'normal' });
  },
});

/** What SQLite reports for the store's own connection and for the connection audit appends commit on. */
async function applied(store: SqliteStore): Promise<[string, string]> {
  await store.audit.append([{ type: 'probe', agent: 'a', data: {} }]); // the writer commits with it
  return [store.synchronous(), await store.audit.synchronous()];
}

test('`full` is the default: the store and the audit writer thread commit with synchronous=FULL', async () => {
  const store = await openSqliteStore(freshFile());
  try {
    assert.equal(store.sync, 'full');
    assert.deepEqual(await applied(store), ['full', 'full']);
  } finally {
    await store.close();
  }
});

for (const writer of ['thread', 'inline'] as const) {
  test(`sync: 'normal' applies synchronous=NORMAL to the store and the ${writer} audit writer`, async () => {
    const file = freshFile();
    const store = await openSqliteStore(file, { sync: 'normal', auditWriter: writer });
    try {
      assert.deepEqual(await applied(store), ['normal', 'normal']);
    } finally {
      await store.close();
    }
    // Per connection, not stored in the file: reopening without it is `full` again.
    const reopened = await openSqliteStore(file, { auditWriter: writer });
    try {
      assert.deepEqual(await applied(reopened), ['full', 'full']);
    } finally {
      await reopened.close();
    }
  });
}

test('the policy’s `audit.sync` defaults to full, takes normal, and names a wrong value', () => {
  assert.equal(policyFromObject({}).config.audit.sync, 'full');
  assert.equal(policyFromObject({ audit: { maxBatch: 10 } }).config.audit.sync, 'full');
  assert.equal(policyFromObject({ audit: { sync: 'normal' } }).config.audit.sync, 'normal');
  assert.throws(
    () => policyFromObject({ audit: { sync: 'off' } } as never),
    (error: unknown) =>
      error instanceof PolicyError && /audit\.sync/.test(error.message) && /normal/.test(error.message),
  );
});

test('the CLI opens the store with the policy’s `audit.sync` (default full)', async () => {
  const file = freshFile();
  const normal = (await openStore(file, { sync: 'normal' })) as SqliteStore;
  try {
    assert.deepEqual(await applied(normal), ['normal', 'normal']);
  } finally {
    await normal.close();
  }
  const plain = (await openStore(file, { mustExist: true })) as SqliteStore;
  try {
    assert.deepEqual(await applied(plain), ['full', 'full']);
  } finally {
    await plain.close();
  }
});
