import { awaitApproval } from '../approvals/approval-stage.js';
import type { Approvals } from '../approvals/approvals.js';
import type { Action } from '../contract/action.js';
import type { Decision } from '../contract/decision.js';
import type { DecisionEvent } from '../contract/observer.js';
import type { AuditEntry } from '../contract/records.js';
import { type Executor, execute } from '../execute/execute.js';
import { followCaller, RunControl } from '../execute/run-control.js';
import type { KillSwitch } from '../killswitch/kill-switch.js';
import type { CostModel } from '../limits/cost.js';
import type { Reservation } from '../limits/limiter.js';
import { finishAll, releaseAll } from '../limits/reservations.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { type Recorder, recordFailure } from '../record/recorder.js';
import { resultEntry } from '../record/records.js';
import type { ApprovalRecord } from '../store/store.js';
import type { RunOptions, RunResult } from './warden-options.js';

/** What the stages after the decision use: the Warden's own parts. */
export interface AfterDecision {
  readonly policy: CompiledPolicy;
  readonly kills: KillSwitch;
  readonly approvals: Approvals;
  readonly recorder: Recorder;
  readonly costs: CostModel;
  /** Runs past their decision: `Warden.close()` aborts them. */
  readonly running: Set<RunControl>;
}

/**
 * What follows an `allow` or `ask` in `run()`, in pipeline order: approval (8), the kill
 * re-check, execution (9), the limit holds settled, the result record (10). A kill or the
 * caller's signal aborts the run wherever it is. With `decided.unrecorded` (an allow whose
 * executor has no outside effects, `RunOptions.effects: 'none'`), the decision and the result
 * are one record, committed before the output is returned.
 */
export async function carryOut<T>(
  deps: AfterDecision,
  action: Action,
  decided: { decision: Decision; event: DecisionEvent | undefined; unrecorded?: AuditEntry },
  perform: Executor<T>,
  held: Reservation[],
  options: RunOptions,
): Promise<RunResult<T>> {
  const control = new RunControl();
  deps.running.add(control);
  const unwatch = deps.kills.watch(action.agent, control);
  const unfollow = followCaller(control, options.signal);
  try {
    let { decision } = decided;
    let approval: ApprovalRecord | undefined;
    if (decision.effect === 'ask') {
      const outcome = await awaitApproval(deps.approvals, action, decision, {
        signal: control.signal,
        timeoutMs: deps.policy.approvalTimeoutMs,
        ...(options.onApprovalRequested ? { onRequested: options.onApprovalRequested } : {}),
      });
      ({ decision, approval } = outcome);
      if (decision.effect === 'deny') {
        await releaseAll(held);
        if (decided.event) {
          const now = performance.now();
          deps.recorder.finished({
            decided: decided.event,
            action,
            decision,
            status: 'denied',
            approvalEnd: now,
            end: now,
          });
        }
        return { ...refused(decision), ...(approval ? { approval } : {}) };
      }
    }
    const approvalEnd = decided.event ? performance.now() : 0;
    // A stop may have arrived while the action waited for approval.
    deps.kills.recheck(action.agent, control);
    const execution = await execute(perform, action, deps.policy.executionTimeoutMs, control);
    await finishAll(held, action, execution);
    const actual =
      execution.status === 'completed'
        ? deps.costs.actualCost(action, { output: execution.output })
        : undefined;
    const entry = resultEntry(action, execution, actual);
    if (decided.unrecorded) {
      // INVARIANT: the output is handed over only once the decision is durable. A combined record
      // is therefore always awaited, whatever `resultRecord` asks.
      const failed = await deps.recorder.append(withResult(decided.unrecorded, entry));
      if (failed) {
        decision = recordFailure(decision, failed);
        if (decided.event) {
          const now = performance.now();
          deps.recorder.finished({
            decided: decided.event,
            action,
            decision,
            status: 'denied',
            approvalEnd,
            end: now,
          });
        }
        return refused(decision);
      }
    }
    // A failed append is reported by the recorder either way (`onCrash`); awaited, it is the reason too.
    const unrecorded = decided.unrecorded
      ? undefined
      : options.resultRecord === 'next-commit'
        ? void deps.recorder.append(entry, 'later')
        : await deps.recorder.append(entry);
    const result: RunResult<T> = {
      decision,
      status: execution.status,
      durationMs: execution.durationMs,
      ...(approval ? { approval } : {}),
    };
    if (execution.status === 'completed') result.output = execution.output;
    else result.reason = execution.reason;
    if (unrecorded) result.reason = unrecorded;
    if (decided.event) {
      deps.recorder.finished({
        decided: decided.event,
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
    unwatch();
    deps.running.delete(control);
    unfollow();
  }
}

/**
 * The decision entry carrying the result entry's data as `data.result` (SPEC §6, combined record):
 * readers see it as the decision and the result of the action (`splitRecord`).
 */
function withResult(decision: AuditEntry, result: AuditEntry): AuditEntry {
  return { ...decision, data: { ...decision.data, result: result.data } };
}

/** A run that ends at its decision: denied, with the deciding reason. */
export function refused<T>(decision: Decision): RunResult<T> {
  return { decision, status: 'denied', ...(decision.reasons[0] ? { reason: decision.reasons[0] } : {}) };
}
