// One file because the Warden class is the composer's whole surface: check, decide, run and observe share its recording steps.
import { Approvals } from '../approvals/approvals.js';
import { channelsFromPolicy } from '../approvals/channels/from-policy.js';
import { AuditLog } from '../audit/audit-log.js';
import type { Action } from '../contract/action.js';
import type { Decision, Reason } from '../contract/decision.js';
import { ObservationError, type ObservationRecord } from '../contract/observation.js';
import type { DecisionEvent, PipelineObserver } from '../contract/observer.js';
import type { AuditEntry } from '../contract/records.js';
import type { Executor } from '../execute/execute.js';
import { type ExecutorTable, executorFor, mergeExecutors, noExecutor } from '../execute/executors.js';
import type { RunControl } from '../execute/run-control.js';
import { guardsStage } from '../guards/guard.js';
import { KillSwitch, killSwitchStage } from '../killswitch/kill-switch.js';
import { sweepStopped } from '../killswitch/withdraw.js';
import { costModel } from '../limits/build-limiters.js';
import { type CostModel, estimateIn } from '../limits/cost.js';
import { Holds, type SettleOutcome } from '../limits/holds.js';
import { type Limiter, limitsStage, type Reservation } from '../limits/limiter.js';
import { acquireAll, releaseAll } from '../limits/reservations.js';
import type { Monitor } from '../monitor/monitor.js';
import { permissionsStage } from '../permissions/permissions.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { type Context, newContext, type Stage } from '../policy/context.js';
import { mayRun } from '../policy/may-run.js';
import { type CrashReporter, observerOf, Recorder, recordFailure, reportCrash } from '../record/recorder.js';
import { buildDecision, decisionEntry } from '../record/records.js';
import { riskStage } from '../risk/risk-stage.js';
import { rulesStage } from '../rules/rules.js';
import type { SandboxChoice } from '../sandbox/choose-sandbox.js';
import { type ReviewResult, reviewText } from '../secrets/review.js';
import { loadSqlParser } from '../sql/pg-parser.js';
import { Overrides } from '../store/overrides.js';
import type { Store } from '../store/store.js';
import {
  createTaintSessions,
  type Observed,
  type ObserveOptions,
  patternDetector,
  type TaintSessions,
} from '../taint/index.js';
import { taintStage, taintVerdictStage } from '../taint/taint-stage.js';
import { validateStage } from '../validate/validate-stage.js';
import { announceRecords } from './announce-records.js';
import { assemble } from './assemble.js';
import { runStages } from './compose.js';
import { type AfterDecision, carryOut, refused } from './run-stages.js';
import type { RunOptions, RunResult, WardenOptions } from './warden-options.js';

/** Output review that lets every kind through (the base for tool results). */
const ALLOW_ALL = {
  secret: 'allow',
  email: 'allow',
  phone: 'allow',
  card: 'allow',
  iban: 'allow',
  'national-id': 'allow',
} as const;

export type { RunOptions, RunResult, RunStatus, WardenOptions } from './warden-options.js';

