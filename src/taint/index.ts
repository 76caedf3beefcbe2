import type { UntrustedPolicy } from '../policy/sections/untrusted.js';
import type { Store } from '../store/store.js';
import type { Detector } from './detector.js';
import { patternDetector } from './pattern-detector.js';
import { TaintSessions } from './taint-sessions.js';

export type { Detector } from './detector.js';
export { patternDetector } from './pattern-detector.js';
export { type Observed, type ObserveOptions, TaintSessions } from './taint-sessions.js';
export { taintStage, taintVerdictStage } from './taint-stage.js';

/**
 * The sessions' taint for a policy's `untrusted` section over `store` (its observations; a
 * SQLite or database store may be shared with other processes). `detectors` default to the
 * built-in {@link patternDetector}.
 */
export function createTaintSessions(
  config: UntrustedPolicy,
  store: Store,
  detectors: readonly Detector[] = [patternDetector()],
): TaintSessions {
  return new TaintSessions(config, {
    store: store.observations,
    shared: store.kind !== 'memory',
    detectors,
  });
}
