import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Guard } from '../guards/guard.js';
import type { Limiter } from '../limits/limiter.js';
import type { PolicyInput } from '../policy/schema.js';
import { recordingExecutor, slowExecutor, testWarden } from '../testing/index.js';
import type { Warden } from './warden.js';

const policy: PolicyInput = {
  agents: {
    research: { allow: ['read', 'fs.read', 'fs.list', 'search'], resources: { paths: ['/data/**'] } },
    admin: {
      allow: ['*'],
      resources: { paths: ['/**'], hosts: ['*'], tables: ['*'] },
    },
    coder: {
      allow: ['fs.*', 'sql.query', 'shell.exec'],
      resources: { paths: ['/workspace/**'], tables: ['*'] },
    },
    payer: { allow: ['payment.*'] },
  },
  rules: [
    {
      id: 'no-users-delete',
      effect: 'deny',
      match: { type: 'sql.query', params: { sql: { contains: 'users' } }, risk: 'critical' },
    },
    {
      id: 'big-payment-ask',
      effect: 'ask',
      match: { type: 'payment.*', params: { amount: { gt: 1000 } } },
      approvals: { required: 2 },
    },
    {
      id: 'tmp-deletes-ok',
      effect: 'allow',
      match: { type: 'fs.delete', params: { path: { glob: '/workspace/tmp/**' } } },
    },
  ],
};

const wardens: Warden[] = [];
async function make(p: PolicyInput = policy, options = {}) {
  const w = await testWarden(p, options);
  wardens.push(w);
  return w;
}
after(async () => {
  for (const w of wardens) await w.close();
});

describe("the guide's least-privilege checks", () => {
  test('an agent granted only `read` is refused fs.delete', async () => {
    const warden = await make();
    const d = await warden.check({
      agent: 'research',
      type: 'fs.delete',
      params: { path: '/data/important.txt' },
    });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0]?.code, 'permissions.not-granted');
    assert.equal(d.risk, 'critical');
  });

  test('an action type outside the grant is denied by default, naming the missing grant', async () => {
    const warden = await make();
    const d = await warden.check({ agent: 'research', type: 'email.send', params: { to: 'x@example.com' } });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0]?.stage, 'permissions');
    assert.match(d.reasons[0]?.message ?? '', /no grant for `email\.send`/);
    assert.match(d.reasons[0]?.message ?? '', /agents\.research\.allow/);
  });

  test('an agent missing from the policy is denied', async () => {
    const warden = await make();
    const d = await warden.check({ agent: 'stranger', type: 'fs.read', params: { path: '/data/a' } });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'permissions.unknown-agent']);
  });

  test('a path outside the granted paths is denied, including through `..`', async () => {
    const warden = await make();
    for (const path of ['/etc/passwd', '/data/../etc/passwd', '../../../etc/passwd', '/data/\0x']) {
      const d = await warden.check({ agent: 'research', type: 'fs.read', params: { path } });
      assert.equal(d.effect, 'deny', path);
      assert.match(d.reasons[0]?.code ?? '', /^permissions\.resource-/, path);
    }
    const ok = await warden.check({
      agent: 'research',
      type: 'fs.read',
      params: { path: '/data/x/../y.txt' },
    });
    assert.equal(ok.effect, 'allow');
  });
});

describe('one path for grants, rules and executors', () => {
  test('a deny rule on a path glob cannot be dodged by spelling the path differently', async () => {
    const warden = await make({
      agents: { ops: { allow: ['fs.read'], resources: { paths: ['/srv/**'] } } },
      rules: [{ id: 'no-secrets', effect: 'deny', match: { params: { path: { glob: '/srv/secrets/**' } } } }],
    });
    for (const path of ['/srv/./secrets/a', '/srv//secrets/a', '/srv/x/../secrets/a', '/srv/secrets/a/']) {
      const d = await warden.check({ agent: 'ops', type: 'fs.read', params: { path } });
      assert.deepEqual([d.effect, d.rule], ['deny', 'no-secrets'], path);
    }
  });

  test('the executor receives the normalised path the decision was made on', async () => {
    const warden = await make();
    const exec = recordingExecutor('ok');
    await warden.run({ agent: 'research', type: 'fs.read', params: { path: '/data/x/./../y.txt' } }, exec);
    assert.equal(exec.calls[0]?.params.path, '/data/y.txt');
  });

  test('a wildcard is not a valid action type', async () => {
    const warden = await make({ agents: { a: { allow: ['*'], resources: { paths: ['/**'] } } } });
    const d = await warden.check({ agent: 'a', type: 'fs.*', params: { path: '/x' } });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'validate.invalid']);
  });
});