/**
 * The pipeline (SPEC §1), composed: this class only orders the stages, each of which lives in its
 * own folder. `check()` runs stages 1–7 and changes nothing; `decide()` also takes the limit holds
 * and records the decision; `run()` then goes on through approval (8), the kill re-check,
 * execution (9) and the result record (10).
 *
 * INVARIANT: the decision is recorded durably before anything executes, and nothing here throws:
 * any failure becomes a deny with a reason naming the stage.
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
  /** What sessions have read (SPEC §2b); undefined when the policy sets `untrusted.enabled: false`. */
  readonly taint: TaintSessions | undefined;
  private readonly stages: readonly Stage[];
  private readonly recorder: Recorder;
  private readonly holds: Holds;
  private readonly onCrash: CrashReporter;
  private readonly killPollMs: number;
  /** Runs past their decision (waiting for approval or executing): `close()` aborts them. */
  private readonly running = new Set<RunControl>();
  private readonly afterDecision: AfterDecision;
  private readonly executors: ExecutorTable;
  private readonly closers: (() => Promise<void>)[];
  private readonly approvalSweepMs: number;
  private sweeper: NodeJS.Timeout | undefined;
  /** Stops following the store's change feed. */
  private readonly unfollow: (() => void)[] = [];

  constructor(options: WardenOptions) {
    this.policy = options.policy;
    this.store = options.store;
    this.audit = new AuditLog(options.store.audit, { maxBatch: options.policy.config.audit.maxBatch });
    this.kills = new KillSwitch(options.store.kills, this.audit);
    this.approvals = new Approvals(options.store.approvals, this.audit, options.channels ?? []);
    this.overrides = new Overrides(options.store.audit, this.audit, options.store.changes);
    this.limiters = options.limiters ?? [];
    this.holds = new Holds(this.limiters);
    this.costs = costModel(options.policy.config.limits);
    this.executors = options.executors ?? {};
    this.closers = [...(options.closers ?? [])];
    this.monitor = options.monitor;
    this.sandbox = options.sandbox;
    this.taint = !options.policy.config.untrusted.enabled
      ? undefined
      : (options.taint ??
        createTaintSessions(options.policy.config.untrusted, options.store, options.detectors));
    const taint = this.taint;
    this.killPollMs = options.killPollMs ?? 250;
    this.approvalSweepMs = options.approvalSweepMs ?? 1000;
    const report = options.onStageError ?? reportCrash;
    this.onCrash = (stage, error) => report(stage.name, error);
    this.recorder = new Recorder(this.audit, options.observer, this.onCrash);
    this.afterDecision = {
      policy: this.policy,
      kills: this.kills,
      approvals: this.approvals,
      recorder: this.recorder,
      costs: this.costs,
      running: this.running,
    };
    this.stages = [
      killSwitchStage(this.kills),
      validateStage(),
      riskStage(),
      permissionsStage(this.overrides),
      guardsStage(options.guards ?? []),
      ...(taint ? [taintStage(taint, patternDetector())] : []),
      rulesStage({ sandboxAvailable: options.sandboxAvailable ?? false, overrides: this.overrides }),
      ...(taint ? [taintVerdictStage()] : []),
      // Every decision is priced when monitoring watches spend (the observer); otherwise only
      // budgets price what they hold. Pricing a prompt by tokenizer costs ~3 µs a token on the
      // event loop, which nobody should pay for a figure nothing reads.
      limitsStage(this.limiters, options.observer ? this.costs : undefined),
    ];
  }

  /** Decides without side effects (SPEC §1, stages 1–7, limits only peek). Never throws: a failure denies. */
  async check(input: unknown): Promise<Decision> {
    const ctx = newContext(input, this.policy, true);
    const start = this.recorder.begin(ctx);
    const decision = buildDecision(ctx, await runStages(this.stages, ctx, this.onCrash));
    this.recorder.decided('check', ctx, decision, start);
    return decision;
  }

  /**
   * Decides and records the decision durably, without executing: for agents that execute
   * themselves (`POST /v1/actions`). Returns the action as validated, when it was valid.
   */
  async decide(input: unknown): Promise<{ decision: Decision; action?: Action }> {
    const ctx = newContext(input, this.policy, false);
    const start = this.recorder.begin(ctx);
    const held: Reservation[] = [];
    // An ask takes its holds too (as in run()): an action a human approves later must not bypass
    // its rate or budget. Holds of an ask that is never approved expire (`limits.holdTtl`).
    const { decision } = await this.decideAndRecord('decide', ctx, start, held);
    if (!ctx.action) return { decision };
    // Held until the agent reports the result (`settle`). Durable limit backends also keep the
    // hold with an expiry, so a result reported after a restart still settles it (`resume`).
    this.holds.keep(ctx.action.id, held, ctx.action.agent);
    return { decision, action: ctx.action };
  }

  /**
   * Settles (or, when the action failed, releases) the limit holds that `decide()` took for an
   * action the agent executed itself: with the provider's usage in `output`, else `usd` (the
   * actual cost, as `CostModel.actualCost` works it out), else the amount held. A hold is `agent`'s
   * and the id's (agents may share an id); without `agent`, only holds kept in this process are found.
   */
  settle(actionId: string, outcome: SettleOutcome, agent?: string): Promise<void> {
    return this.holds.settle(actionId, outcome, agent);
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
    const start = this.recorder.begin(ctx);
    let perform: Executor<T> | undefined;
    const held: Reservation[] = [];
    const { decision, decided, unrecorded } = await this.decideAndRecord(
      'run',
      ctx,
      start,
      held,
      () => {
        perform = executor ?? (executorFor(this.executors, ctx.action.type) as Executor<T> | undefined);
        return perform ? undefined : noExecutor(ctx.action.type);
      },
      options.effects === 'none',
    );
    if (decision.effect === 'deny' || !ctx.action || !perform) return refused(decision);
    return carryOut(
      this.afterDecision,
      ctx.action,
      { decision, event: decided, ...(unrecorded ? { unrecorded } : {}) },
      perform,
      held,
      options,
    );
  }

  /**
   * Stages 1–7, then (unless denied) `beforeHold`'s check and the limit holds, then the decision
   * record. A decision that cannot be recorded is a deny and its holds are released. With
   * `combine` (an executor without outside effects), an `allow` is not appended here: its entry
   * comes back as `unrecorded`, to be written once with the result (see `carryOut`).
   */
  private async decideAndRecord(
    mode: 'decide' | 'run',
    ctx: Context,
    start: number,
    held: Reservation[],
    beforeHold?: () => Reason | undefined,
    combine = false,
  ): Promise<{ decision: Decision; decided: DecisionEvent | undefined; unrecorded?: AuditEntry }> {
    // Awaited only when a stage went asynchronous, and the limits only when there are any: each
    // await is a promise and a turn of the microtask queue on every decision.
    const outcome = runStages(this.stages, ctx, this.onCrash);
    let denied = outcome instanceof Promise ? await outcome : outcome;
    if (!ctx.action) {
      const decision = buildDecision(ctx, denied);
      const failed = await this.recorder.append(decisionEntry(undefined, ctx.input, decision));
      // run() reports an unrecordable invalid input as such; decide() has always returned the deny as it was.
      const final = failed && mode === 'run' ? recordFailure(decision, failed) : decision;
      return { decision: final, decided: this.recorder.decided(mode, ctx, final, start) };
    }
    if (!denied && beforeHold) denied = beforeHold();
    if (!denied && this.limiters.length > 0) {
      const acquired = acquireAll(this.limiters, ctx, held, this.onCrash);
      denied = acquired instanceof Promise ? await acquired : acquired;
    }
    let decision = buildDecision(ctx, denied);
    const entry = decisionEntry(ctx.action, ctx.input, decision, estimateIn(ctx));
    // An ask waits for people, who see the request beside its recorded decision: never combined.
    if (combine && decision.effect === 'allow')
      return { decision, decided: this.recorder.decided(mode, ctx, decision, start), unrecorded: entry };
    const failed = await this.recorder.append(entry);
    if (failed) decision = recordFailure(decision, failed);
    const decided = this.recorder.decided(mode, ctx, decision, start);
    if ((failed || decision.effect === 'deny') && held.length > 0) await releaseAll(held);
    return { decision, decided };
  }

  /**
   * Learns content that entered an agent's context (SPEC §2b): a tool result, a page, a file, a
   * user message. Later actions of the session are judged by it. Rejects with an
   * `ObservationError` (`validate.invalid`) naming the field for invalid input.
   *
   * @example
   * await warden.observe({ agent: 'research-agent', session: 's1', source: 'http:https://example.org/', content: page });
   */
  observe(input: unknown, options?: ObserveOptions): Promise<Observed> {
    if (!this.taint)
      return Promise.reject(
        new ObservationError('observations are off: the policy sets `untrusted.enabled: false`'),
      );
    return this.taint.observe(input, options);
  }

  /**
   * Output review: scans generated text (a model's answer, a tool's result) for secrets and
   * personal data and returns the text with findings redacted, the findings (hashes, never
   * values) and the strictest effect `secrets.review` gives them (`allow`, `redact`, `ask`,
   * `deny`). Synchronous and records nothing; an `llm.output` action does the same through
   * the pipeline, audited.
   *
   * @example
   * warden.review('reach me at bob@example.com').text // → 'reach me at [REDACTED:email:5ff860bf1190]'
   */
  review(text: string, options: { toolResult?: boolean } = {}): ReviewResult {
    const { review, toolResults } = this.policy.config.secrets;
    if (!options.toolResult || toolResults === 'all') return reviewText(text, review);
    // A tool result: only what `secrets.toolResults` names (secrets, by default).
    const secret = toolResults === 'secrets' ? review.secret : 'allow';
    return reviewText(text, { ...ALLOW_ALL, secret });
  }

  /** The observations of `agent`'s `session`, oldest first (the session trace). */
  listObservations(agent: string, session: string): Promise<ObservationRecord[]> {
    return this.taint ? this.taint.list(agent, session) : Promise.resolve([]);
  }

  /** Starts following the kill switch; `createWarden` calls it. */
  async start(): Promise<void> {
    // Loaded now when an agent may run SQL (its first decision does not wait), else by the risk
    // stage on the first SQL action; a failed load is that stage's refusal, not a failed start.
    if (mayRun(this.policy, 'sql.query') || Object.keys(this.policy.config.sql.databases).length > 0)
      await loadSqlParser().catch(() => undefined);
    await this.kills.start(this.killPollMs);
    // The memory store has no other process to hear from: its overrides change only through this Warden.
    await this.overrides.start(this.store.kind === 'memory' ? undefined : this.killPollMs);
    const feed = this.store.changes;
    if (feed) {
      this.unfollow.push(this.approvals.follow(feed), announceRecords(this.audit, feed));
    }
    let sweeping = false;
    this.sweeper = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      this.sweepApprovals()
        .catch((error: unknown) => this.onCrash({ name: 'approval' }, error))
        .finally(() => {
          sweeping = false;
        });
    }, this.approvalSweepMs);
    this.sweeper.unref();
  }

  /**
   * Expires overdue approval requests and cancels those of killed agents (a stopped agent's
   * pending request must not be released by a late approval), and withdraws their allowed,
   * unreported `POST /v1/actions` actions (releasing the holds). The sweeper calls it, so a kill
   * made by another process sharing the store takes effect here too; so does a kill.
   */
  async sweepApprovals(): Promise<void> {
    const withdrawn = await sweepStopped(this.kills, this.approvals, this.store.actions, this.audit);
    for (const w of withdrawn) await this.settle(w.id, { completed: false }, w.agent);
  }

  /** Releases `closer`'s resource when the Warden closes (after the audit, in reverse order of registration). */
  onClose(closer: () => Promise<void>): void {
    this.closers.push(closer);
  }

  /**
   * Stops the Warden: runs still waiting for approval or executing are aborted (`execute.aborted`),
   * then the audit log is flushed and the parts are closed.
   */
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
    for (const stop of this.unfollow.splice(0)) stop();
    await this.audit.close();
    for (const close of [...this.closers].reverse()) await close();
  }
}

