import type { Action } from '../../contract/action.js';
import type { Guard, GuardFinding } from '../../guards/guard.js';
import { compileShell, createShellGuard } from '../../guards/shell/shell-guard.js';
import { loadShellParser, shellParserLoaded } from '../../guards/shell/shell-parser.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import { mayRun } from '../../policy/may-run.js';
import type { Store } from '../../store/store.js';
import type { Assembly } from '../assembly.js';
import { scopeOf } from './fs.js';

/**
 * The `shell` section: the shell guard. Execution belongs to the sandbox; until one is
 * available the rules stage denies `shell.exec` with `sandbox.unavailable`. The bash parser
 * (tree-sitter, WebAssembly) loads now when an agent may run commands, else on the first
 * `shell.exec` the guard sees; a parser that cannot load refuses every command.
 */
export async function assembleShell(parts: Assembly, policy: CompiledPolicy, store?: Store): Promise<void> {
  if (mayRun(policy, 'shell.exec')) await loadShellParser().catch(() => undefined);
  const scope = scopeOf(parts, policy, store);
  parts.guards.push(whenParserLoaded(createShellGuard(compileShell(policy.config.shell), policy, scope)));
}

/** `guard`, once the parser is loaded (its checks then stay synchronous); a failed load denies. */
function whenParserLoaded(guard: Guard): Guard {
  const inspect = guard.inspect;
  return {
    ...guard,
    inspect: (action: Action, facts: Map<string, unknown>) => {
      if (shellParserLoaded()) return inspect(action, facts);
      return loadShellParser().then(
        () => inspect(action, facts),
        (error: unknown): GuardFinding[] => [
          {
            effect: 'deny',
            code: 'shell.parser-unavailable',
            message: `the shell parser could not be loaded (${error instanceof Error ? error.message : String(error)}); the command cannot be checked, so it is refused`,
          },
        ],
      );
    },
  };
}
