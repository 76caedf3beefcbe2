import type { Action } from '../action/action.js';
import type { ApprovalChannel } from '../approvals/approval-channel.js';
import { Approvals, approvalReason } from '../approvals/approvals.js';
import { AuditLog } from '../audit/audit-log.js';
import type { Decision, Reason } from '../decision/decision.js';
import { type Executor, execute } from '../execute/execute.js';
import { RunControl } from '../execute/run-control.js';
import { type Guard, guardsStage } from '../guards/guard.js';
import { KillSwitch, killReason, killSwitchStage } from '../killswitch/kill-switch.js';
import { type Limiter, limitsStage, type Reservation } from '../limits/limiter.js';
import { acquireAll, releaseAll, settleAll } from '../limits/reservations.js';
import { permissionsStage } from '../permissions/permissions.js';
import { riskStage } from '../permissions/risk-stage.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { rulesStage } from '../rules/rules.js';
import { loadSqlParser } from '../sql/sql-analysis.js';
import type { ApprovalRecord, Store } from '../store/store.js';
import { validateStage } from '../validate/validate-stage.js';
import { runStages } from './compose.js';
import { newContext, type Stage } from './context.js';
import { buildDecision, decisionEntry, resultEntry } from './records.js';

export interface WardenOptions {
  policy: CompiledPolicy;
  store: Store;
  guards?: Guard[];
  limiters?: Limiter[];
  channels?: ApprovalChannel[];
  /** Whether a sandbox can run `shell.exec` / `code.exec` (default false: they are denied). */
  sandboxAvailable?: boolean;
  /** How often the kill switch re-reads the store for stops made by other processes (ms, default 250). */
  killPollMs?: number;
  /** Called when a stage crashes (it already denied); defaults to a JSON line on stderr. */
  onStageError?: (stage: string, error: unknown) => void;
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
}

/**
 * The pipeline (SPEC §1). `check()` runs stages 1–6 and changes nothing; `run()` runs them all:
 * decision recorded durably before anything executes, approval, execution with a deadline and
 * an abort signal, result recorded.
 *
 * @example
 * const warden = await createWarden({ policy: loadPolicyFile('warden.yaml'), store: await openSqliteStore('.warden/warden.db') });
 * const { decision, output } = await warden.run({ agent: 'research', type: 'fs.read', params: { path: '/data/a.txt' } }, readFile);
 */
export class Warden {
  readonly policy: CompiledPolicy;
  readonly store: Store;
  readonly audit: AuditLog;
  readonly kills: KillSwitch;
  readonly approvals: Approvals;
  private readonly stages: readonly Stage[];
  private readonly limiters: readonly Limiter[];
  private readonly onCrash: (stage: Stage, error: unknown) => void;
  private readonly killPollMs: number;
  private readonly held = new Map<string, Reservation[]>();

  constructor(options: WardenOptions) {
    this.policy = options.policy;
    this.store = options.store;
    this.audit = new AuditLog(options.store.audit, { maxBatch: options.policy.config.audit.maxBatch });
    this.kills = new KillSwitch(options.store.kills, this.audit);
    this.approvals = new Approvals(options.store.approvals, this.audit, options.channels ?? []);
    this.limiters = options.limiters ?? [];
    this.killPollMs = options.killPollMs ?? 250;
    this.stages = [
      killSwitchStage(this.kills),
      validateStage(),
      riskStage(),
      permissionsStage(),
      guardsStage(options.guards ?? []),
      rulesStage({ sandboxAvailable: options.sandboxAvailable ?? false }),
      limitsStage(this.limiters),
    ];
    const report = options.onStageError ?? reportCrash;
    this.onCrash = (stage, error) => report(stage.name, error);
  }

  /** Decides without side effects (SPEC §1, stages 1–6). Never throws: a failure denies. */
  async check(input: unknown): Promise<Decision> {
    const ctx = newContext(input, this.policy, true);
    const denied = await runStages(this.stages, ctx, this.onCrash);
    return buildDecision(ctx, denied);
  }

  /**
   * Decides and records the decision durably, without executing: for agents that execute
   * themselves (`POST /v1/actions`). Returns the action as validated, when it was valid.
   */
  async decide(input: unknown): Promise<{ decision: Decision; action?: Action }> {
    const ctx = newContext(input, this.policy, false);
    let denied = await runStages(this.stages, ctx, this.onCrash);
    let decision = buildDecision(ctx, denied);
    if (!ctx.action) {
      await this.record(decisionEntry(undefined, input, decision));
      return { decision };
    }
    const held: Reservation[] = [];
    if (!denied && decision.effect === 'allow') {
      denied = await acquireAll(this.limiters, ctx, held, this.onCrash);
      if (denied) decision = buildDecision(ctx, denied);
    }
    const recorded = await this.record(decisionEntry(ctx.action, input, decision));
    if (recorded) {
      await releaseAll(held);
      return { decision: recordFailure(decision, recorded), action: ctx.action };
    }
    // Held until the agent reports the result (`settle`); a process restart drops them.
    if (held.length > 0) this.held.set(ctx.action.id, held);
    return { decision, action: ctx.action };
  }

