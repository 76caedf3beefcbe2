import { fsExecutors } from '../../execute/fs-executor.js';
import { fsGuard } from '../../guards/fs/fs-guard.js';
import type { FsScope } from '../../guards/fs/fs-paths.js';
import { fsScopeOf } from '../../guards/fs/self-protected.js';
import { createProtectedGuard } from '../../guards/protected/protected-guard.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { Store } from '../../store/store.js';
import type { Assembly } from '../assembly.js';

/** The file of a store kept in one (SQLite), protected from every agent. */
export function storeFileOf(store: Store): string | undefined {
  const file = (store as { file?: unknown }).file;
  return typeof file === 'string' ? file : undefined;
}

const scopes = new WeakMap<Assembly, FsScope>();

/**
 * The file scope of one assembly, built once (its globs compiled once) and shared by the `fs`,
 * protected-files and `shell` sections.
 */
export function scopeOf(parts: Assembly, policy: CompiledPolicy, store: Store | undefined): FsScope {
  let scope = scopes.get(parts);
  if (!scope) {
    scope = fsScopeOf(policy, store && storeFileOf(store));
    scopes.set(parts, scope);
  }
  return scope;
}

/** The `fs` section's parts: the file guard, and Warden's executors for `fs.*` (Linux only). */
export function assembleFs(parts: Assembly, policy: CompiledPolicy, store: Store): void {
  const scope = scopeOf(parts, policy, store);
  parts.guards.push(fsGuard(scope, policy));
  if (process.platform === 'linux') Object.assign(parts.executors, fsExecutors(scope, policy));
}

/** The protected-files guard: `fs.protected` and Warden's own files reached by `code.exec` or SQL. */
export function assembleProtected(parts: Assembly, policy: CompiledPolicy, store: Store): void {
  parts.guards.push(createProtectedGuard(scopeOf(parts, policy, store), policy.config.sql));
}
