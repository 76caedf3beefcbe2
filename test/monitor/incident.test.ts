import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Action } from '../../src/contract/action.js';
import { monitorOf } from '../../src/monitor/monitor.js';
import { createWarden, type Warden } from '../../src/pipeline/warden.js';
import { policyFromObject } from '../../src/policy/load.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { type LocalHttp, localHttp } from './local-servers.js';

/**
 * The scripted incident: a runaway agent re-runs the same paid LLM call in a loop, writing a file
 * each time, then tries to delete its work. The policy kills it on a cost spike.
 */
describe('a runaway agent in a loop', () => {
  const tmp = tempDir('warden-incident-');
  const work = join(tmp.dir, 'work');
  const db = join(tmp.dir, 'warden.db');
  const policyFile = join(tmp.dir, 'warden.yaml');
  let slack: LocalHttp;
  let store: Store;
  let warden: Warden;
  const written: string[] = [];
  let lastRun: { status: string; code?: string } | undefined;
  let deleteAttempt: { effect: string; code?: string } | undefined;
  const startedAt = new Date(Date.now() - 1000).toISOString();

  before(async () => {
    slack = await localHttp();
    const policy: PolicyInput = {
      agents: {
        runaway: { allow: ['llm.generate', 'fs.write', 'fs.delete'], resources: { paths: [`${work}/**`] } },
      },
      monitoring: {
        enabled: true,
        logs: { destination: join(tmp.dir, 'decisions.log') },
        anomalies: {
          loop: { repeats: 3, window: '1m' },
          costSpike: { factor: 2, window: '1m', minBaselineUsd: 1, response: 'kill' },
        },
        alerts: { sinks: [{ type: 'slack', url: `${slack.url}/hooks/T000/B000/XXX` }] },
      },
    };
    writeFileSync(policyFile, JSON.stringify(policy));
    store = await openSqliteStore(db);
    warden = await createWarden({ policy: policyFromObject(policy), store, killPollMs: 50 });

    const fs = await import('node:fs/promises');
    await fs.mkdir(work, { recursive: true });
    const writeFile = async (action: Action) => {
      await fs.writeFile(action.params.path as string, String(action.params.content));
      written.push(action.params.path as string);
      return { bytes: String(action.params.content).length };
    };
    for (let i = 0; i < 40; i++) {
      const generated = await warden.run(
        {
          agent: 'runaway',
          type: 'llm.generate',
          session: 's1',
          params: { model: 'gpt-x', prompt: 'summarise the page again' },
          cost: { usd: 0.45 },
        },
        () => 'the same summary',
      );
      lastRun = { status: generated.status, ...(generated.reason ? { code: generated.reason.code } : {}) };
      if (generated.status === 'denied') break;
      const wrote = await warden.run(
        {
          agent: 'runaway',
          type: 'fs.write',
          session: 's1',
          params: { path: `${work}/out-${i}.txt`, content: `summary ${i}` },
        },
        writeFile,
      );
      if (wrote.status === 'denied') break;
      // An agent loop: a little work between steps, as a real one has.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const attempt = await warden.run(
      { agent: 'runaway', type: 'fs.delete', session: 's1', params: { path: `${work}/out-0.txt` } },
      async (action) => fs.rm(action.params.path as string),
    );
    deleteAttempt = {
      effect: attempt.decision.effect,
      ...(attempt.reason ? { code: attempt.reason.code } : {}),
    };
    await monitorOf(warden)?.idle();
  });

  after(async () => {
    await warden?.close();
    await store?.close();
    await slack?.close();
    tmp.remove();
  });

  test('a loop alert and a cost-spike alert reach the Slack-format endpoint within seconds', async () => {
    await slack.waitFor(
      (r) => r.some((x) => /loop/.test(x.body)) && r.some((x) => /cost spike/.test(x.body)),
      10_000,
    );
    const texts = slack.received.map((r) => (r.json as { text: string }).text);
    assert.ok(
      texts.some((t) => t.includes('repeated the same `llm.generate` 3 times')),
      texts.join('\n'),
    );
    assert.ok(
      texts.some((t) => /spent \$\d+\.\d\d within 1m, over 2× its baseline of \$1\.00/.test(t)),
      texts.join('\n'),
    );
    for (const r of slack.received) {
      assert.equal(r.path, '/hooks/T000/B000/XXX');
      assert.equal(typeof (r.json as { text?: unknown }).text, 'string');
    }
  });

  test('the policy kills the agent: its next step and its delete are denied by the kill switch', () => {
    const stop = warden.kills.stateOf('runaway');
    assert.ok(stop, 'the agent should be stopped');
    assert.equal(stop.by, 'warden:monitor');
    assert.match(stop.reason, /^anomaly\.cost-spike/);
    assert.equal(lastRun?.status, 'denied');
    assert.equal(lastRun?.code, 'killswitch.agent-killed');
    assert.deepEqual(deleteAttempt, { effect: 'deny', code: 'killswitch.agent-killed' });
    assert.ok(existsSync(`${work}/out-0.txt`), 'the file it tried to delete is still there');
  });

  test('`warden incident report` names the loop as the first anomaly, the total cost and every file written', async () => {
    await warden.audit.flush();
    const res = await runCli([
      'incident',
      'report',
      '--agent',
      'runaway',
      '--since',
      startedAt,
      '--format',
      'json',
      '--db',
      db,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout);
    assert.equal(report.rootCause.firstAnomaly.code, 'anomaly.loop');
    assert.equal(report.rootCause.firstSign.code, 'anomaly.loop');
    const generations = report.timeline.filter(
      (t: { type: string; actionType?: string; status?: string }) =>
        t.type === 'result' && t.actionType === 'llm.generate' && t.status === 'completed',
    ).length;
    assert.ok(generations >= 5, `at least 5 paid calls ran (${generations})`);
    assert.equal(report.cost.totalUsd, Math.round(generations * 0.45 * 1e6) / 1e6);
    assert.deepEqual([...report.damage.filesWritten].sort(), [...written].sort());
    assert.ok(written.length >= 4);
    assert.deepEqual(report.damage.filesDeleted, []);
    const codes = report.anomalies.map((a: { code: string }) => a.code);
    assert.ok(codes.includes('anomaly.cost-spike'));
    assert.ok(
      report.denials.some(
        (d: { actionType: string; code: string }) =>
          d.actionType === 'fs.delete' && d.code === 'killswitch.agent-killed',
      ),
    );
    assert.ok(
      report.interventions.some(
        (i: { type: string; actor?: string }) => i.type === 'kill' && i.actor === 'warden:monitor',
      ),
    );

    const md = await runCli(['incident', 'report', '--agent', 'runaway', '--since', startedAt, '--db', db]);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /\*\*First anomaly\*\*: anomaly\.loop/);
    for (const file of written) assert.ok(md.stdout.includes(file), `markdown names ${file}`);
    assert.match(md.stdout, new RegExp(`Total \\$${(generations * 0.45).toFixed(2)}`));

    const html = await runCli([
      'incident',
      'report',
      '--agent',
      'runaway',
      '--since',
      startedAt,
      '--format',
      'html',
      '--db',
      db,
    ]);
    assert.equal(html.code, 0, html.stderr);
    assert.match(html.stdout, /^<!doctype html>/);
    assert.match(html.stdout, /<b>First anomaly<\/b>: anomaly\.loop/);
    assert.ok(html.stdout.includes('repeated the same `llm.generate`'), 'anomaly messages are in the page');
    assert.doesNotMatch(html.stdout, /<script/);

    // prevent: proposes an ask rule and a rate limit for the looping type and a deny for the attempted delete, as a diff that loads.
    const reportFile = join(tmp.dir, 'report.json');
    writeFileSync(reportFile, res.stdout);
    const prevent = await runCli([
      'incident',
      'prevent',
      '--report',
      reportFile,
      '--policy',
      policyFile,
      '--write',
    ]);
    assert.equal(prevent.code, 0, prevent.stderr);
    assert.match(prevent.stdout, /^\+\+\+ /m);
    assert.match(prevent.stdout, /prevent-loop-runaway-llm-generate/);
    assert.match(prevent.stdout, /prevent-deny-runaway-fs-delete/);
    const check = await runCli(['eval', '--policy', policyFile], {
      input: `${JSON.stringify({ agent: 'runaway', type: 'fs.delete', params: { path: `${work}/x` } })}\n`,
    });
    assert.equal(check.code, 0, check.stderr);
    assert.equal(JSON.parse(check.stdout).effect, 'deny');
    assert.equal(JSON.parse(check.stdout).rule, 'prevent-deny-runaway-fs-delete');
    assert.ok(readFileSync(policyFile, 'utf8').includes('prevent-loop-runaway-llm-generate'));
    // The loop repeated 3 times within 1m: at most 1 `llm.generate` a minute for this agent.
    assert.match(prevent.stdout, /^\+ +"name": "prevent-runaway-llm\.generate",$/m);
    const proposed = JSON.parse(readFileSync(policyFile, 'utf8'));
    assert.deepEqual(proposed.limits.rate, [
      {
        name: 'prevent-runaway-llm.generate',
        scope: ['agent', 'type'],
        match: { agent: 'runaway', type: 'llm.generate' },
        windows: { '1m': 1 },
      },
    ]);
    assert.doesNotMatch(prevent.stderr, /advice: rate-limit/, 'the rate limit is in the diff, not advice');

    const again = await runCli(['incident', 'prevent', '--report', reportFile, '--policy', policyFile]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'no policy change to propose from this report\n');

    // The applied policy, in a fresh Warden (monitoring off so it raises no alerts of its own).
    const fresh = await createWarden({
      policy: policyFromObject({ ...proposed, monitoring: { enabled: false } }),
      store: new MemoryStore(),
    });
    try {
      const generate = {
        agent: 'runaway',
        type: 'llm.generate',
        session: 's2',
        params: { model: 'gpt-x', prompt: 'summarise the page again' },
        cost: { usd: 0.45 },
      };
      assert.equal((await fresh.decide(generate)).decision.effect, 'ask');
      const second = (await fresh.decide(generate)).decision;
      assert.equal(second.effect, 'deny');
      assert.equal(second.reasons[0]?.code, 'limits.rate');
      for (let i = 0; i < 3; i++) {
        const write = await fresh.decide({
          agent: 'runaway',
          type: 'fs.write',
          session: 's2',
          params: { path: `${work}/again-${i}.txt`, content: 'x' },
        });
        assert.equal(write.decision.effect, 'allow', 'its other action types are not limited');
      }
    } finally {
      await fresh.close();
    }
  });

  test('decisions and results were logged as JSON lines with timings', async () => {
    await warden.close();
    const lines = readFileSync(join(tmp.dir, 'decisions.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const decision = lines.find((l) => l.event === 'decision' && l.action.type === 'llm.generate');
    assert.equal(decision.agent, 'runaway');
    assert.equal(decision.session, 's1');
    assert.equal(decision.effect, 'allow');
    assert.ok(decision.timings.totalMs >= 0 && 'permissions' in decision.timings.stages);
    assert.ok(lines.some((l) => l.event === 'result' && l.status === 'completed'));
    assert.ok(lines.some((l) => l.event === 'anomaly' && l.data.code === 'anomaly.loop'));
    assert.ok(lines.some((l) => l.event === 'kill'));
  });
});
