import type { ApprovalChannel } from '../approvals/approval-channel.js';
import type { Decision, Reason } from '../contract/decision.js';
import type { PipelineObserver } from '../contract/observer.js';
import type { ExecutorTable } from '../execute/executors.js';
import type { Guard } from '../guards/guard.js';
import type { Limiter } from '../limits/limiter.js';
import type { Monitor } from '../monitor/monitor.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { SandboxChoice } from '../sandbox/choose-sandbox.js';
import type { ApprovalRecord, Store } from '../store/store.js';
import type { Detector } from '../taint/detector.js';
import type { TaintSessions } from '../taint/taint-sessions.js';

export interface WardenOptions {
  policy: CompiledPolicy;
  store: Store;
  guards?: Guard[];
  limiters?: Limiter[];
  channels?: ApprovalChannel[];
  /** Executors by action type for `run()` calls that pass none (see `executorFor`). */
  executors?: ExecutorTable;
  /** Called by `close()`, in reverse order: what guards, limiters and executors hold. */
  closers?: (() => Promise<void>)[];
  /** Whether a sandbox can run `shell.exec` / `code.exec` (default false: they are denied). */
  sandboxAvailable?: boolean;
  /** How often the kill switch re-reads the store for stops made by other processes (ms, default 250). */
  killPollMs?: number;
  /**
   * How often pending approval requests are swept (ms, default 1000): overdue ones expire (and are
   * audited as `approval.expired` even when nobody waits), killed agents' ones are cancelled.
   */
  approvalSweepMs?: number;
  /** Called when a stage crashes (it already denied); defaults to a JSON line on stderr. */
  onStageError?: (stage: string, error: unknown) => void;
  /** Watches decisions and results (logs, metrics, traces); stages are timed only when one is set. */
  observer?: PipelineObserver;
  /** The monitor the policy's `monitoring` section built (`createWarden` passes it). */
  monitor?: Monitor;
  /** The sandbox backend chosen for `shell.exec` / `code.exec` (`createWarden` passes it). */
  sandbox?: SandboxChoice;
  /** What sessions have read (SPEC §2b); `createWarden` builds it from the policy's `untrusted` section. */
  taint?: TaintSessions;
  /** Detectors run on every observation (default: the built-in pattern detector); a model-based classifier plugs in here. */
  detectors?: Detector[];
}

export type RunStatus = 'completed' | 'failed' | 'denied' | 'timeout' | 'aborted';

export interface RunResult<T> {
  /** The final decision: an `ask` that was approved becomes `allow`, one that was not becomes `deny`. */
  decision: Decision;
  status: RunStatus;
  output?: T;
  /** Why it did not complete, in words the agent can act on. */
  reason?: Reason;
  approval?: ApprovalRecord;
  durationMs?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called once an approval request exists, e.g. to tell the user where to approve. */
  onApprovalRequested?: (request: ApprovalRecord) => void;
  /**
   * When the result record must be durable. `'before-return'` (default): `run()` resolves once
   * it is committed, and a result that could not be recorded is reported in `reason`.
   * `'next-commit'`: it is queued and rides the audit log's next group commit (the next decision's,
   * or one of its own after at most 10 ms), so the caller gets the output one commit sooner and
   * calls one after another make one commit each (the MCP gateway). The decision record is durable
   * before the executor starts either way; what a crash can lose is only the result of a finished
   * action.
   */
  resultRecord?: 'before-return' | 'next-commit';
  /**
   * What the executor does outside the process before it returns. `'external'` (default): it may
   * change the world (write, send, pay), so the decision is committed before it starts and the
   * result is a second record. `'none'`: it only computes or reads, and nothing it does matters
   * until its output is used; then an `allow` is recorded once, decision and result together
   * (a `decision` record with `data.result`), committed before `run()` returns the output. A
   * crash while it runs leaves no record, and nothing outside happened. Declare `'none'` only
   * when that is true: an executor that writes, sends or spends must keep the default.
   */
  effects?: 'external' | 'none';
}
