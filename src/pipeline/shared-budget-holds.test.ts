import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testWarden } from '../testing/index.js';
import { Submissions } from './submissions.js';

// Agents that execute themselves submit under ids they choose; an id is scoped to its agent, so
// two agents may both send `job-1`. Against one budget they share, each keeps its own hold.
describe('budget holds of agents that execute themselves, under a shared budget', () => {
  test('two agents holding budget under the same action id keep separate holds: reporting one settles or releases only its own', async () => {
    const warden = await testWarden({
      agents: { alice: { allow: ['tool.call'] }, bob: { allow: ['tool.call'] } },
      limits: { budgets: [{ usd: 1, scope: 'type' }] },
    });
    const submissions = new Submissions(warden);
    const job = (agent: string, usd: number) => ({ id: 'job-1', agent, type: 'tool.call', cost: { usd } });
    const probe = (usd: number) => warden.check({ agent: 'alice', type: 'tool.call', cost: { usd } });

    assert.equal((await submissions.submit(job('alice', 0.3))).status, 'allowed');
    assert.equal((await submissions.submit(job('bob', 0.4))).status, 'allowed');
    const both = await probe(0.4);
    assert.equal(both.reasons[0]?.code, 'limits.budget', 'both holds count against the budget');
    assert.match(both.reasons[0]?.message ?? '', /reserved \$0\.70/);

    await submissions.report('job-1', 'alice', { status: 'completed', cost: { usd: 0.1 } });
    const afterAlice = await probe(0.6);
    assert.equal(afterAlice.reasons[0]?.code, 'limits.budget');
    assert.match(
      afterAlice.reasons[0]?.message ?? '',
      /spent \$0\.10 \+ reserved \$0\.40/,
      "bob's hold is still held",
    );
    assert.equal((await probe(0.5)).effect, 'allow');

    // warden.settle names the agent too: bob's failure releases bob's hold, not alice's spend.
    await warden.settle('job-1', { completed: false }, 'bob');
    assert.equal((await probe(0.9)).effect, 'allow');
    assert.equal((await probe(0.91)).reasons[0]?.code, 'limits.budget');
    await warden.close();
  });
});
