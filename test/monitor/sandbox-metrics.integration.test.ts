import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { monitorOf } from '../../src/monitor/monitor.js';
import type { Warden } from '../../src/pipeline/warden.js';
import type { SandboxResult } from '../../src/sandbox/sandbox.js';
import { testWarden } from '../../src/testing/index.js';
import { TEST_LIMITS } from '../sandbox/helpers.js';

// The sandbox counters of /metrics, fed by real bubblewrap runs through the whole pipeline.

let warden: Warden | undefined;
after(async () => {
  await warden?.close();
});

/** The samples of counter `name` in the registry's Prometheus text, as `label=value,…` → value. */
async function counter(w: Warden, name: string): Promise<Record<string, number>> {
  const text = await monitorOf(w)?.metrics?.text();
  assert.ok(text, 'monitoring with metrics is on');
  const family = parsePrometheusTextFormat(text).find((f) => f.name === name);
  assert.ok(family, `metric ${name} is exposed`);
  assert.equal(family.type, 'COUNTER');
  const out: Record<string, number> = {};
  for (const m of family.metrics) {
    const key = Object.entries(m.labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
    out[key] = Number(m.value);
  }
  return out;
}

test('/metrics counts sandboxed runs by backend and outcome, and the limits they hit by kind', async () => {
  warden = await testWarden({
    agents: { coder: { allow: ['shell.exec'] } },
    shell: { commands: { echo: true, ls: true, yes: true, sleep: true } },
    rules: [{ id: 'sandboxed-ok', effect: 'allow', match: { type: 'shell.exec' } }],
    sandbox: { limits: { ...TEST_LIMITS, timeout: '1s' } },
    monitoring: { enabled: true, logs: { enabled: false } },
  });
  const w = warden;
  const shell = (command: string) =>
    w.run<SandboxResult>({ agent: 'coder', type: 'shell.exec', params: { command } });

  const ok = await shell('echo hi');
  assert.equal(ok.output?.exitCode, 0);
  const failed = await shell('ls /no-such-dir');
  assert.notEqual(failed.output?.exitCode, 0);
  const flood = await shell('yes');
  assert.deepEqual(flood.output?.violations, ['output-cap']);
  const slow = await shell('sleep 5');
  assert.deepEqual(slow.output?.violations, ['timeout']);

  assert.deepEqual(await counter(w, 'warden_sandbox_runs_total'), {
    'backend=bwrap,outcome=ok': 1,
    'backend=bwrap,outcome=failed': 1,
    'backend=bwrap,outcome=limit': 2,
  });
  assert.deepEqual(await counter(w, 'warden_sandbox_violations_total'), {
    'backend=bwrap,kind=output-cap': 1,
    'backend=bwrap,kind=timeout': 1,
  });

  // The kill switch: run() returns at the abort, the run's result once its tree is gone; the
  // counter hears the run then.
  const running = shell('sleep 30');
  await new Promise((resolve) => setTimeout(resolve, 200));
  await w.kills.kill('coder', 'test', 'stop');
  assert.equal((await running).status, 'aborted');
  const until = Date.now() + 5000;
  let runs = await counter(w, 'warden_sandbox_runs_total');
  while (runs['backend=bwrap,outcome=aborted'] === undefined && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    runs = await counter(w, 'warden_sandbox_runs_total');
  }
  assert.equal(runs['backend=bwrap,outcome=aborted'], 1);
  assert.equal(runs['backend=bwrap,outcome=limit'], 2);
});
