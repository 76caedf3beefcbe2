import { fsExecutors } from '../../execute/fs-executor.js';
import { fsGuard } from '../../guards/fs/fs-guard.js';
import { FsScope } from '../../guards/fs/fs-paths.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { Store } from '../../store/store.js';
import type { Assembly } from '../assembly.js';

/** The `fs` section's parts: the file guard, and Warden's executors for `fs.*` (Linux only). */
export function assembleFs(parts: Assembly, policy: CompiledPolicy, _store: Store): void {
  const scope = new FsScope(policy.config.fs);
  parts.guards.push(fsGuard(scope, policy));
  if (process.platform === 'linux') Object.assign(parts.executors, fsExecutors(scope, policy));
}
