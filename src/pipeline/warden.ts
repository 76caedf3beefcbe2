import type { ApprovalChannel } from '../approvals/approval-channel.js';
import { Approvals, approvalReason } from '../approvals/approvals.js';
import { channelsFromPolicy } from '../approvals/channels/from-policy.js';
import { AuditLog } from '../audit/audit-log.js';
import type { Action } from '../contract/action.js';
import type { Decision, Reason } from '../contract/decision.js';
import type { DecisionEvent, PipelineObserver } from '../contract/observer.js';
import { type Executor, execute } from '../execute/execute.js';
import { type ExecutorTable, executorFor } from '../execute/executors.js';
import { RunControl } from '../execute/run-control.js';
import { type Guard, guardsStage } from '../guards/guard.js';
import { ALL_AGENTS, KillSwitch, killReason, killSwitchStage } from '../killswitch/kill-switch.js';
import { costModel } from '../limits/build-limiters.js';
import { type CostModel, estimateIn } from '../limits/cost.js';
import { type Limiter, limitsStage, type Reservation } from '../limits/limiter.js';
import { acquireAll, releaseAll, settleAll } from '../limits/reservations.js';
import type { Monitor } from '../monitor/monitor.js';
import { permissionsStage } from '../permissions/permissions.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { type Context, newContext, type Stage } from '../policy/context.js';
import { buildDecision, decisionEntry, resultEntry } from '../record/records.js';
import { riskStage } from '../risk/risk-stage.js';
import { rulesStage } from '../rules/rules.js';
import type { SandboxChoice } from '../sandbox/choose-sandbox.js';
import { loadSqlParser } from '../sql/sql-analysis.js';
import { Overrides } from '../store/overrides.js';
import type { ApprovalRecord, Store } from '../store/store.js';
import { validateStage } from '../validate/validate-stage.js';
import { assemble } from './assemble.js';
import { runStages } from './compose.js';

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
  /** Incident overrides: revoked grants, approval required for everything (`warden incident`). */
  readonly overrides: Overrides;
  private readonly observer: PipelineObserver | undefined;
  private readonly stages: readonly Stage[];
  /** Every limiter in the limits stage, in order (read by `GET /v1/limits` and `warden limits`). */
  readonly limiters: readonly Limiter[];
  /**
   * Prices actions with the policy's `limits.prices` over the table: the estimate in each decision
   * record and the actual cost in each result record, the figures monitoring and incident reports count.
   */
  readonly costs: CostModel;
  /** Monitoring (logs, metrics, anomalies, alerts), when the policy turns it on. */
  readonly monitor: Monitor | undefined;
  /** Which sandbox runs `shell.exec` / `code.exec` here, or why none can (`warden serve` prints it). */
  readonly sandbox: SandboxChoice | undefined;
  private readonly onCrash: (stage: Stage, error: unknown) => void;
  private readonly killPollMs: number;
  private readonly held = new Map<string, Reservation[]>();
  /** Runs past their decision (waiting for approval or executing): `close()` aborts them. */
  private readonly running = new Set<RunControl>();
  private readonly executors: ExecutorTable;
  private readonly closers: (() => Promise<void>)[];
  private readonly approvalSweepMs: number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: WardenOptions) {
    this.policy = options.policy;
    this.store = options.store;
    this.audit = new AuditLog(options.store.audit, { maxBatch: options.policy.config.audit.maxBatch });
    this.kills = new KillSwitch(options.store.kills, this.audit);
    this.approvals = new Approvals(options.store.approvals, this.audit, options.channels ?? []);
    this.overrides = new Overrides(options.store.audit, this.audit);
    this.observer = options.observer;
    this.limiters = options.limiters ?? [];
    this.costs = costModel(options.policy.config.limits);
    this.executors = options.executors ?? {};
    this.closers = [...(options.closers ?? [])];
    this.monitor = options.monitor;
    this.sandbox = options.sandbox;
    this.killPollMs = options.killPollMs ?? 250;
    this.approvalSweepMs = options.approvalSweepMs ?? 1000;
    this.stages = [
      killSwitchStage(this.kills),
      validateStage(),
      riskStage(),
      permissionsStage(this.overrides),
      guardsStage(options.guards ?? []),
      rulesStage({ sandboxAvailable: options.sandboxAvailable ?? false, overrides: this.overrides }),
      // Every decision is priced when monitoring watches spend (the observer); otherwise only
      // budgets price what they hold. Pricing a prompt by tokenizer costs ~3 µs a token on the
      // event loop, which nobody should pay for a figure nothing reads.
      limitsStage(this.limiters, this.observer ? this.costs : undefined),
    ];
    const report = options.onStageError ?? reportCrash;
    this.onCrash = (stage, error) => report(stage.name, error);
  }

  /** Decides without side effects (SPEC §1, stages 1–6). Never throws: a failure denies. */
  async check(input: unknown): Promise<Decision> {
    const ctx = newContext(input, this.policy, true);
    const start = this.observer ? observeStages(ctx) : 0;
    const denied = await runStages(this.stages, ctx, this.onCrash);
    const decision = buildDecision(ctx, denied);
    if (this.observer) this.observe(this.observer, 'check', ctx, decision, start);
    return decision;
  }

  /**
   * Decides and records the decision durably, without executing: for agents that execute
   * themselves (`POST /v1/actions`). Returns the action as validated, when it was valid.
   */
  async decide(input: unknown): Promise<{ decision: Decision; action?: Action }> {
    const ctx = newContext(input, this.policy, false);
    const start = this.observer ? observeStages(ctx) : 0;
    let denied = await runStages(this.stages, ctx, this.onCrash);
    let decision = buildDecision(ctx, denied);
    if (!ctx.action) {
      await this.record(decisionEntry(undefined, input, decision));
      if (this.observer) this.observe(this.observer, 'decide', ctx, decision, start);
      return { decision };
    }
    const held: Reservation[] = [];
    // An ask takes its holds too (as in run()): an action a human approves later must not bypass
    // its rate or budget. Holds of an ask that is never approved expire (`limits.holdTtl`).
    if (!denied && decision.effect !== 'deny') {
      denied = await acquireAll(this.limiters, ctx, held, this.onCrash);
      if (denied) decision = buildDecision(ctx, denied);
    }
    const recorded = await this.record(decisionEntry(ctx.action, input, decision, estimateIn(ctx)));
    if (recorded) decision = recordFailure(decision, recorded);
    if (this.observer) this.observe(this.observer, 'decide', ctx, decision, start);
    if (recorded) {
      await releaseAll(held);
      return { decision, action: ctx.action };
    }
    // Held until the agent reports the result (`settle`). Durable limit backends also keep the
    // hold with an expiry, so a result reported after a restart still settles it (`resume`).
    if (held.length > 0) this.held.set(ctx.action.id, held);
    return { decision, action: ctx.action };
  }

  /**
   * Settles (or, when the action failed, releases) the limit holds that `decide()` took for an
   * action the agent executed itself: with the provider's usage in `output`, else `usd` (the
   * actual cost, as `CostModel.actualCost` works it out), else the amount held.
   */
  async settle(
    actionId: string,
    outcome: { completed: boolean; usd?: number; output?: unknown },
  ): Promise<void> {
    let held = this.held.get(actionId);
    this.held.delete(actionId);
    // Not held here: taken by another process, or before a restart; durable limiters still know it.
    held ??= await this.resumeHolds(actionId);
    if (held.length === 0) return;
    if (!outcome.completed) return releaseAll(held, { ran: true });
    const actual = {
      ...(outcome.usd === undefined ? {} : { usd: outcome.usd }),
      ...(outcome.output === undefined ? {} : { output: outcome.output }),
    };
    await Promise.allSettled(held.map((r) => r.settle(actual)));
  }

  private async resumeHolds(actionId: string): Promise<Reservation[]> {
    const found = await Promise.allSettled(this.limiters.map((l) => l.resume?.(actionId)));
    return found.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  }

  /**
   * Runs the whole pipeline and, when allowed (or approved), the executor: the caller's, or else
   * Warden's own for the action's type. Never throws.
   */
  async run<T = unknown>(
    input: unknown,
    executor?: Executor<T>,
    options: RunOptions = {},
  ): Promise<RunResult<T>> {
    const ctx = newContext(input, this.policy, false);
    const start = this.observer ? observeStages(ctx) : 0;
    let denied = await runStages(this.stages, ctx, this.onCrash);
    const perform =
      executor ?? (ctx.action ? (executorFor(this.executors, ctx.action.type) as Executor<T>) : undefined);
    if (!denied && ctx.action && !perform) denied = noExecutor(ctx.action.type);
    const reservations: Reservation[] = [];
    if (!denied && ctx.action) denied = await acquireAll(this.limiters, ctx, reservations, this.onCrash);
    let decision = buildDecision(ctx, denied);
    const action = ctx.action;
    const failed = await this.record(decisionEntry(action, input, decision, estimateIn(ctx)));
    if (failed) decision = recordFailure(decision, failed);
    const decided = this.observer ? this.observe(this.observer, 'run', ctx, decision, start) : undefined;
    if (decision.effect === 'deny' || !action) {
      await releaseAll(reservations);
      return { decision, status: 'denied', ...(decision.reasons[0] ? { reason: decision.reasons[0] } : {}) };
    }

    const controller = new RunControl();
    const untrackKill = this.kills.track(action.agent, controller);
    this.running.add(controller);
    const untrack = () => {
      untrackKill();
      this.running.delete(controller);
    };
    // A stop that arrived while the decision was being recorded (before tracking) must not wait for approval.
    const stopped = this.kills.stateOf(action.agent);
    if (stopped) controller.abort(killReason(action.agent, stopped));
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
          if (decided) {
            const now = performance.now();
            this.observeResult({ decided, action, decision, status: 'denied', approvalEnd: now, end: now });
          }
          return {
            decision,
            status: 'denied',
            reason: decision.reasons[0] as Reason,
            ...(approval ? { approval } : {}),
          };
        }
      }
      const approvalEnd = decided ? performance.now() : 0;
      // A stop may have arrived while the action waited for approval.
      const stop = this.kills.stateOf(action.agent);
      if (stop) controller.abort(killReason(action.agent, stop));

      const execution = await execute(
        perform as Executor<T>,
        action,
        this.policy.executionTimeoutMs,
        controller,
      );
      if (reservations.length > 0) {
        await (execution.status === 'completed'
          ? settleAll(reservations, action, execution.output)
          : releaseAll(reservations, { ran: true }));
      }
      const actual =
        execution.status === 'completed'
          ? this.costs.actualCost(action, { output: execution.output })
          : undefined;
      const recordError = await this.record(resultEntry(action, execution, actual));
      const result: RunResult<T> = {
        decision,
        status: execution.status,
        durationMs: execution.durationMs,
        ...(approval ? { approval } : {}),
      };
      if (execution.status === 'completed') result.output = execution.output;
      else result.reason = execution.reason;
      if (recordError) result.reason = recordError;
      if (decided) {
        this.observeResult({
          decided,
          action,
          decision,
          status: execution.status,
          approvalEnd,
          end: performance.now(),
          executeMs: execution.durationMs,
          ...(result.reason ? { reason: result.reason } : {}),
        });
      }
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
    // The memory store has no other process to hear from: its overrides change only through this Warden.
    await this.overrides.start(this.store.kind === 'memory' ? undefined : this.killPollMs);
    let sweeping = false;
    this.sweeper = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      this.sweepApprovals()
        .catch((error: unknown) => this.onCrash({ name: 'approval', run: () => undefined }, error))
        .finally(() => {
          sweeping = false;
        });
    }, this.approvalSweepMs);
    this.sweeper.unref();
  }

  /**
   * Expires overdue approval requests and cancels those of killed agents (a stopped agent's
   * pending request must not be released by a late approval). The sweeper calls it; so does a kill.
   */
  sweepApprovals(): Promise<void> {
    const stops = this.kills.list();
    if (stops.length === 0) return this.approvals.sweep();
    const killed = new Set(stops.map((k) => k.agent));
    return this.approvals.sweep((agent) => killed.has(ALL_AGENTS) || killed.has(agent));
  }

  /**
   * Stops the Warden: runs still waiting for approval or executing are aborted (`execute.aborted`),
   * then the audit log is flushed and the parts are closed.
   */
  /** Releases `closer`'s resource when the Warden closes (after the audit, in reverse order of registration). */
  onClose(closer: () => Promise<void>): void {
    this.closers.push(closer);
  }

  async close(): Promise<void> {
    const closing: Reason = {
      code: 'execute.aborted',
      stage: 'execute',
      message: 'Warden is shutting down; the action was stopped',
    };
    for (const run of this.running) run.abort(closing);
    if (this.sweeper) clearInterval(this.sweeper);
    this.kills.stop();
    this.overrides.stop();
    await this.audit.close();
    for (const close of [...this.closers].reverse()) await close();
  }

  private async awaitApproval(
    action: Action,
    decision: Decision,
    signal: AbortSignal,
    options: RunOptions,
  ): Promise<{ decision: Decision; approval?: ApprovalRecord }> {
    let request: ApprovalRecord | undefined;
    try {
      request = await this.approvals.request(action, decision, this.policy.approvalTimeoutMs);
      options.onApprovalRequested?.(request);
      const final = await this.approvals.wait(request.id, signal);
      return { decision: approvalOutcome(decision, final), approval: final };
    } catch (error) {
      const reason: Reason =
        signal.aborted && isReason(signal.reason)
          ? signal.reason
          : signal.aborted
            ? { code: 'approval.cancelled', stage: 'approval', message: 'the caller stopped waiting' }
            : {
                code: 'approval.error',
                stage: 'approval',
                message: `waiting for approval failed: ${String(error)}`,
              };
      // Nobody waits for it any more (the caller aborted, or the agent was killed): withdraw it,
      // so a late approval cannot count for an action that will not run.
      const cancelled = request
        ? await this.approvals.cancel(request.id, action.agent, reason.message).catch(() => undefined)
        : undefined;
      return {
        decision: { ...decision, effect: 'deny', reasons: [reason, ...decision.reasons] },
        ...(cancelled ? { approval: cancelled } : {}),
      };
    }
  }

  private observe(
    observer: PipelineObserver,
    mode: DecisionEvent['mode'],
    ctx: Context,
    decision: Decision,
    start: number,
  ): DecisionEvent {
    const event: DecisionEvent = {
      mode,
      input: ctx.input,
      action: ctx.action,
      decision,
      start,
      end: performance.now(),
      stages: ctx.timings ?? [],
    };
    try {
      observer.decided(event);
    } catch (error) {
      this.onCrash({ name: 'record', run: () => undefined }, error);
    }
    return event;
  }

  private observeResult(event: Parameters<PipelineObserver['finished']>[0]): void {
    try {
      this.observer?.finished(event);
    } catch (error) {
      this.onCrash({ name: 'record', run: () => undefined }, error);
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

/**
 * Builds a Warden with everything its policy's sections ask for (guards, limiters, executors,
 * sandbox; see `assemble`) plus the `options`' own, loads the SQL parser and starts following
 * the kill switch.
 */
export async function createWarden(options: WardenOptions): Promise<Warden> {
  const parts = await assemble(options.policy, options.store);
  const warden = new Warden({
    ...options,
    guards: [...parts.guards, ...(options.guards ?? [])],
    limiters: [...parts.limiters, ...(options.limiters ?? [])],
    executors: mergeExecutors(parts.executors, options.executors),
    sandboxAvailable: options.sandboxAvailable ?? parts.sandboxAvailable,
    closers: [...parts.closers, ...(options.closers ?? [])],
    ...(parts.monitor ? { monitor: parts.monitor } : {}),
    ...(parts.sandbox ? { sandbox: parts.sandbox } : {}),
    channels: [...channelsFromPolicy(options.policy), ...(options.channels ?? [])],
    ...observerOf([...parts.observers, ...(options.observer ? [options.observer] : [])]),
  });
  await warden.start();
  try {
    for (const attach of parts.attach) await attach(warden);
  } catch (error) {
    await warden.close();
    throw error;
  }
  return warden;
}

/** The caller's executors win over the policy's, also by family: a caller's `fs.*` covers `fs.list`. */
function mergeExecutors(own: ExecutorTable, callers: ExecutorTable | undefined): ExecutorTable {
  if (!callers) return own;
  const merged: Record<string, ExecutorTable[string]> = {};
  for (const [type, executor] of Object.entries(own))
    if (!executorFor(callers, type)) merged[type] = executor;
  return { ...merged, ...callers };
}

/** One observer for several (none: no observer, so nothing is timed). */
function observerOf(observers: PipelineObserver[]): { observer?: PipelineObserver } {
  if (observers.length <= 1) return observers[0] ? { observer: observers[0] } : {};
  return {
    observer: {
      decided: (e) => {
        for (const o of observers) o.decided(e);
      },
      finished: (e) => {
        for (const o of observers) o.finished(e);
      },
    },
  };
}

/** Turns on stage timing for `ctx`; returns the pipeline's start time. */
function observeStages(ctx: Context): number {
  ctx.timings = [];
  return performance.now();
}

function noExecutor(type: string): Reason {
  return {
    code: 'execute.unavailable',
    stage: 'execute',
    message: `no executor for \`${type}\`: pass one to run(), or use POST /v1/actions and execute it yourself`,
  };
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
