import type { Assembly } from '../../pipeline/assemble.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import { compileShell, createShellGuard } from './shell-guard.js';
import { loadShellParser } from './shell-parser.js';

/**
 * The `shell` section: the shell guard. Execution belongs to the sandbox; until one is
 * available the rules stage denies `shell.exec` with `sandbox.unavailable`.
 */
export async function assembleShell(parts: Assembly, policy: CompiledPolicy): Promise<void> {
  await loadShellParser();
  parts.guards.push(createShellGuard(compileShell(policy.config.shell), policy));
}
