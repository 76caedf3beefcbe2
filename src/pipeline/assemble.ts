import type { CompiledPolicy } from '../policy/compile.js';
import type { Store } from '../store/store.js';
import type { Detector } from '../taint/detector.js';
import { type Assembly, newAssembly } from './assembly.js';
import { assembleFs, assembleProtected } from './sections/fs.js';
import { assembleHttp } from './sections/http.js';
import { assembleLimits } from './sections/limits.js';
import { assembleMonitor } from './sections/monitor.js';
import { assembleSandbox } from './sections/sandbox.js';
import { assembleSecrets } from './sections/secrets.js';
import { assembleShell } from './sections/shell.js';
import { assembleSql } from './sections/sql.js';
import { assembleUntrusted } from './sections/untrusted.js';

export type { Assembly } from './assembly.js';

/**
 * Builds the guards, limiters and executors that the policy's sections (`fs`, `sql`, `http`,
 * `shell`, `sandbox`, `limits`, …) ask for. `createWarden` calls it; each section adds its parts
 * here, in pipeline order, so that a policy file alone configures a Warden.
 */
export async function assemble(
  policy: CompiledPolicy,
  store: Store,
  detectors?: readonly Detector[],
): Promise<Assembly> {
  const parts = newAssembly();
  await assembleMonitor(parts, policy, store);
  assembleFs(parts, policy, store);
  assembleProtected(parts, policy, store);
  assembleSql(parts, policy, store);
  await assembleLimits(parts, policy, store);
  assembleHttp(parts, policy);
  await assembleShell(parts, policy, store);
  await assembleSandbox(parts, policy, store);
  assembleSecrets(parts, policy);
  assembleUntrusted(parts, policy, store, detectors);
  return parts;
}
