import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../test/helpers/cli.js';
import type { Action } from '../contract/action.js';
import { newContext } from '../policy/context.js';
import { policyFromObject } from '../policy/load.js';
import type { LimitsBackend } from './backend.js';
import { memoryBackend } from './backends/memory-backend.js';
import { sqliteBackend } from './backends/sqlite-backend.js';
import { buildLimiters } from './build-limiters.js';
import { Holds } from './holds.js';

const tmp = tempDir('warden-holds-');
after(() => tmp.remove());

// One budget shared by every agent (counted per action type), and two agents that chose the
// same action id: each one's hold is its own, also when resumed after a restart.
const policy = policyFromObject({
  agents: { alice: { allow: ['tool.call'] }, bob: { allow: ['tool.call'] } },
  limits: { budgets: [{ usd: 1, scope: 'type' }] },
});

const BACKENDS: Record<string, () => LimitsBackend> = {
  memory: () => memoryBackend(),
  sqlite: () => sqliteBackend(join(tmp.dir, `holds-${Math.random().toString(36).slice(2)}.db`)),
};

for (const [name, open] of Object.entries(BACKENDS)) {
  describe(`budget holds resumed after a restart, on ${name}`, () => {
    const ctx = (agent: string, usd: number, dryRun = false) => {
      const action: Action = { id: 'job-1', agent, type: 'tool.call', params: {}, cost: { usd } };
      const c = newContext(action, policy, dryRun);
      c.action = action;
      return c;
    };

    test('two agents holding budget under the same action id keep separate holds: resuming one settles only its own, then the other releases only its own', async () => {
      const backend = open();
      const [budget] = buildLimiters(policy.config.limits, backend, [...policy.agents.keys()]);
      assert.ok(budget?.resume);
      assert.ok('reservation' in (await budget.acquire(ctx('alice', 0.3))));
      assert.ok('reservation' in (await budget.acquire(ctx('bob', 0.4))));
      // Both holds count: 0.3 + 0.4 + 0.4 > 1.
      assert.equal((await budget.peek(ctx('carol', 0.4, true)))?.code, 'limits.budget');
      assert.equal(await budget.resume('job-1', 'carol'), undefined, 'no hold of carol under that id');

      // A restarted process: nothing held in memory, the backend still knows both holds.
      await new Holds([budget]).settle('job-1', { completed: true, usd: 0.1 }, 'alice');
      const afterAlice = await budget.peek(ctx('carol', 0.6, true));
      assert.equal(afterAlice?.code, 'limits.budget');
      assert.match(
        afterAlice?.message ?? '',
        /spent \$0\.10 \+ reserved \$0\.40/,
        "bob's hold is still held",
      );
      assert.equal(await budget.peek(ctx('carol', 0.5, true)), undefined);

      await new Holds([budget]).settle('job-1', { completed: false }, 'bob');
      assert.equal(
        await budget.peek(ctx('carol', 0.9, true)),
        undefined,
        "bob's hold released, alice's spend kept",
      );
      assert.equal((await budget.peek(ctx('carol', 0.91, true)))?.code, 'limits.budget');
      await backend.close();
    });
  });
}
