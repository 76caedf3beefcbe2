import { codeExecutor, shellExecutor } from '../../execute/sandbox-executors.js';
import type { Guard, GuardFinding } from '../../guards/guard.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import { mayRun } from '../../policy/may-run.js';
import { chooseSandbox } from '../../sandbox/choose-sandbox.js';
import type { SandboxRunListener } from '../../sandbox/sandbox.js';
import type { Store } from '../../store/store.js';
import type { Assembly } from '../assembly.js';

/**
 * The policy's `sandbox` section: picks a backend and, when one is usable, registers Warden's
 * executors for `shell.exec` and `code.exec` and marks the sandbox available. When none is, or
 * when the host cannot enforce the limits the policy requires, a guard denies those actions
 * at decision time with the reason, so `check()` already tells the agent. Each run is reported
 * to `parts.sandboxListeners` (the monitor's metrics). When no agent is granted either type, no
 * backend is probed or loaded (the permissions stage denies those actions first).
 */
export async function assembleSandbox(parts: Assembly, policy: CompiledPolicy, _store: Store): Promise<void> {
  if (!mayRun(policy, 'shell.exec') && !mayRun(policy, 'code.exec')) {
    parts.sandbox = {
      backend: 'unused',
      summary: 'not started (no agent is granted shell.exec or code.exec)',
    };
    return;
  }
  const choice = await chooseSandbox(policy.config.sandbox);
  parts.sandbox = choice;
  const sandbox = choice.sandbox;
  if (!sandbox) {
    if (choice.problem)
      parts.guards.push(
        refusingGuard('sandbox.unavailable', `no sandbox can run commands on this host: ${choice.problem}`),
      );
    return;
  }
  parts.closers.push(() => sandbox.close());
  const unenforceable = sandbox.info.unenforceable;
  if (unenforceable.length > 0 && policy.config.sandbox.unenforceable === 'refuse') {
    parts.guards.push(
      refusingGuard(
        'sandbox.limit-unenforceable',
        `this host cannot enforce the sandbox limits ${unenforceable.map((l) => `\`${l}\``).join(', ')} that the policy requires; commands are refused (see docs/sandbox.md: host requirements)`,
      ),
    );
  }
  // Read at each run, so a listener registered after this section is heard too.
  const onRun: SandboxRunListener = (run) => {
    for (const listener of parts.sandboxListeners) listener(run);
  };
  parts.executors['shell.exec'] = shellExecutor(sandbox, onRun);
  parts.executors['code.exec'] = codeExecutor(sandbox, onRun);
  parts.sandboxAvailable = true;
}

function refusingGuard(code: string, message: string): Guard {
  const finding: GuardFinding[] = [{ effect: 'deny', code, message }];
  return {
    name: 'sandbox',
    appliesTo: (type) => type === 'shell.exec' || type === 'code.exec',
    inspect: () => finding,
  };
}
