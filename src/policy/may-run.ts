import type { CompiledPolicy } from './compile.js';

/**
 * Whether some agent of `policy` is granted `type` (and not denied it). Runtime overrides only
 * withdraw or tighten grants, never add one, so when this is false every action of `type` is
 * denied by the permissions stage, before any guard or executor for it could matter: the parts
 * that serve only `type` (a parser, a sandbox) need not be loaded at start.
 */
export function mayRun(policy: CompiledPolicy, type: string): boolean {
  for (const agent of policy.agents.values()) if (agent.allows(type) && !agent.denies(type)) return true;
  return false;
}
