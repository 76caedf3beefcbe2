import type { Action } from '../contract/action.js';
import type { Reason } from '../contract/decision.js';
import { redactSecrets } from '../secrets/redact-secrets.js';
import type { RunControl, StopHook } from './run-control.js';

export interface ExecutionContext {
  /** Aborted on the deadline, on a kill of the agent, or by the caller. Executors must honour it. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds by which the executor must finish. */
  deadline: number;
  /**
   * Calls a listener once the run stops, exactly when `signal` aborts (at once if it already
   * has); returns the function that stops listening. The same as listening on `signal`, which is
   * then never created: a proxy's executor saves an AbortSignal and a listener per call. Given
   * by Warden; an executor called otherwise may find only `signal`.
   */
  onStop?: StopHook;
}

/** Performs an allowed action: one of Warden's safe executors, or the caller's own function. */
export type Executor<T = unknown> = (action: Action, context: ExecutionContext) => T | Promise<T>;

export type Execution<T> =
  | { status: 'completed'; output: T; durationMs: number }
  | { status: 'failed' | 'timeout' | 'aborted'; reason: Reason; durationMs: number };

/**
 * Stage 8: runs the executor with a deadline and an abort signal. The deadline wins even over an
 * executor that ignores its signal: the caller gets `timeout` on time (the executor's late result
 * is discarded).
 */
export function execute<T>(
  executor: Executor<T>,
  action: Action,
  timeoutMs: number,
  controller: RunControl,
): Promise<Execution<T>> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  if (controller.aborted)
    return Promise.resolve({
      status: 'aborted',
      reason: abortReason(controller.signal.reason),
      durationMs: 0,
    });
  let pending: T | Promise<T>;
  try {
    pending = executor(action, contextOf(controller, Date.now() + timeoutMs));
  } catch (error) {
    return Promise.resolve(failed(error, controller, elapsed()));
  }
  // A synchronous executor has already finished: no timer or race to set up.
  if (!isThenable(pending))
    return Promise.resolve({ status: 'completed', output: pending, durationMs: elapsed() });

  // Whichever comes first settles the execution: the executor, the deadline or a stop. One
  // promise, not a race of three: this runs on every call of a proxy's hot path.
  return new Promise<Execution<T>>((resolve) => {
    let settled = false;
    let unlisten: (() => void) | undefined;
    const settle = (execution: Execution<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unlisten?.();
      resolve(execution);
    };
    const timer = setTimeout(() => {
      // Settled before abort(): the stop must not win over the deadline.
      settle({ status: 'timeout', reason: timeoutReason(timeoutMs), durationMs: elapsed() });
      controller.abort(timeoutReason(timeoutMs));
    }, timeoutMs);
    // A stop during the executor's synchronous part is heard at once.
    unlisten = controller.whenStopped(() =>
      settle({ status: 'aborted', reason: abortReason(controller.signal.reason), durationMs: elapsed() }),
    );
    // The executor's late result or failure, once the deadline or a stop won, is discarded.
    Promise.resolve(pending).then(
      (output) => settle({ status: 'completed', output, durationMs: elapsed() }),
      (error: unknown) => settle(failed(error, controller, elapsed())),
    );
  });
}

/** The executor's context; its signal is created when the executor reads it. */
function contextOf(controller: RunControl, deadline: number): ExecutionContext {
  return {
    get signal() {
      return controller.signal;
    },
    deadline,
    onStop: controller.whenStopped,
  };
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function failed<T>(error: unknown, controller: RunControl, durationMs: number): Execution<T> {
  if (controller.aborted) {
    const r = controller.signal.reason as Reason | undefined;
    const status = r?.code === 'execute.timeout' ? 'timeout' : 'aborted';
    return { status, reason: abortReason(controller.signal.reason), durationMs };
  }
  const own = (error as { reason?: unknown } | null)?.reason;
  // An executor's message reaches the agent, the audit and the logs: secrets it quotes are taken out.
  if (isExecutorReason(own))
    return { status: 'failed', reason: { ...own, message: redactSecrets(own.message) }, durationMs };
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  return {
    status: 'failed',
    reason: { code: 'execute.error', stage: 'execute', message: `the executor failed: ${message}` },
    durationMs,
  };
}

/** An executor may throw an error carrying its own stable reason (e.g. `sandbox.limit-unenforceable`). */
function isExecutorReason(value: unknown): value is Reason {
  const r = value as Partial<Reason> | undefined;
  return typeof r?.code === 'string' && r.stage === 'execute' && typeof r.message === 'string';
}

function timeoutReason(ms: number): Reason {
  return {
    code: 'execute.timeout',
    stage: 'execute',
    message: `the action did not finish within ${ms} ms (execution.timeout) and was aborted`,
  };
}

function abortReason(reason: unknown): Reason {
  if (reason && typeof reason === 'object' && 'code' in reason && 'stage' in reason) return reason as Reason;
  return { code: 'execute.aborted', stage: 'execute', message: `the action was aborted: ${String(reason)}` };
}
