import { buildLimiters, hasLimits } from '../../limits/build-limiters.js';
import { openLimitsBackend, openLimitsBackendOnUse } from '../../limits/open-backend.js';
import { Tightening } from '../../limits/tightening.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { Store } from '../../store/store.js';
import type { Assembly } from '../assembly.js';

/**
 * Adds the limiters of the policy's `limits` section, over the backend it names, and the
 * tightener that answers the `tighten-limits` anomaly response (`limits.tighten`).
 *
 * A policy with no limit at all still gets the emergency limit (unless `limits.tighten.emergency`
 * is `false`), over a backend opened on first use: nothing is counted until an agent is tightened.
 */
export async function assembleLimits(parts: Assembly, policy: CompiledPolicy, store: Store): Promise<void> {
  const config = policy.config.limits;
  const tightening = new Tightening(config);
  const limited = hasLimits(config);
  // Nothing to count and nothing a tightening could slow down: `tighten-limits` becomes `approve-all`.
  if (!limited && !tightening.emergency) return;
  const file = store as Store & { file?: string };
  const backend = limited ? await openLimitsBackend(config, file) : openLimitsBackendOnUse(config, file);
  parts.limiters.push(...buildLimiters(config, backend, [...policy.agents.keys()], tightening));
  parts.closers.push(() => backend.close());
  parts.attach.push(async (warden) => tightening.follow(warden.overrides));
  parts.tighteners.push(tightening.tighten);
}