  /**
   * Settles (or, when `usd` is undefined and the action failed, releases) the limit holds that
   * `decide()` took for an action the agent executed itself.
   */
  async settle(actionId: string, outcome: { completed: boolean; usd?: number }): Promise<void> {
    const held = this.held.get(actionId);
    if (!held) return;
    this.held.delete(actionId);
    if (!outcome.completed) return releaseAll(held);
    await Promise.allSettled(
      held.map((r) => r.settle(outcome.usd === undefined ? {} : { usd: outcome.usd })),
    );
  }

  /** Runs the whole pipeline and, when allowed (or approved), the executor. Never throws. */
  async run<T>(input: unknown, executor: Executor<T>, options: RunOptions = {}): Promise<RunResult<T>> {
    const ctx = newContext(input, this.policy, false);
    let denied = await runStages(this.stages, ctx, this.onCrash);
    const reservations: Reservation[] = [];
    if (!denied && ctx.action) denied = await acquireAll(this.limiters, ctx, reservations, this.onCrash);
    let decision = buildDecision(ctx, denied);
    const action = ctx.action;
    const failed = await this.record(decisionEntry(action, input, decision));
    if (failed) decision = recordFailure(decision, failed);
    if (decision.effect === 'deny' || !action) {
      await releaseAll(reservations);
      return { decision, status: 'denied', ...(decision.reasons[0] ? { reason: decision.reasons[0] } : {}) };
    }

    const controller = new RunControl();
    const untrack = this.kills.track(action.agent, controller);
    const onCallerAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onCallerAbort();
    else options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      let approval: ApprovalRecord | undefined;
      if (decision.effect === 'ask') {
        const waited = await this.awaitApproval(action, decision, controller.signal, options);
        approval = waited.approval;
        decision = waited.decision;
        if (decision.effect === 'deny') {
          await releaseAll(reservations);
          return {
            decision,
            status: 'denied',
            reason: decision.reasons[0] as Reason,
            ...(approval ? { approval } : {}),
          };
        }
      }
      // A stop may have arrived while the action waited for approval.
      const stop = this.kills.stateOf(action.agent);
      if (stop) controller.abort(killReason(action.agent, stop));

      const execution = await execute(executor, action, this.policy.executionTimeoutMs, controller);
      if (reservations.length > 0) {
        await (execution.status === 'completed' ? settleAll(reservations, action) : releaseAll(reservations));
      }
      const recordError = await this.record(resultEntry(action, execution));
      const result: RunResult<T> = {
        decision,
        status: execution.status,
        durationMs: execution.durationMs,
        ...(approval ? { approval } : {}),
      };
      if (execution.status === 'completed') result.output = execution.output;
      else result.reason = execution.reason;
      if (recordError) result.reason = recordError;
      return result;
    } finally {
      untrack();
      options.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  /** Starts following the kill switch; `createWarden` calls it. */
  async start(): Promise<void> {
    await loadSqlParser();
    await this.kills.start(this.killPollMs);
  }

  async close(): Promise<void> {
    this.kills.stop();
    await this.audit.close();
  }

  private async awaitApproval(
    action: Action,
    decision: Decision,
    signal: AbortSignal,
    options: RunOptions,
  ): Promise<{ decision: Decision; approval?: ApprovalRecord }> {
    let request: ApprovalRecord;
    try {
      request = await this.approvals.request(action, decision, this.policy.approvalTimeoutMs);
      options.onApprovalRequested?.(request);
      const final = await this.approvals.wait(request.id, signal);
      return { decision: approvalOutcome(decision, final), approval: final };
    } catch (error) {
      const reason: Reason =
        signal.aborted && isReason(signal.reason)
          ? signal.reason
          : {
              code: 'approval.error',
              stage: 'approval',
              message: `waiting for approval failed: ${String(error)}`,
            };
      return { decision: { ...decision, effect: 'deny', reasons: [reason, ...decision.reasons] } };
    }
  }

  /** Appends durably; returns a Reason when the record could not be written (the caller fails closed). */
  private async record(entry: Parameters<AuditLog['append']>[0]): Promise<Reason | undefined> {
    try {
      await this.audit.append(entry);
      return undefined;
    } catch (error) {
      this.onCrash({ name: 'record', run: () => undefined }, error);
      return {
        code: 'record.unavailable',
        stage: 'record',
        message: `the audit record could not be written (${String(error)}); nothing was executed`,
      };
    }
  }
}

/** Builds a Warden, loads the SQL parser and starts following the kill switch. */
export async function createWarden(options: WardenOptions): Promise<Warden> {
  const warden = new Warden(options);
  await warden.start();
  return warden;
}

function recordFailure(decision: Decision, reason: Reason): Decision {
  return { ...decision, effect: 'deny', reasons: [reason, ...decision.reasons] };
}

function approvalOutcome(decision: Decision, final: ApprovalRecord): Decision {
  const effect = final.status === 'approved' ? 'allow' : 'deny';
  return { ...decision, effect, reasons: [approvalReason(final), ...decision.reasons] };
}

function isReason(value: unknown): value is Reason {
  return (
    typeof value === 'object' && value !== null && 'code' in value && 'stage' in value && 'message' in value
  );
}

function reportCrash(stage: string, error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: 'warden stage crashed; denied (fail closed)', stage, error: detail })}\n`,
  );
}
