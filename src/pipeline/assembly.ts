import type { PipelineObserver } from '../contract/observer.js';
import type { ExecutorTable } from '../execute/executors.js';
import type { Guard } from '../guards/guard.js';
import type { Limiter } from '../limits/limiter.js';
import type { LimitTightener, Monitor, MonitoredWarden } from '../monitor/monitor.js';
import type { SandboxChoice } from '../sandbox/choose-sandbox.js';
import type { SandboxRunListener } from '../sandbox/sandbox.js';
import type { TaintSessions } from '../taint/taint-sessions.js';

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
  attach: ((warden: MonitoredWarden) => Promise<void>)[];
  /** Handlers of the `tighten-limits` anomaly response (the limits section adds one); the monitor calls them. */
  tighteners: LimitTightener[];
  /** The monitor, when the policy turns monitoring on (`warden.monitor`). */
  monitor: Monitor | undefined;
  /** The sandbox backend chosen for `shell.exec` / `code.exec`, and why (`warden.sandbox`). */
  sandbox: SandboxChoice | undefined;
  /** What sessions have read (the `untrusted` section), when the policy keeps it on. */
  taint: TaintSessions | undefined;
}

/** An empty assembly, for the sections to fill. */
export function newAssembly(): Assembly {
  return {
    guards: [],
    limiters: [],
    executors: {},
    sandboxAvailable: false,
    closers: [],
    observers: [],
    sandboxListeners: [],
    attach: [],
    tighteners: [],
    monitor: undefined,
    sandbox: undefined,
    taint: undefined,
  };
}
