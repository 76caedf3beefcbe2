import type { Action } from '../contract/action.js';
import { AUDIT_VIEW } from '../contract/records.js';
import {
  type Sandbox,
  SandboxError,
  type SandboxResult,
  type SandboxRun,
  type SandboxRunListener,
  sandboxOutcome,
} from '../sandbox/sandbox.js';
import type { ExecutionContext } from './execute.js';

/**
 * `shell.exec`: `command` runs as `/bin/sh -c command`, `argv` as given; optional `stdin` text.
 * `onRun` hears how each run ended, also one the sandbox refused or could not start.
 */
export function shellExecutor(sandbox: Sandbox, onRun?: SandboxRunListener) {
  return async function shellExec(action: Action, context: ExecutionContext): Promise<SandboxResult> {
    const p = action.params as { command?: string; argv?: string[]; stdin?: unknown };
    const argv = p.argv ?? ['/bin/sh', '-c', p.command ?? ''];
    const result = await reported(sandbox, onRun, () =>
      sandbox.run({
        argv,
        ...(typeof p.stdin === 'string' ? { stdin: p.stdin } : {}),
        signal: context.signal,
        deadline: context.deadline,
      }),
    );
    return withAuditView(result);
  };
}

/**
 * `code.exec`: the code goes to the interpreter on stdin (`python3 -`, `node -`), never in argv.
 * `onRun` as for {@link shellExecutor}.
 */
export function codeExecutor(
  sandbox: Sandbox & { interpreter?(language: 'python' | 'javascript'): string },
  onRun?: SandboxRunListener,
) {
  return async function codeExec(action: Action, context: ExecutionContext): Promise<SandboxResult> {
    const p = action.params as { language: 'python' | 'javascript'; code: string };
    const result = await reported(sandbox, onRun, () => {
      const interpreter = sandbox.interpreter?.(p.language) ?? (p.language === 'python' ? 'python3' : 'node');
      return sandbox.run({
        argv: [interpreter, '-'],
        stdin: p.code,
        signal: context.signal,
        deadline: context.deadline,
      });
    });
    return withAuditView(result);
  };
}

/** Runs `start` and tells `onRun` how the run ended, whether it returned a result or threw. */
async function reported(
  sandbox: Sandbox,
  onRun: SandboxRunListener | undefined,
  start: () => Promise<SandboxResult>,
): Promise<SandboxResult> {
  if (!onRun) return start();
  let result: SandboxResult;
  try {
    result = await start();
  } catch (error) {
    // Aborted before it started (kill switch, deadline) is the caller's stop, not a sandbox failure.
    const aborted = error instanceof SandboxError && error.code === 'execute.aborted';
    tell(onRun, { backend: sandbox.info.backend, outcome: aborted ? 'aborted' : 'error', violations: [] });
    throw error;
  }
  tell(onRun, { backend: result.backend, outcome: sandboxOutcome(result), violations: result.violations });
  return result;
}

/** A listener that throws must not turn a finished run into a failed action. */
function tell(onRun: SandboxRunListener, run: SandboxRun): void {
  try {
    onRun(run);
  } catch (error) {
    process.stderr.write(
      `${JSON.stringify({ level: 'error', msg: 'sandbox run listener threw; ignored', error: String(error) })}\n`,
    );
  }
}

const AUDITED_STREAM_CHARS = 1024;

/** The audit record keeps every field but only the first KiB of each stream. */
export function withAuditView(result: SandboxResult): SandboxResult {
  Object.defineProperty(result, AUDIT_VIEW, {
    enumerable: false,
    value: () => ({
      ...result,
      stdout: { ...result.stdout, text: result.stdout.text.slice(0, AUDITED_STREAM_CHARS) },
      stderr: { ...result.stderr, text: result.stderr.text.slice(0, AUDITED_STREAM_CHARS) },
    }),
  });
  return result;
}
