import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Warden } from '../../src/pipeline/warden.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { SandboxPolicySchema } from '../../src/policy/sections/sandbox.js';
import { probeBwrapHost } from '../../src/sandbox/bwrap-host.js';
import { BwrapSandbox } from '../../src/sandbox/bwrap-sandbox.js';
import type { SandboxResult } from '../../src/sandbox/sandbox.js';
import type { AuditRecord } from '../../src/store/store.js';
import { testWarden } from '../../src/testing/index.js';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers/cli.js';
import { leftAfter, TEST_LIMITS } from './helpers.js';

// shell.exec and code.exec through the whole pipeline: decided, executed in the real sandbox,
// and recorded with their limits and violations.

// The shell guard runs first: these are the commands the tests run (the kill test's `sh -c` is
// inline code, which needs the explicit `allowCode`).
const SHELL: PolicyInput['shell'] = {
  commands: { echo: true, id: true, yes: true, sleep: true, ls: true, sh: { allowCode: true } },
};

const wardens: Warden[] = [];
after(async () => {
  for (const w of wardens) await w.close();
});

async function coder(extra: Record<string, unknown> = {}) {
  const warden = await testWarden({
    agents: { coder: { allow: ['shell.exec', 'code.exec'] } },
    shell: SHELL,
    rules: [{ id: 'sandboxed-ok', effect: 'allow', match: { type: ['shell.exec', 'code.exec'] } }],
    sandbox: { limits: { ...TEST_LIMITS }, ...extra },
  });
  wardens.push(warden);
  const records: AuditRecord[] = [];
  warden.audit.onRecord((r) => records.push(r));
  return { warden, records };
}

describe('shell.exec and code.exec in the pipeline', () => {
  test('an allowed shell.exec runs in the sandbox and its result reaches the agent', async () => {
    const { warden } = await coder();
    const r = await warden.run<SandboxResult>({
      agent: 'coder',
      type: 'shell.exec',
      params: { command: 'echo hi; id -u' },
    });
    assert.equal(r.status, 'completed');
    assert.equal(r.output?.stdout.text, 'hi\n65534\n');
    assert.equal(r.output?.exitCode, 0);
    assert.equal(r.output?.backend, 'bwrap');
    const argv = await warden.run<SandboxResult>({
      agent: 'coder',
      type: 'shell.exec',
      params: { argv: ['printf', '%s|', 'a b', '$HOME'] },
    });
    assert.equal(argv.output?.stdout.text, 'a b|$HOME|');
  });

  test('code.exec runs python and javascript, with the code on stdin rather than argv', async () => {
    const { warden } = await coder();
    const py = await warden.run<SandboxResult>({
      agent: 'coder',
      type: 'code.exec',
      params: { language: 'python', code: 'import sys\nprint(sum(range(10)), sys.argv)' },
    });
    assert.equal(py.output?.stdout.text, "45 ['-']\n");
    const js = await warden.run<SandboxResult>({
      agent: 'coder',
      type: 'code.exec',
      params: { language: 'javascript', code: 'console.log(6 * 7, process.getuid(), typeof require)' },
    });
    assert.equal(js.output?.stdout.text, '42 65534 function\n');
  });

  test('violations reach the agent and the audit record; the record keeps only a prefix of a flood', async () => {
    const { warden, records } = await coder();
    const r = await warden.run<SandboxResult>({
      agent: 'coder',
      type: 'shell.exec',
      params: { command: 'yes' },
    });
    assert.deepEqual(r.output?.violations, ['output-cap']);
    assert.match(r.output?.stderr.text ?? '', /\[warden sandbox\] output passed/);
    await warden.audit.flush();
    const result = records.find((rec) => rec.type === 'result' && rec.actionId === r.decision.id);
    assert.ok(result, 'a result record');
    const output = (result.data as { output?: unknown }).output as SandboxResult;
    assert.deepEqual(output.violations, ['output-cap']);
    assert.equal(output.stdout.truncated, true);
    assert.equal(output.stdout.bytes >= 64 * 1024, true);
    assert.equal(output.stdout.text.length, 1024);
    assert.equal(typeof output.enforced.memory, 'string');
  });

  test('the kill switch stops a running command: the whole tree is killed', async () => {
    const { warden } = await coder();
    const marker = `killed${process.pid}x${Date.now()}`;
    const running = warden.run<SandboxResult>({
      agent: 'coder',
      type: 'shell.exec',
      params: { command: `sh -c 'm=${marker}; sleep 30' & sh -c 'm=${marker}; sleep 30'` },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await warden.kills.kill('coder', 'test', 'stop');
    const r = await running;
    assert.equal(r.status, 'aborted');
    assert.equal(r.reason?.code, 'killswitch.agent-killed');
    // run() returns at the abort; the kill is already sent and the tree dies within moments.
    assert.deepEqual(await leftAfter(marker), []);
  });

  test('the pipeline deadline ends a run before the sandbox timeout', async () => {
    const warden = await testWarden({
      agents: { coder: { allow: ['shell.exec'] } },
      shell: SHELL,
      rules: [{ id: 'ok', effect: 'allow', match: { type: 'shell.exec' } }],
      execution: { timeout: '500ms' },
      sandbox: { limits: { ...TEST_LIMITS, timeout: '20s' } },
    });
    wardens.push(warden);
    const started = Date.now();
    const r = await warden.run({ agent: 'coder', type: 'shell.exec', params: { command: 'sleep 30' } });
    assert.equal(r.status, 'timeout', JSON.stringify(r));
    assert.ok(Date.now() - started < 5000);
  });

  test('with sandbox.backend none, commands are denied for lack of a sandbox', async () => {
    const warden = await testWarden({
      agents: { coder: { allow: ['shell.exec'] } },
      shell: SHELL,
      rules: [{ id: 'ok', effect: 'allow', match: { type: 'shell.exec' } }],
      sandbox: { backend: 'none' },
    });
    wardens.push(warden);
    const d = await warden.check({ agent: 'coder', type: 'shell.exec', params: { command: 'ls' } });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'sandbox.unavailable']);
  });
});

