import type { Action } from '../action/action.js';
import type { Reason } from '../decision/decision.js';

export interface ExecutionContext {
  /** Aborted on the deadline, on a kill of the agent, or by the caller. Executors must honour it. */
  signal: AbortSignal;
  /** Epoch milliseconds by which the executor must finish. */
  deadline: number;
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
export async function execute<T>(
  executor: Executor<T>,
  action: Action,
  timeoutMs: number,
  controller: AbortController,
): Promise<Execution<T>> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  const elapsed = () => performance.now() - started;
  let timer: NodeJS.Timeout | undefined;
  const stopped = new Promise<'timeout' | 'aborted'>((resolve) => {
    timer = setTimeout(() => {
      resolve('timeout'); // before abort(): the abort listener must not win the race
      controller.abort(timeoutReason(timeoutMs));
    }, timeoutMs);
    if (controller.signal.aborted) resolve('aborted');
    else controller.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  try {
    const work = Promise.resolve().then(() => executor(action, { signal: controller.signal, deadline }));
    const outcome = await Promise.race([work.then((output) => ({ output })), stopped]);
    if (typeof outcome === 'object')
      return { status: 'completed', output: outcome.output, durationMs: elapsed() };
    work.catch(() => undefined); // the executor's late failure is expected once aborted
    if (outcome === 'timeout')
      return { status: 'timeout', reason: timeoutReason(timeoutMs), durationMs: elapsed() };
    return { status: 'aborted', reason: abortReason(controller.signal.reason), durationMs: elapsed() };
  } catch (error) {
    if (controller.signal.aborted) {
      const r = controller.signal.reason as Reason | undefined;
      const status = r?.code === 'execute.timeout' ? 'timeout' : 'aborted';
      return { status, reason: abortReason(controller.signal.reason), durationMs: elapsed() };
    }
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 'failed',
      reason: { code: 'execute.error', stage: 'execute', message: `the executor failed: ${message}` },
      durationMs: elapsed(),
    };
  } finally {
    clearTimeout(timer);
  }
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