describe('risk, rules and default safety requirements', () => {
  test('a DELETE hidden in a CTE makes sql.query critical and a deny rule catches it', async () => {
    const warden = await make();
    const d = await warden.check({
      agent: 'coder',
      type: 'sql.query',
      params: { sql: 'WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone' },
    });
    assert.equal(d.risk, 'critical');
    assert.equal(d.effect, 'deny');
    assert.equal(d.rule, 'no-users-delete');
  });

  test('SQL that does not parse is denied', async () => {
    const warden = await make();
    const d = await warden.check({ agent: 'coder', type: 'sql.query', params: { sql: 'SELEC * FROM t' } });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0]?.code, 'risk.sql-unparsable');
  });

  test('critical actions ask for explicit approval when no rule allows them', async () => {
    const warden = await make();
    const d = await warden.check({
      agent: 'coder',
      type: 'fs.delete',
      params: { path: '/workspace/src/a.ts' },
    });
    assert.equal(d.effect, 'ask');
    assert.equal(d.reasons[0]?.code, 'default.approval-required');
    assert.deepEqual(d.approvals, { required: 1, roles: ['approver', 'admin'] });
  });

  test('an explicit allow rule releases a critical action', async () => {
    const warden = await make();
    const d = await warden.check({
      agent: 'coder',
      type: 'fs.delete',
      params: { path: '/workspace/tmp/a.log' },
    });
    assert.deepEqual([d.effect, d.rule, d.reasons[0]?.code], ['allow', 'tmp-deletes-ok', 'rules.allow']);
  });

  test('payments need two approvers by default, and rule approvals apply', async () => {
    const warden = await make();
    const small = await warden.check({
      agent: 'payer',
      type: 'payment.send',
      params: { amount: 10, currency: 'USD', to: 'acme' },
    });
    assert.equal(small.effect, 'ask');
    assert.equal(small.approvals?.required, 2);
    const big = await warden.check({
      agent: 'payer',
      type: 'payment.send',
      params: { amount: 5000, currency: 'USD', to: 'acme' },
    });
    assert.deepEqual([big.effect, big.rule, big.approvals?.required], ['ask', 'big-payment-ask', 2]);
  });

  test('shell commands are denied while no sandbox is available', async () => {
    // `ls` is allowed by the shell guard here, so only the missing sandbox can deny it.
    const warden = await make({ ...policy, shell: { commands: { ls: true } }, sandbox: { backend: 'none' } });
    const d = await warden.check({ agent: 'coder', type: 'shell.exec', params: { command: 'ls' } });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'sandbox.unavailable']);
  });

  test('deny overrides: a matching deny wins over an earlier allow', async () => {
    const warden = await make({
      agents: { a: { allow: ['crm.update'] } },
      rules: [
        { id: 'allow-all', effect: 'allow', match: { type: 'crm.*' } },
        { id: 'no-vip', effect: 'deny', match: { params: { tier: 'vip' } } },
      ],
    });
    assert.equal(
      (await warden.check({ agent: 'a', type: 'crm.update', params: { tier: 'basic' } })).effect,
      'allow',
    );
    const d = await warden.check({ agent: 'a', type: 'crm.update', params: { tier: 'vip' } });
    assert.deepEqual([d.effect, d.rule], ['deny', 'no-vip']);
  });

  test('an invalid action is denied naming the field', async () => {
    const warden = await make();
    const d = await warden.check({ agent: 'research', type: 'fs.read', params: { path: 42 } });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0]?.code, 'validate.invalid');
    assert.match(d.reasons[0]?.message ?? '', /`params\.path`/);
  });
});

