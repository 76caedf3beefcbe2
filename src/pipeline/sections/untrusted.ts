import type { Action } from '../../contract/action.js';
import type { ExecutionContext } from '../../execute/execute.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { Store } from '../../store/store.js';
import { createTaintSessions, type Detector, type TaintSessions } from '../../taint/index.js';
import type { Assembly } from '../assembly.js';

/**
 * The `untrusted` section: the sessions' taint (observations, detectors, the value index), and
 * Warden's own executors telling it what they read: the body of an `http.request` response
 * (source `http:<final URL>`) and the content of an `fs.read` (source `fs:<path>`). Runs after
 * the sections that register those executors.
 */
export function assembleUntrusted(
  parts: Assembly,
  policy: CompiledPolicy,
  store: Store,
  detectors?: readonly Detector[],
): void {
  if (!policy.config.untrusted.enabled) return;
  const taint = createTaintSessions(policy.config.untrusted, store, detectors);
  parts.taint = taint;
  observeOutput(parts, taint, 'fs.read', (action, output) => {
    const o = output as { content?: unknown; encoding?: unknown; path?: unknown } | undefined;
    if (typeof o?.content !== 'string' || o.encoding === 'base64') return undefined;
    return { source: `fs:${String(o.path ?? action.params.path)}`, content: o.content };
  });
  observeOutput(parts, taint, 'http.request', (action, output) => {
    const o = output as { body?: unknown; bodyEncoding?: unknown; url?: unknown } | undefined;
    if (typeof o?.body !== 'string' || o.bodyEncoding === 'base64') return undefined;
    return { source: `http:${String(o.url ?? action.params.url)}`, content: o.body };
  });
}

/** Wraps the executor of `type` so that a completed run's output is observed in the action's session. */
function observeOutput(
  parts: Assembly,
  taint: TaintSessions,
  type: string,
  read: (action: Action, output: unknown) => { source: string; content: string } | undefined,
): void {
  const executor = parts.executors[type];
  if (!executor) return;
  parts.executors[type] = async function observedExecutor(action: Action, context: ExecutionContext) {
    const output = await executor(action, context);
    const seen = action.session === undefined ? undefined : read(action, output);
    // INVARIANT: the output reaches the agent only once the session knows it read it.
    if (seen) await taint.observe({ agent: action.agent, session: action.session, ...seen });
    return output;
  };
}
