import { compileShell, createShellGuard } from '../../guards/shell/shell-guard.js';
import { loadShellParser } from '../../guards/shell/shell-parser.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { Assembly } from '../assembly.js';

/**
 * The `shell` section: the shell guard. Execution belongs to the sandbox; until one is
 * available the rules stage denies `shell.exec` with `sandbox.unavailable`.
 */
export async function assembleShell(parts: Assembly, policy: CompiledPolicy): Promise<void> {
  await loadShellParser();
  parts.guards.push(createShellGuard(compileShell(policy.config.shell), policy));
}
