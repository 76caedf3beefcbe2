import type { Assembly } from '../pipeline/assemble.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Store } from '../store/store.js';
import { buildLimiters, hasLimits } from './build-limiters.js';
import { openLimitsBackend } from './open-backend.js';

/** Adds the limiters of the policy's `limits` section, over the backend it names. */
export async function assembleLimits(parts: Assembly, policy: CompiledPolicy, store: Store): Promise<void> {
  const config = policy.config.limits;
  if (!hasLimits(config)) return;
  const backend = await openLimitsBackend(config, store as Store & { file?: string });
  parts.limiters.push(...buildLimiters(config, backend, [...policy.agents.keys()]));
  parts.closers.push(() => backend.close());
}
