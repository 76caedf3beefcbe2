import type { ExecutorTable } from '../execute/executors.js';
import { assembleFs } from '../guards/fs/assemble-fs.js';
import type { Guard } from '../guards/guard.js';
import { assembleHttp } from '../guards/http/assemble-http.js';
import { assembleShell } from '../guards/shell/assemble-shell.js';
import { assembleSql } from '../guards/sql/assemble-sql.js';
import { assembleLimits } from '../limits/assemble-limits.js';
import type { Limiter } from '../limits/limiter.js';
import { assembleMcp } from '../mcp/assemble-mcp.js';
import { assembleMonitor } from '../monitor/assemble-monitor.js';
import type { LimitTightener } from '../monitor/monitor.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { assembleSandbox } from '../sandbox/assemble-sandbox.js';
import type { SandboxRunListener } from '../sandbox/sandbox.js';
import type { Store } from '../store/store.js';
import type { PipelineObserver } from './observer.js';
import type { Warden } from './warden.js';

/** What the policy's sections contribute to a Warden, beyond the fixed stages. */
export interface Assembly {
  /** In the order they run in the guards stage. */
  guards: Guard[];
  limiters: Limiter[];
  executors: Record<string, ExecutorTable[string]>;
  /** Whether `shell.exec` / `code.exec` have a sandbox to run in (SPEC §2: else denied). */
  sandboxAvailable: boolean;
  /** Releases what the parts hold (connections, workers); `Warden.close()` calls them in reverse. */
  closers: (() => Promise<void>)[];
  /** Watch decisions and results (logs, metrics, traces). */
  observers: PipelineObserver[];
  /** Hear each run of Warden's own `shell.exec` / `code.exec` executors (the monitor counts them). */
  sandboxListeners: SandboxRunListener[];
  /** Called once the Warden is built and started, e.g. to follow its audit stream. */
  attach: ((warden: Warden) => Promise<void>)[];
  /** Handlers of the `tighten-limits` anomaly response (the limits section adds one); the monitor calls them. */
  tighteners: LimitTightener[];
}

/**
 * Builds the guards, limiters and executors that the policy's sections (`fs`, `sql`, `http`,
 * `shell`, `sandbox`, `limits`, …) ask for. `createWarden` calls it; each section adds its parts
 * here, in pipeline order, so that a policy file alone configures a Warden.
 */
export async function assemble(policy: CompiledPolicy, store: Store): Promise<Assembly> {
  const parts: Assembly = {
    guards: [],
    limiters: [],
    executors: {},
    sandboxAvailable: false,
    closers: [],
    observers: [],
    sandboxListeners: [],
    attach: [],
    tighteners: [],
  };
  assembleMonitor(parts, policy, store);
  assembleMcp(parts, policy, store);
  assembleFs(parts, policy, store);
  assembleSql(parts, policy, store);
  await assembleLimits(parts, policy, store);
  assembleHttp(parts, policy);
  await assembleShell(parts, policy);
  await assembleSandbox(parts, policy, store);
  return parts;
}
