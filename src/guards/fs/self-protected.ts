import { isAbsolute, posix } from 'node:path';
import type { CompiledPolicy } from '../../policy/compile.js';
import { DEFAULT_SELF_PROTECTED } from '../../policy/sections/secrets.js';
import { FsScope, type SelfProtected } from './fs-paths.js';

/**
 * What `selfProtection` protects for every agent: Warden's own names (`.warden/`, `warden.yaml`,
 * `warden.db`, signing keys), the policy file Warden loaded, the store's file, the paths the
 * section adds, and every agent's `code` globs; minus the section's `exceptions`, each named
 * exactly as it appears here. Off with `selfProtection.enabled: false`.
 *
 * @example
 * selfProtectedOf(policy, '/srv/warden/state.db')
 * // → { names: ['.warden', 'warden.yaml', …], paths: ['/etc/warden/policy.yaml', '/srv/warden/state.db', '/srv/agent/**'] }
 */
export function selfProtectedOf(policy: CompiledPolicy, storeFile?: string): SelfProtected {
  const section = policy.config.selfProtection;
  if (!section.enabled) return { names: [], paths: [] };
  const names: string[] = [...DEFAULT_SELF_PROTECTED];
  const paths: string[] = [];
  if (isAbsolute(policy.source) || /[\\/]/.test(policy.source)) paths.push(posix.resolve(policy.source));
  if (storeFile && storeFile !== ':memory:') {
    const store = posix.resolve(storeFile);
    // SQLite keeps a journal and a WAL beside the file.
    paths.push(store, `${store}-wal`, `${store}-shm`, `${store}-journal`);
  }
  for (const p of section.paths) (p.startsWith('/') ? paths : names).push(p);
  for (const agent of Object.values(policy.config.agents)) paths.push(...agent.code);
  const excepted = new Set(section.exceptions);
  return {
    names: names.filter((n) => !excepted.has(n)),
    paths: [...new Set(paths)].filter((p) => !excepted.has(p)),
  };
}

/** The file guard's scope for `policy`, with Warden's own files protected (see {@link selfProtectedOf}). */
export function fsScopeOf(policy: CompiledPolicy, storeFile?: string): FsScope {
  return new FsScope(policy.config.fs, selfProtectedOf(policy, storeFile));
}
