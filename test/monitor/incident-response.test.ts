import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { limitsView } from '../../src/limits/usage.js';
import { monitorOf } from '../../src/monitor/monitor.js';
import { createWarden, type Warden } from '../../src/pipeline/warden.js';
import { policyFromObject } from '../../src/policy/load.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { testWarden } from '../../src/testing/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

const policy: PolicyInput = {
  agents: {
    coder: { allow: ['fs.read', 'fs.write', 'llm.generate'], resources: { paths: ['/repo/**'] } },
    other: { allow: ['fs.read'], resources: { paths: ['/repo/**'] } },
  },
};
const read = (agent = 'coder') => ({ agent, type: 'fs.read', params: { path: '/repo/a.ts' } });

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('revoking grants', () => {
  test('a revoked agent is denied everything with `permissions.revoked`, others are not; restore gives it back; both are audited', async () => {
    const warden = await testWarden(policy);
    cleanups.push(() => warden.close());
    assert.equal((await warden.check(read())).effect, 'allow');
    assert.equal(await warden.overrides.change('coder', 'revoke', 'ops', 'leaked a key'), true);
    const denied = await warden.check(read());
    assert.equal(denied.effect, 'deny');
    assert.equal(denied.reasons[0]?.code, 'permissions.revoked');
    assert.match(
      denied.reasons[0]?.message ?? '',
      /revoked by ops .*: leaked a key; .*warden incident restore --agent coder/,
    );
    assert.equal((await warden.check(read('other'))).effect, 'allow');
    assert.equal(
      await warden.overrides.change('coder', 'revoke', 'ops'),
      false,
      'revoking twice changes nothing',
    );
    assert.equal(await warden.overrides.change('coder', 'restore', 'ops', 'rotated'), true);
    assert.equal((await warden.check(read())).effect, 'allow');
    await warden.audit.flush();
    const records = await warden.store.audit.query({ type: 'override' });
    assert.deepEqual(
      records.map((r) => [r.agent, r.actor, r.data.change, r.data.reason]),
      [
        ['coder', 'ops', 'revoke', 'leaked a key'],
        ['coder', 'ops', 'restore', 'rotated'],
      ],
    );
  });

  test('`approve-all` turns allow into ask for that agent; a deny stays a deny', async () => {
    const warden = await testWarden(policy);
    cleanups.push(() => warden.close());
    await warden.overrides.change('coder', 'approve-all', 'ops', 'under investigation');
    const asked = await warden.check(read());
    assert.equal(asked.effect, 'ask');
    assert.equal(asked.reasons[0]?.code, 'rules.approval-override');
    assert.deepEqual(asked.approvals, { required: 1, roles: ['approver', 'admin'] });
    const outside = await warden.check({ agent: 'coder', type: 'fs.read', params: { path: '/etc/passwd' } });
    assert.equal(outside.effect, 'deny');
  });

  test('`warden incident revoke` reaches a running Warden on the same store, survives its restart, and `restore` lifts it', async () => {
    const tmp = tempDir('warden-revoke-');
    cleanups.push(() => tmp.remove());
    const db = join(tmp.dir, 'warden.db');
    let store = await openSqliteStore(db);
    let warden: Warden = await createWarden({ policy: policyFromObject(policy), store, killPollMs: 50 });
    const revoked = await runCli([
      'incident',
      'revoke',
      '--agent',
      'coder',
      '--reason',
      'drill',
      '--by',
      'alice',
      '--db',
      db,
    ]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked the grants of agent coder/);
    const started = Date.now();
    while ((await warden.check(read())).effect !== 'deny') {
      assert.ok(Date.now() - started < 5000, 'the revocation reached the running Warden');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await warden.close();
    await store.close();

    store = await openSqliteStore(db);
    warden = await createWarden({ policy: policyFromObject(policy), store, killPollMs: 50 });
    cleanups.push(async () => {
      await warden.close();
      await store.close();
    });
    assert.equal(
      (await warden.check(read())).reasons[0]?.code,
      'permissions.revoked',
      'still revoked after a restart',
    );
    const restored = await runCli(['incident', 'restore', '--agent', 'coder', '--db', db, '--json']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(JSON.parse(restored.stdout), {
      agent: 'coder',
      restored: true,
      cleared: false,
      limitsRestored: false,
    });
    const again = Date.now();
    while ((await warden.check(read())).effect !== 'allow') {
      assert.ok(Date.now() - again < 5000, 'the restore reached the running Warden');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const nothing = await runCli(['incident', 'restore', '--agent', 'coder', '--db', db]);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /has no revocation, approval override or tightened rate limits/);
  });
});

describe('automatic responses to anomalies', () => {
  const looping = (response: string): PolicyInput => ({
    ...policy,
    monitoring: {
      enabled: true,
      logs: { enabled: false },
      anomalies: { loop: { repeats: 2, response: response as 'kill' } },
    },
  });
  const step = { agent: 'coder', type: 'llm.generate', params: { model: 'm', prompt: 'same' } };

  test('`approve-all`: after a loop every action of the agent waits for a human', async () => {
    const warden = await testWarden(looping('approve-all'));
    cleanups.push(() => warden.close());
    await warden.run(step, () => 'x');
    await warden.run(step, () => 'x');
    await monitorOf(warden)?.idle();
    const next = await warden.check(read());
    assert.equal(next.effect, 'ask');
    assert.equal(next.reasons[0]?.code, 'rules.approval-override');
    assert.match(next.reasons[0]?.message ?? '', /warden:monitor: anomaly\.loop/);
  });
});

describe('`tighten-limits`: an anomaly tightens the agent’s rate limits until an operator clears them', {
  timeout: 60_000,
}, () => {
  // 8 a minute per agent; tightened ÷4 → 2. A loop is 3 identical calls.
  const tightening = (limits: PolicyInput['limits'] = { rate: [{ windows: { '1m': 8 } }] }): PolicyInput => ({
    ...policy,
    limits,
    monitoring: {
      enabled: true,
      logs: { enabled: false },
      anomalies: { loop: { repeats: 3, response: 'tighten-limits' } },
    },
  });
  const step = { agent: 'coder', type: 'llm.generate', params: { model: 'm', prompt: 'same' } };
  // Different files each time: the other agent does not loop.
  const readOther = (i: number) => ({ agent: 'other', type: 'fs.read', params: { path: `/repo/${i}.ts` } });
  const loop = async (warden: Warden) => {
    for (let i = 0; i < 3; i++) assert.equal((await warden.run(step, () => 'x')).status, 'completed');
    await monitorOf(warden)?.idle();
  };

  test('an action that fitted the rate limit before the loop is denied with `limits.rate` after it; another agent keeps its limit; clearing gives it back', async () => {
    const warden = await testWarden(tightening());
    cleanups.push(() => warden.close());
    for (let i = 0; i < 3; i++) assert.equal((await warden.run(readOther(i), () => 'b')).status, 'completed');
    await warden.run(step, () => 'x');
    await warden.run(step, () => 'x');
    assert.equal((await warden.check(read())).effect, 'allow', '2 of 8 used: it fits');
    await warden.run(step, () => 'x');
    await monitorOf(warden)?.idle();

    const denied = await warden.check(read());
    assert.equal(denied.effect, 'deny');
    assert.equal(denied.reasons[0]?.code, 'limits.rate');
    assert.equal(denied.reasons[0]?.limit?.limit, 2);
    assert.match(
      denied.reasons[0]?.message ?? '',
      /at most 2 actions per 1m for agent `coder` \(tightened from 8, ÷4\): the rate limits of agent `coder` were tightened after an anomaly \(anomaly\.loop: .*\) at .*; an operator lifts this with `warden incident restore --agent coder`; retry in/,
    );
    assert.equal((await warden.run(read(), () => 'a')).reason?.code, 'limits.rate', 'run() is held too');
    assert.equal(warden.overrides.approvalRequired('coder'), undefined, 'no fallback to approve-all');
    assert.equal((await warden.run(readOther(3), () => 'b')).status, 'completed', 'other: 4 of 8');

    await warden.audit.flush();
    const [record] = await warden.store.audit.query({ type: 'override' });
    assert.deepEqual(
      [record?.agent, record?.actor, record?.data.change, record?.data.anomaly],
      ['coder', 'warden:monitor', 'tighten', 'anomaly.loop'],
    );
    const view = await limitsView(warden.limiters, 'coder');
    assert.equal(view.agents[0]?.limits[0]?.limit, 2, '`GET /v1/limits` shows the limit in force');

    assert.equal(await warden.overrides.change('coder', 'clear-tighten', 'ops', 'loop fixed'), true);
    assert.equal((await warden.check(read())).effect, 'allow', 'back to 8 a minute: 3 used');
  });

  test('an agent no rate rule counts gets the emergency limit; with none and nothing to tighten, it falls back to approve-all', async () => {
    const warden = await testWarden(tightening({ tighten: { emergency: { '1m': 2 } } }));
    cleanups.push(() => warden.close());
    await loop(warden);
    assert.ok(warden.overrides.tightened('coder'), 'tightened, not put under approve-all');
    assert.equal((await warden.run(read(), () => 'a')).status, 'completed');
    assert.equal((await warden.run(read(), () => 'a')).status, 'completed');
    const denied = await warden.run(read(), () => 'a');
    assert.equal(denied.reason?.code, 'limits.rate');
    assert.match(
      denied.reason?.message ?? '',
      /^emergency rate limit reached: at most 2 actions per 1m for agent `coder`/,
    );
    for (let i = 0; i < 3; i++) assert.equal((await warden.run(readOther(i), () => 'b')).status, 'completed');

    const fallback = await testWarden(tightening({ tighten: { emergency: false } }));
    cleanups.push(() => fallback.close());
    const seen: string[] = [];
    monitorOf(fallback)?.onTighten((agent) => {
      seen.push(agent);
      return false;
    });
    await loop(fallback);
    assert.deepEqual(seen, ['coder'], 'a registered tightener is still asked');
    assert.equal(fallback.overrides.tightened('coder'), undefined);
    assert.match(
      fallback.overrides.approvalRequired('coder')?.reason ?? '',
      /^anomaly\.loop: .*\(tighten-limits: no rate limit to tighten for this agent\)$/,
    );
  });

  test('the tightening reaches a Warden restarted on the same SQLite file; `warden incident restore` lifts it in the running one', async () => {
    const tmp = tempDir('warden-tighten-');
    cleanups.push(() => tmp.remove());
    const db = join(tmp.dir, 'warden.db');
    let running: { store: Awaited<ReturnType<typeof openSqliteStore>>; warden: Warden } | undefined;
    const start = async () => {
      const store = await openSqliteStore(db);
      running = {
        store,
        warden: await createWarden({ policy: policyFromObject(tightening()), store, killPollMs: 50 }),
      };
      return running.warden;
    };
    const stop = async () => {
      const open = running;
      running = undefined;
      await open?.warden.close();
      await open?.store.close();
    };
    cleanups.push(stop); // also when an assertion fails half-way
    let warden = await start();
    await loop(warden);
    assert.equal((await warden.check(read())).reasons[0]?.code, 'limits.rate');
    await stop();

    warden = await start();
    const after = await warden.check(read());
    assert.equal(after.reasons[0]?.code, 'limits.rate', 'still tightened after a restart');
    assert.match(after.reasons[0]?.message ?? '', /tightened from 8, ÷4/);

    const restored = await runCli(['incident', 'restore', '--agent', 'coder', '--db', db, '--json']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(JSON.parse(restored.stdout), {
      agent: 'coder',
      restored: false,
      cleared: false,
      limitsRestored: true,
    });
    const started = Date.now();
    while ((await warden.check(read())).effect !== 'allow') {
      assert.ok(Date.now() - started < 5000, 'the restore reached the running Warden');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });
});

describe('preserving evidence', () => {
  test('`incident preserve` exports the agent’s records with the chain proof; `audit verify-export` checks it and catches tampering', async () => {
    const tmp = tempDir('warden-evidence-');
    cleanups.push(() => tmp.remove());
    const db = join(tmp.dir, 'warden.db');
    const store = await openSqliteStore(db);
    const warden = await createWarden({ policy: policyFromObject(policy), store });
    for (let i = 0; i < 5; i++) {
      await warden.run(read('coder'), () => 'a');
      await warden.run(read('other'), () => 'b');
    }
    await warden.kills.kill('coder', 'ops', 'incident 7');
    await warden.close();
    await store.close();

    const out = join(tmp.dir, 'evidence.json');
    const preserved = await runCli(['incident', 'preserve', '--agent', 'coder', '--out', out, '--db', db]);
    assert.equal(preserved.code, 0, preserved.stderr);
    assert.match(preserved.stdout, /preserved 11 records of agent coder .* chain verified/);
    const evidence = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(evidence.records.length, 11);
    assert.ok(
      evidence.records.every(
        (r: { agent: string; prev: string }) => r.agent === 'coder' && r.prev.length === 64,
      ),
    );

    const ok = await runCli(['audit', 'verify-export', out, '--db', db]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^ok: 11 records verify and match the store/);

    const victim = evidence.records.find((r: { type: string }) => r.type === 'decision');
    victim.data.decision.effect = 'deny';
    const tampered = join(tmp.dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(evidence));
    const bad = await runCli(['audit', 'verify-export', tampered]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, new RegExp(`TAMPERED: record ${victim.seq}: hash-mismatch`));
  });
});

describe('structured logs', () => {
  test('decision lines carry the action, decision, reasons and timings, with secrets redacted', async () => {
    const tmp = tempDir('warden-logs-');
    cleanups.push(() => tmp.remove());
    const file = join(tmp.dir, 'logs', 'warden.log');
    const warden = await testWarden({
      agents: { api: { allow: ['http.request'], resources: { hosts: ['api.example.com'] } } },
      monitoring: { enabled: true, logs: { destination: file } },
    });
    const decision = await warden.check({
      agent: 'api',
      type: 'http.request',
      user: 'u-1',
      params: {
        url: 'https://api.example.com/v1/x?api_key=s3cr3tvalue',
        headers: { authorization: 'Bearer abcdefghijklmnop', 'x-trace': 'keep-me' },
        body: { password: 'hunter2', note: 'key sk-abcdefghijklmnopqrstuv' },
      },
    });
    await warden.close();
    const text = readFileSync(file, 'utf8');
    for (const secret of ['s3cr3tvalue', 'abcdefghijklmnop', 'hunter2', 'sk-abcdefghijklmnopqrstuv']) {
      assert.ok(!text.includes(secret), `the log must not contain ${secret}`);
    }
    const line = JSON.parse(text.trim().split('\n')[0] as string);
    assert.equal(line.event, 'decision');
    assert.equal(line.mode, 'check');
    assert.equal(line.agent, 'api');
    assert.equal(line.user, 'u-1');
    assert.equal(line.action.type, 'http.request');
    assert.equal(line.action.params.headers['x-trace'], 'keep-me');
    // The HTTP guard refuses a key in the URL; the line says so, without the key.
    assert.equal(line.effect, decision.effect);
    assert.ok(Array.isArray(line.reasons) && line.reasons.length > 0);
    assert.equal(typeof line.timings.stages.permissions, 'number');
  });

  test('an unwritable log destination fails at start with a message naming the field', async () => {
    await assert.rejects(
      testWarden({
        ...policy,
        monitoring: { enabled: true, logs: { destination: '/etc/passwd/warden.log' } },
      }),
      /monitoring\.logs\.destination: cannot open `\/etc\/passwd\/warden\.log` for appending/,
    );
  });
});