describe('limits the host cannot enforce', () => {
  const { host } = probeBwrapHost();
  if (!host)
    throw new Error(
      'bubblewrap is missing: install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`)',
    );
  const noCgroups = { ...host, cgroups: undefined };

  test('are refused with sandbox.limit-unenforceable, never run weaker', async () => {
    const box = new BwrapSandbox(SandboxPolicySchema.parse({ limits: TEST_LIMITS }), noCgroups);
    try {
      assert.deepEqual(box.info.unenforceable, ['memory', 'cpu', 'pids']);
      await assert.rejects(box.run({ argv: ['/bin/true'] }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'sandbox.limit-unenforceable');
        assert.match(error.message, /`memory`, `cpu`, `pids`/);
        return true;
      });
    } finally {
      await box.close();
    }
  });

  test('with unenforceable: report, the run goes ahead and each result lists what was not enforced', async () => {
    const box = new BwrapSandbox(
      SandboxPolicySchema.parse({ limits: TEST_LIMITS, unenforceable: 'report' }),
      noCgroups,
    );
    try {
      const r = await box.run({ argv: ['/bin/true'] });
      assert.equal(r.exitCode, 0);
      assert.deepEqual(r.unenforced, ['memory', 'cpu', 'pids']);
      assert.equal(r.peakMemoryBytes, null);
    } finally {
      await box.close();
    }
  });
});

test('warden serve names the sandbox backend it chose at start', async () => {
  const tmp = tempDir('warden-serve-sandbox-');
  const child = spawnCli([
    'serve',
    '--policy',
    'examples/coding-agent.yaml',
    '--port',
    '0',
    '--db',
    join(tmp.dir, 'warden.db'),
    '--tokens',
    join(tmp.dir, 'tokens.json'),
  ]);
  try {
    const [line] = await waitForLine(child, /^sandbox: .*$/m);
    assert.match(
      line,
      /^sandbox: bwrap [\d.]+, cgroup v[12] \(memory, cpu, pids\), seccomp, uid 65534, no network$/,
    );
  } finally {
    child.kill('SIGKILL');
    tmp.remove();
  }
});

describe('warden run', () => {
  test('runs a command in the sandbox and exits with its status', async () => {
    const r = await runCli(['run', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.code, 7);
  });

  test('--json reports the backend it chose and the structured result', async () => {
    const r = await runCli(['run', '--json', '--', 'python3', '-c', 'print(1+1)']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      sandbox: { backend: string; summary: string };
      result: SandboxResult;
    };
    assert.equal(out.sandbox.backend, 'bwrap');
    assert.match(out.sandbox.summary, /^bwrap .*cgroup/);
    assert.equal(out.result.stdout.text, '2\n');
    assert.ok((out.result.peakMemoryBytes ?? 0) > 0);
  });

  test('an invalid sandbox section is an error naming the field', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'warden-run-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'sandbox:\n  limits:\n    memory: lots\n');
    const r = await runCli(['run', '--policy', file, '--', 'true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml:3:\d+: sandbox\.limits\.memory: .*512MiB/);
  });
});