describe('fail closed', () => {
  test('a guard that throws denies with a reason naming the stage, never allows', async () => {
    const broken: Guard = {
      name: 'broken',
      appliesTo: () => true,
      inspect: () => {
        throw new Error('boom');
      },
    };
    const crashes: string[] = [];
    const warden = await make(policy, {
      guards: [broken],
      onStageError: (stage: string) => crashes.push(stage),
    });
    const d = await warden.check({ agent: 'research', type: 'fs.read', params: { path: '/data/a' } });
    assert.deepEqual(
      [d.effect, d.reasons[0]?.code, d.reasons[0]?.stage],
      ['deny', 'internal.stage-error', 'guards'],
    );
    assert.deepEqual(crashes, ['guards']);
  });

  test('when the audit record cannot be written, run() denies and does not execute', async () => {
    const warden = await make();
    warden.store.audit.append = () => Promise.reject(new Error('disk full'));
    const exec = recordingExecutor('done');
    const r = await warden.run({ agent: 'research', type: 'fs.read', params: { path: '/data/a' } }, exec);
    assert.equal(r.status, 'denied');
    assert.equal(r.decision.reasons[0]?.code, 'record.unavailable');
    assert.equal(exec.calls.length, 0);
  });
});

describe('limits slot', () => {
  test('decide() holds limits until the agent reports, then settles them with the actual cost', async () => {
    const events: string[] = [];
    const limiter: Limiter = {
      name: 'spy',
      peek: () => undefined,
      acquire: async (ctx) => {
        events.push(`acquire ${ctx.action.type}`);
        return {
          reservation: {
            settle: async (actual) => {
              events.push(`settle ${actual.usd}`);
            },
            release: async () => {
              events.push('release');
            },
          },
        };
      },
    };
    const warden = await make(policy, { limiters: [limiter] });
    const { decision, action } = await warden.decide({
      agent: 'research',
      type: 'fs.read',
      params: { path: '/data/a' },
    });
    assert.equal(decision.effect, 'allow');
    assert.deepEqual(events, ['acquire fs.read']);
    await warden.settle(action?.id ?? '', { completed: true, usd: 0.25 });
    assert.deepEqual(events, ['acquire fs.read', 'settle 0.25']);
  });
});

