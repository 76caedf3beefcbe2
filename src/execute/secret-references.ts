import type { Action } from '../contract/action.js';
import { redactSecrets } from '../secrets/redact-secrets.js';
import {
  type ReferenceSource,
  readReference,
  resolveReferences,
  scrubSecrets,
} from '../secrets/references.js';
import type { Executor } from './execute.js';

/**
 * Wraps an executor so that `{{secret:NAME}}` references in the action's params are resolved
 * just before it runs, and only for it: the guard, the audit, the decision and the agent see the
 * reference. What comes back is cleaned: a resolved value in the output or in an error message
 * becomes `[REDACTED:reference]`, and any other secret the error quotes is redacted too (an
 * executor's error reaches the agent and the audit).
 *
 * @example
 * const run = withSecretReferences(httpExecutor, { GITHUB: { env: 'GITHUB_TOKEN' } });
 * await run({ type: 'http.request', params: { url, headers: { authorization: 'Bearer {{secret:GITHUB}}' } }, … }, ctx);
 */
export function withSecretReferences<T>(
  executor: Executor<T>,
  sources: Readonly<Record<string, ReferenceSource>>,
): Executor<T> {
  return async function referencesResolved(action: Action, context) {
    const used = new Set<string>();
    let resolved: Action;
    try {
      const params = resolveReferences(action.params, (name) => readReference(name, sources), used);
      resolved = params === action.params ? action : { ...action, params };
    } catch (error) {
      throw new Error(error instanceof Error ? error.message : String(error));
    }
    try {
      const output = await executor(resolved, context);
      return used.size === 0 ? output : scrubValue(output, used);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const clean = redactSecrets(scrubSecrets(message, used));
      if (clean === message && error instanceof Error) throw error;
      const out = new Error(clean);
      if (error instanceof Error && 'code' in error)
        Object.assign(out, { code: (error as { code: unknown }).code });
      throw out;
    }
  };
}

function scrubValue<T>(value: T, used: ReadonlySet<string>, depth = 0): T {
  if (typeof value === 'string') return scrubSecrets(value, used) as T;
  if (value === null || typeof value !== 'object' || depth > 16) return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, used, depth + 1)) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, used, depth + 1);
  return out as T;
}
