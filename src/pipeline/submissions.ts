import { approvalReason } from '../approvals/approvals.js';
import type { Decision } from '../contract/decision.js';
import { type SubmissionErrorCode, WardenError } from '../contract/errors.js';
import { USD } from '../limits/backend.js';
import { actualData, summarize } from '../record/records.js';
import type { ActionRecord, ApprovalRecord } from '../store/store.js';
import type { Warden } from './warden.js';

/** What an agent that executes itself sees of its action (`/v1/actions`). */
export interface SubmissionView {
  id: string;
  /** `pending` (waiting for approval), `allowed` (execute it now, then report), `denied`, `expired`, `completed`, `failed`. */
  status: ActionRecord['status'];
  decision: Decision;
  approvalId?: string;
}

/** A submit / report step that is refused; the server answers with `httpStatus`. */
export class SubmissionError extends WardenError {
  override readonly name = 'SubmissionError';
  constructor(
    override readonly code: SubmissionErrorCode,
    readonly httpStatus: 404 | 409 | 403,
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * The two-step flow for agents that execute their own actions (SPEC §6): submit → decision
 * (recorded durably; an `ask` becomes a persisted approval request) → the agent executes only
 * once the status is `allowed` → it reports the result, exactly once.
 */
export class Submissions {
  constructor(private readonly warden: Warden) {}

  async submit(input: unknown): Promise<SubmissionView> {
    const { decision, action } = await this.warden.decide(input);
    if (!action || decision.effect === 'deny') return { id: decision.id, status: 'denied', decision };
    const now = new Date().toISOString();
    let approval: ApprovalRecord | undefined;
    if (decision.effect === 'ask') {
      // A resubmitted id must not reach the approval store (its request id derives from the action id).
      if (await this.warden.store.actions.get(action.id)) throw duplicate(action.id);
      try {
        approval = await this.warden.approvals.request(
          action,
          decision,
          this.warden.policy.approvalTimeoutMs,
        );
      } catch (error) {
        if ((error as Error).name === 'StoreConflictError') throw duplicate(action.id);
        throw error;
      }
    }
    const record: ActionRecord = {
      id: action.id,
      agent: action.agent,
      action,
      decision,
      status: approval ? 'pending' : 'allowed',
      ...(approval ? { approvalId: approval.id } : {}),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.warden.store.actions.create(record);
    } catch (error) {
      if ((error as Error).name === 'StoreConflictError') throw duplicate(action.id);
      throw error;
    }
    return view(record);
  }

  /** The current state; a pending action is resolved against its approval request. */
  async status(id: string): Promise<SubmissionView> {
    const record = await this.warden.store.actions.get(id);
    if (!record) throw new SubmissionError('action.not-found', 404, `no action \`${id}\` was submitted`);
    if (record.status !== 'pending' || !record.approvalId) return view(record);
    const approval = await this.warden.approvals.refresh(record.approvalId);
    if (!approval || approval.status === 'pending') return view(record);
    const updated = await this.warden.store.actions.update(id, (current) => {
      if (current.status !== 'pending') return current;
      const approved = approval.status === 'approved';
      const reason = approvalReason(approval);
      return {
        ...current,
        status: approved ? 'allowed' : approval.status === 'expired' ? 'expired' : 'denied',
        decision: {
          ...current.decision,
          effect: approved ? 'allow' : 'deny',
          reasons: [reason, ...current.decision.reasons],
        },
        updatedAt: new Date().toISOString(),
      };
    });
    return view(updated);
  }

  /**
   * Long-poll: resolves as soon as the action leaves `pending` (woken by a vote in this process,
   * or seen on the next 250 ms read for a vote made by another process) or when `timeoutMs` passes.
   */
  async wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<SubmissionView> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const current = await this.status(id);
      if (current.status !== 'pending' || Date.now() >= until || signal?.aborted) return current;
      const ms = Math.min(250, Math.max(0, until - Date.now()));
      await this.warden.approvals.nextChange(current.approvalId ?? '', ms, signal).catch(() => undefined);
    }
  }

  /** Records what happened when the agent executed an allowed action; accepted once. */
  async report(
    id: string,
    agent: string | undefined,
    result: { status: 'completed' | 'failed'; output?: unknown; error?: string; cost?: { usd?: number } },
  ): Promise<SubmissionView> {
    const current = await this.status(id);
    const record = (await this.warden.store.actions.get(id)) as ActionRecord;
    if (agent !== undefined && record.agent !== agent) {
      throw new SubmissionError('action.wrong-agent', 403, `action \`${id}\` belongs to another agent`);
    }
    if (current.status !== 'allowed') {
      throw new SubmissionError(
        'action.not-allowed',
        409,
        `action \`${id}\` is ${current.status}; a result is accepted once, and only for an allowed action`,
      );
    }
    const updated = await this.warden.store.actions.update(id, (c) => {
      if (c.status !== 'allowed')
        throw new SubmissionError('action.not-allowed', 409, `action \`${id}\` is ${c.status}`);
      return {
        ...c,
        status: result.status,
        result: {
          ...(result.output === undefined ? {} : { output: summarize(result.output) }),
          ...(result.error ? { error: result.error } : {}),
        },
        updatedAt: new Date().toISOString(),
      };
    });
    // Priced here, from the whole output (the audit record keeps only a bounded summary of it).
    const actual = this.warden.costs.actualCost(record.action, {
      usd: result.cost?.usd,
      output: result.output,
    });
    await this.warden.audit.append({
      type: 'result',
      agent: record.agent,
      actionId: id,
      data: {
        status: result.status,
        reportedBy: 'agent',
        ...(result.error ? { error: result.error } : {}),
        ...(result.cost ? { cost: result.cost } : {}),
        ...(actual ? { actual: actualData(actual) } : {}),
        ...(result.output === undefined ? {} : { output: summarize(result.output) }),
      },
    });
    // The actual cost as recorded: a hold resumed in another process settles with the same figure.
    await this.warden.settle(id, {
      completed: result.status === 'completed',
      ...(actual ? { usd: actual.micros / USD } : {}),
      ...(result.output === undefined ? {} : { output: result.output }),
    });
    return view(updated);
  }
}

function duplicate(id: string): SubmissionError {
  return new SubmissionError(
    'action.duplicate-id',
    409,
    `action id \`${id}\` was already submitted; use a new id`,
  );
}

function view(record: ActionRecord): SubmissionView {
  return {
    id: record.id,
    status: record.status,
    decision: record.decision,
    ...(record.approvalId ? { approvalId: record.approvalId } : {}),
  };
}
