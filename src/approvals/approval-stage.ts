import type { Action } from '../contract/action.js';
import type { Decision, Reason } from '../contract/decision.js';
import type { ApprovalRecord } from '../store/store.js';
import { approvalReason } from './approval-reason.js';
import type { Approvals } from './approvals.js';

/** What the approval stage ends with: the final decision, and the request as it was settled. */
export interface ApprovalOutcome {
  decision: Decision;
  approval?: ApprovalRecord;
}

/**
 * The approval stage (SPEC §1, stage 8) of a `run()` whose decision is `ask`: stores a request
 * bound to the action, waits for M distinct approvers or the expiry, and turns the answer into
 * the final decision (`allow` with `approval.granted` first, or `deny`).
 *
 * INVARIANT: never throws. When the wait ends for any other reason (the caller aborted, the agent
 * was killed, the store failed) the request is withdrawn, so a late approval cannot count for an
 * action that will not run, and the decision is a deny naming why.
 */
export async function awaitApproval(
  approvals: Approvals,
  action: Action,
  decision: Decision,
  options: { signal: AbortSignal; timeoutMs: number; onRequested?: (request: ApprovalRecord) => void },
): Promise<ApprovalOutcome> {
  const { signal } = options;
  let request: ApprovalRecord | undefined;
  try {
    request = await approvals.request(action, decision, options.timeoutMs);
    options.onRequested?.(request);
    const final = await approvals.wait(request.id, signal);
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
    const cancelled = request
      ? await approvals.cancel(request.id, action.agent, reason.message).catch(() => undefined)
      : undefined;
    return {
      decision: { ...decision, effect: 'deny', reasons: [reason, ...decision.reasons] },
      ...(cancelled ? { approval: cancelled } : {}),
    };
  }
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
