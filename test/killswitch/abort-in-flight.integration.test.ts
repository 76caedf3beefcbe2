import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createWarden } from '../../src/pipeline/warden.js';
import { policyFromObject } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { slowExecutor } from '../../src/testing/index.js';
import { tempDir } from '../helpers/cli.js';

const tmp = tempDir();
after(tmp.remove);

test('a kill written through one connection aborts an in-flight run held by another within a second', async () => {
  const file = join(tmp.dir, 'shared.db');
  const policy = policyFromObject({ agents: { worker: { allow: ['job.run'] } } });
  const storeA = await openSqliteStore(file);
  const storeB = await openSqliteStore(file);
  const a = await createWarden({ policy, store: storeA });
  const b = await createWarden({ policy, store: storeB });
  try {
    const running = a.run({ agent: 'worker', type: 'job.run', params: {} }, slowExecutor(30_000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    let abortedAt = 0;
    void running.then(() => {
      abortedAt = performance.now();
    });
    // Timed from the moment the kill is durable (its own fsync'd write is not what is measured:
    // on a busy disk that alone can take longer than the poll).
    await b.kills.kill('worker', 'oncall', 'stop the batch');
    const killedAt = performance.now();
    const result = await running;
    const latency = Math.max(0, abortedAt - killedAt);
    assert.equal(result.status, 'aborted');
    assert.equal(result.reason?.code, 'killswitch.agent-killed');
    assert.ok(latency < 1000, `aborted after ${latency.toFixed(0)} ms`);
    const results = await storeB.audit.query({ type: 'result' });
    assert.equal(results[0]?.data.status, 'aborted');
  } finally {
    await a.close();
    await b.close();
    await storeA.close();
    await storeB.close();
  }
});
