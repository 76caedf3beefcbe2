import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Action } from '../../contract/action.js';
import { codeExecutor, shellExecutor } from '../../execute/sandbox-executors.js';
import { type Sandbox, SandboxError, type SandboxResult, type SandboxRun } from '../../sandbox/sandbox.js';

// How Warden's sandboxed executors report each run to their listener (the monitor's metrics).
// Real runs are covered by test/monitor/sandbox-metrics.integration.test.ts; these are the cases
// bubblewrap does not produce on demand.

const context = { signal: new AbortController().signal, deadline: Date.now() + 60_000 };
const shellAction = { type: 'shell.exec', params: { command: 'true' } } as unknown as Action;

function result(over: Partial<SandboxResult>): SandboxResult {
  const stream = { text: '', bytes: 0, truncated: false };
  return {
    backend: 'docker',
    exitCode: 0,
    signal: null,
    stdout: stream,
    stderr: stream,
    durationMs: 1,
    peakMemoryBytes: null,
    cpuMs: null,
    violations: [],
    enforced: {},
    unenforced: [],
    aborted: false,
    ...over,
  };
}

function stub(run: () => Promise<SandboxResult>): Sandbox {
  return {
    info: { backend: 'docker', summary: 'stub', enforced: {}, unenforceable: [] },
    run,
    close: async () => undefined,
  };
}

test('each outcome is reported: ok, failed, limit, aborted', async () => {
  const cases: Array<[Partial<SandboxResult>, SandboxRun]> = [
    [{}, { backend: 'docker', outcome: 'ok', violations: [] }],
    [{ exitCode: 2 }, { backend: 'docker', outcome: 'failed', violations: [] }],
    [
      { exitCode: null, signal: 'SIGKILL', violations: ['memory', 'pids'] },
      { backend: 'docker', outcome: 'limit', violations: ['memory', 'pids'] },
    ],
    [
      { exitCode: null, signal: 'SIGKILL', aborted: true },
      { backend: 'docker', outcome: 'aborted', violations: [] },
    ],
  ];
  for (const [over, expected] of cases) {
    const heard: SandboxRun[] = [];
    await shellExecutor(
      stub(async () => result(over)),
      (run) => heard.push(run),
    )(shellAction, context);
    assert.deepEqual(heard, [expected]);
  }
});

test('a run the sandbox could not start is reported as error, and the error still reaches the caller', async () => {
  const heard: SandboxRun[] = [];
  const failing = stub(async () => {
    throw new SandboxError('sandbox.error', 'the sandbox could not start the command: boom');
  });
  await assert.rejects(
    shellExecutor(failing, (run) => heard.push(run))(shellAction, context),
    /could not start/,
  );
  assert.deepEqual(heard, [{ backend: 'docker', outcome: 'error', violations: [] }]);
});

test('a code.exec whose interpreter is missing is reported as error', async () => {
  const heard: SandboxRun[] = [];
  const sandbox = Object.assign(
    stub(async () => result({})),
    {
      interpreter(): string {
        throw new SandboxError('sandbox.unavailable', 'python3 is not installed on this host');
      },
    },
  );
  const action = { type: 'code.exec', params: { language: 'python', code: '1' } } as unknown as Action;
  await assert.rejects(codeExecutor(sandbox, (run) => heard.push(run))(action, context), /python3/);
  assert.deepEqual(heard, [{ backend: 'docker', outcome: 'error', violations: [] }]);
});

test('a run aborted before it started is reported as aborted, not error', async () => {
  const heard: SandboxRun[] = [];
  const aborted = stub(async () => {
    throw new SandboxError('execute.aborted', 'the run was aborted before it started');
  });
  await assert.rejects(shellExecutor(aborted, (run) => heard.push(run))(shellAction, context));
  assert.deepEqual(heard, [{ backend: 'docker', outcome: 'aborted', violations: [] }]);
});

test('a listener that throws does not fail the run', async (t) => {
  const write = t.mock.method(process.stderr, 'write', () => true);
  const r = await shellExecutor(
    stub(async () => result({ stdout: { text: 'hi\n', bytes: 3, truncated: false } })),
    () => {
      throw new Error('listener bug');
    },
  )(shellAction, context);
  write.mock.restore();
  assert.equal(r.stdout.text, 'hi\n');
  assert.match(String(write.mock.calls[0]?.arguments[0]), /sandbox run listener threw; ignored/);
});