describe('run()', () => {
  test('check() has no side effects; run() records the decision and the result', async () => {
    const warden = await make();
    const action = { agent: 'research', type: 'fs.read', params: { path: '/data/a' } };
    await warden.check(action);
    assert.equal(await warden.store.audit.count(), 0);
    const exec = recordingExecutor({ bytes: 3 });
    const r = await warden.run(action, exec);
    assert.deepEqual([r.status, r.output], ['completed', { bytes: 3 }]);
    const records = await warden.store.audit.query({ actionId: r.decision.id });
    assert.deepEqual(
      records.map((x) => x.type),
      ['decision', 'result'],
    );
    assert.equal(exec.calls.length, 1);
  });

  test('with the result riding the next commit, the decision is on record before the executor starts, and the result follows', async () => {
    const warden = await make();
    const action = { agent: 'research', type: 'fs.read', params: { path: '/data/a' } };
    let seenByExecutor: string[] = [];
    const r = await warden.run(
      action,
      async (a) => {
        seenByExecutor = (await warden.store.audit.query({ actionId: a.id })).map((x) => x.type);
        return { bytes: 3 };
      },
      { resultRecord: 'next-commit' },
    );
    assert.deepEqual([r.status, r.output], ['completed', { bytes: 3 }]);
    assert.deepEqual(seenByExecutor, ['decision']);
    await warden.audit.flush();
    const records = await warden.store.audit.query({ actionId: r.decision.id });
    assert.deepEqual(
      records.map((x) => x.type),
      ['decision', 'result'],
    );
  });

  test('without an executor of its own, run() uses the table by type, and denies when none fits', async () => {
    const read = recordingExecutor('from fs.read');
    const family = recordingExecutor('from fs.*');
    const warden = await make(policy, { executors: { 'fs.read': read, 'fs.*': family } });
    const r1 = await warden.run({ agent: 'research', type: 'fs.read', params: { path: '/data/a' } });
    const r2 = await warden.run({ agent: 'research', type: 'fs.list', params: { path: '/data' } });
    assert.deepEqual([r1.output, r2.output], ['from fs.read', 'from fs.*']);
    const r3 = await warden.run({ agent: 'admin', type: 'notify.send', params: { to: 'x' } });
    assert.equal(r3.status, 'denied');
    assert.equal(r3.reason?.code, 'execute.unavailable');
    const [recorded] = await warden.store.audit.query({ actionId: r3.decision.id });
    assert.equal((recorded?.data.decision as { effect?: string } | undefined)?.effect, 'deny');
  });

  test('audit record listeners hear every durable record, in chain order', async () => {
    const warden = await make();
    const heard: string[] = [];
    const stop = warden.audit.onRecord((r) => heard.push(`${r.seq}:${r.type}`));
    warden.audit.onRecord(() => {
      throw new Error('a broken listener must not break the log');
    });
    await warden.run({ agent: 'research', type: 'fs.read', params: { path: '/data/a' } }, () => 1);
    await new Promise((r) => setImmediate(r));
    stop();
    await warden.run({ agent: 'research', type: 'fs.read', params: { path: '/data/b' } }, () => 1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(heard, ['1:decision', '2:result']);
  });

  test('a denied action never reaches the executor, and the reason is returned', async () => {
    const warden = await make();
    const exec = recordingExecutor('x');
    const r = await warden.run({ agent: 'research', type: 'fs.delete', params: { path: '/data/a' } }, exec);
    assert.equal(r.status, 'denied');
    assert.equal(r.reason?.code, 'permissions.not-granted');
    assert.equal(exec.calls.length, 0);
  });

  test('an executor that throws, synchronously or not, is reported as failed with its message', async () => {
    const warden = await make();
    const action = { agent: 'research', type: 'fs.read', params: { path: '/data/a' } };
    for (const executor of [
      () => {
        throw new Error('ENOENT: no such file');
      },
      async () => {
        throw new Error('ENOENT: no such file');
      },
    ]) {
      const r = await warden.run(action, executor);
      assert.equal(r.status, 'failed');
      assert.equal(r.reason?.code, 'execute.error');
      assert.match(r.reason?.message ?? '', /ENOENT/);
    }
  });

  test('the execution deadline aborts a slow executor', async () => {
    const warden = await make({ ...policy, execution: { timeout: '50ms' } });
    const r = await warden.run(
      { agent: 'research', type: 'fs.read', params: { path: '/data/a' } },
      slowExecutor(),
    );
    assert.equal(r.status, 'timeout');
    assert.equal(r.reason?.code, 'execute.timeout');
  });

  test('killing an agent aborts its in-flight run and denies its next action', async () => {
    const warden = await make();
    const running = warden.run(
      { agent: 'research', type: 'fs.read', params: { path: '/data/a' } },
      slowExecutor(),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    await warden.kills.kill('research', 'oncall@example.com', 'runaway loop');
    const r = await running;
    assert.equal(r.status, 'aborted');
    assert.equal(r.reason?.code, 'killswitch.agent-killed');
    const next = await warden.check({ agent: 'research', type: 'fs.read', params: { path: '/data/a' } });
    assert.equal(next.effect, 'deny');
    assert.equal(next.reasons[0]?.stage, 'killswitch');
    assert.match(next.reasons[0]?.message ?? '', /runaway loop/);
    const kills = await warden.store.audit.query({ type: 'kill' });
    assert.equal(kills[0]?.actor, 'oncall@example.com');
    await warden.kills.revive('research', 'oncall@example.com');
    assert.equal(
      (await warden.check({ agent: 'research', type: 'fs.read', params: { path: '/data/a' } })).effect,
      'allow',
    );
  });

  test('a global stop denies every agent', async () => {
    const warden = await make();
    await warden.kills.kill('*', 'oncall', 'incident');
    const d = await warden.check({ agent: 'admin', type: 'fs.read', params: { path: '/x' } });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'killswitch.all-killed']);
  });
});