/**
 * Builds a Warden with everything its policy's sections ask for (guards, limiters, executors,
 * sandbox; see `assemble`) plus the `options`' own, loads the SQL parser and starts following
 * the kill switch.
 */
export async function createWarden(options: WardenOptions): Promise<Warden> {
  const parts = await assemble(options.policy, options.store, options.detectors);
  const warden = new Warden({
    ...options,
    guards: [...parts.guards, ...(options.guards ?? [])],
    limiters: [...parts.limiters, ...(options.limiters ?? [])],
    executors: mergeExecutors(parts.executors, options.executors),
    sandboxAvailable: options.sandboxAvailable ?? parts.sandboxAvailable,
    closers: [...parts.closers, ...(options.closers ?? [])],
    ...(parts.monitor ? { monitor: parts.monitor } : {}),
    ...(parts.sandbox ? { sandbox: parts.sandbox } : {}),
    ...(parts.taint ? { taint: parts.taint } : {}),
    channels: [...channelsFromPolicy(options.policy), ...(options.channels ?? [])],
    ...observed([...parts.observers, ...(options.observer ? [options.observer] : [])]),
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

function observed(observers: PipelineObserver[]): { observer?: PipelineObserver } {
  const observer = observerOf(observers);
  return observer ? { observer } : {};
}
