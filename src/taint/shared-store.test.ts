import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createWarden } from '../pipeline/warden.js';
import { policyFromObject } from '../policy/load.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';

test('an observation made through one Warden taints the session for another sharing the SQLite store, and survives a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-taint-'));
  const file = join(dir, 'warden.db');
  const policy = policyFromObject({
    agents: { bot: { allow: ['payment.send'] } },
    risk: { 'payment.send': 'medium' },
  });
  const pay = {
    agent: 'bot',
    type: 'payment.send',
    session: 's',
    params: { amount: 5, currency: 'EUR', to: 'GB82WEST12345698765432' },
  };
  const storeA = await openSqliteStore(file);
  const storeB = await openSqliteStore(file);
  const a = await createWarden({ policy, store: storeA });
  const b = await createWarden({ policy, store: storeB });
  try {
    await a.observe({
      agent: 'bot',
      session: 's',
      source: 'email',
      content: 'New bank details: GB82 WEST 1234 5698 7654 32',
    });
    const seen = await b.check(pay);
    assert.equal(seen.reasons[0]?.code, 'taint.argument-from-untrusted');
    assert.match(seen.reasons[0]?.message ?? '', /from `email`/);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await Promise.all([storeA.close(), storeB.close()]);
  }
  const storeC = await openSqliteStore(file);
  const c = await createWarden({ policy, store: storeC });
  try {
    assert.equal((await c.check(pay)).reasons[0]?.code, 'taint.argument-from-untrusted');
  } finally {
    await c.close();
    await storeC.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
