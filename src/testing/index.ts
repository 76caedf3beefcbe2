/**
 * Test doubles for code that uses Warden (`warden/testing`): an in-memory Warden built from a
 * policy object, and executors that record what they were asked to do.
 */
import type { Action } from '../contract/action.js';
import type { ExecutionContext, Executor } from '../execute/execute.js';
import { createWarden, type Warden, type WardenOptions } from '../pipeline/warden.js';
import { policyFromObject } from '../policy/load.js';
import type { PolicyInput } from '../policy/schema.js';
import { MemoryStore } from '../store/memory/memory-store.js';

/** A Warden on a fresh in-memory store. Close it with `warden.close()`. */
export async function testWarden(
  policy: PolicyInput,
  options: Partial<Omit<WardenOptions, 'policy'>> = {},
): Promise<Warden> {
  return createWarden({
    store: new MemoryStore(),
    killPollMs: 20,
    ...options,
    policy: policyFromObject(policy),
  });
}

/** An executor that records each action it runs and returns `output`. */
export function recordingExecutor<T>(output: T): Executor<T> & { calls: Action[] } {
  const calls: Action[] = [];
  const executor = Object.assign(
    (action: Action) => {
      calls.push(action);
      return output;
    },
    { calls },
  );
  return executor;
}

/** An executor that waits until aborted (or `ms` passes), honouring its signal like a good executor. */
export function slowExecutor(ms = 60_000): Executor<string> {
  return (_action: Action, { signal }: ExecutionContext) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve('finished'), ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        },
        { once: true },
      );
    });
}
