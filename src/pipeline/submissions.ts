import { approvalReason } from '../approvals/approvals.js';
import type { Decision } from '../contract/decision.js';
import { type SubmissionErrorCode, WardenError } from '../contract/errors.js';
import { withdrawIfKilled } from '../killswitch/withdraw.js';
import { USD } from '../limits/backend.js';
import { actualData, summarize } from '../record/records.js';
import { type ActionRecord, CHANGE_FEED_FALLBACK_MS } from '../store/store.js';
import { newActionId } from '../validate/validate.js';
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
    // An id this agent already used is refused before a second decision is recorded under it
    // (the store's create below still settles a race between two such submissions).
    const { agent, id } = (input ?? {}) as { agent?: unknown; id?: unknown };
    if (typeof agent === 'string' && typeof id === 'string') {
      if (await this.warden.store.actions.get(agent, id)) throw duplicate(id);
    }
    const { decision, action } = await this.warden.decide(input);
    if (!action || decision.effect === 'deny') return { id: decision.id, status: 'denied', decision };
    const now = new Date().toISOString();
    // A client-chosen id is scoped to its agent, so another agent may use it too: its request gets
    // an id of its own. A server-chosen id (time + 80 random bits) keeps `apr_` + the same digits.
    const chosen = (input as { id?: unknown }).id !== undefined;
    const approval =
      decision.effect === 'ask'
        ? this.warden.approvals.prepare(
            action,
            decision,
            this.warden.policy.approvalTimeoutMs,
            chosen ? `apr_${newActionId().slice(4)}` : undefined,
          )
        : undefined;
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
      // The action row and its approval request in one transaction, after the decision record:
      // a crash leaves both or neither, never a request that can be approved but never executed.
      await this.warden.store.actions.create(record, approval);
    } catch (error) {
      if ((error as Error).name === 'StoreConflictError') throw duplicate(action.id);
      throw error;
    }
    if (approval) await this.warden.approvals.announce(approval);
    return view(record);
  }

  /**
   * The action `id` of `agent` (an agent token's own agent). Without `agent` (an admin or viewer),
   * the one action that carries `id`; when several agents chose the same id, `action.ambiguous-id`.
   */
  private async locate(id: string, agent: string | undefined): Promise<ActionRecord> {
    const found =
      agent === undefined
        ? await this.warden.store.actions.find(id, 2)
        : [await this.warden.store.actions.get(agent, id)].filter((r) => r !== undefined);
    const [record, another] = found;
    if (!record) throw new SubmissionError('action.not-found', 404, `no action \`${id}\` was submitted`);
    if (another) {
      throw new SubmissionError(
        'action.ambiguous-id',
        409,
        `several agents submitted an action \`${id}\`; name one with \`?agent=\``,
      );
    }
    return record;
  }

  /**
   * The current state; a pending action is resolved against its approval request, and an allowed
   * one of an agent that is stopped now is withdrawn (denied with the kill's reason).
   */
  async status(id: string, agent?: string): Promise<SubmissionView> {
    const record = await this.locate(id, agent);
    if (record.status === 'allowed') return view(await this.withdrawIfKilled(record));
    if (record.status !== 'pending' || !record.approvalId) return view(record);
    const approval = await this.warden.approvals.refresh(record.approvalId);
    if (!approval || approval.status === 'pending') return view(record);
    const updated = await this.warden.store.actions.update(record.agent, id, (current) => {
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
    return view(updated.status === 'allowed' ? await this.withdrawIfKilled(updated) : updated);
  }

  /** Withdraws `record` when its agent is stopped now, releasing its limit holds. */
  private async withdrawIfKilled(record: ActionRecord): Promise<ActionRecord> {
    const { warden } = this;
    const out = await withdrawIfKilled(warden.store.actions, warden.audit, warden.kills, record);
    if (out.withdrawn) await warden.settle(record.id, { completed: false }, record.agent);
    return out.record;
  }

  /**
   * Long-poll: resolves as soon as the action leaves `pending` (woken by a vote in this process,
   * or in another one announced on the store's change feed, else seen on the next 250 ms read)
   * or when `timeoutMs` passes.
   */
  async wait(id: string, timeoutMs: number, signal?: AbortSignal, agent?: string): Promise<SubmissionView> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const current = await this.status(id, agent);
      if (current.status !== 'pending' || Date.now() >= until || signal?.aborted) return current;
      const step = this.warden.approvals.following ? CHANGE_FEED_FALLBACK_MS : 250;
      const ms = Math.min(step, Math.max(0, until - Date.now()));
      await this.warden.approvals.nextChange(current.approvalId ?? '', ms, signal).catch(() => undefined);
    }
  }

  /**
   * Records what happened when the agent executed an allowed action; accepted once. `agent` is
   * the agent whose action `id` is (an agent token's own); without it, the one action with `id`.
   */
  async report(
    id: string,
    agent: string | undefined,
    result: { status: 'completed' | 'failed'; output?: unknown; error?: string; cost?: { usd?: number } },
  ): Promise<SubmissionView> {
    // Reports of one id run one after another, so a second one sees the first's row (409).
    const key = `${agent ?? ''}\u0000${id}`;
    const before = this.reporting.get(key) ?? Promise.resolve();
    const mine = before.then(
      () => this.reportNow(id, agent, result),
      () => this.reportNow(id, agent, result),
    );
    const settled = mine.catch(() => undefined);
    this.reporting.set(key, settled);
    void settled.then(() => {
      if (this.reporting.get(key) === settled) this.reporting.delete(key);
    });
    return mine;
  }

  private readonly reporting = new Map<string, Promise<unknown>>();

  private async reportNow(
    id: string,
    agent: string | undefined,
    result: { status: 'completed' | 'failed'; output?: unknown; error?: string; cost?: { usd?: number } },
  ): Promise<SubmissionView> {
    const current = await this.status(id, agent);
    const record = await this.locate(id, agent);
    if (current.status !== 'allowed') throw notAllowed(record);
    // Priced here, from the whole output (the audit record keeps only a bounded summary of it).
    const actual = this.warden.costs.actualCost(record.action, {
      usd: result.cost?.usd,
      output: result.output,
    });
    // The result record first, then the row: a crash between the two leaves the action `allowed`
    // with its result on record, and the agent's retry completes the row without a second record
    // (the other order left a `completed` row whose result the audit never saw; chaos suite).
    if (!(await this.resultRecorded(record.agent, id))) {
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
    }
    const updated = await this.warden.store.actions.update(record.agent, id, (c) => {
      if (c.status !== 'allowed') throw notAllowed(c);
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
    // The actual cost as recorded: a hold resumed in another process settles with the same figure.
    await this.warden.settle(
      id,
      {
        completed: result.status === 'completed',
        ...(actual ? { usd: actual.micros / USD } : {}),
        ...(result.output === undefined ? {} : { output: result.output }),
      },
      record.agent,
    );
    return view(updated);
  }

  /** Whether a result record of `agent`'s action `id` is already in the audit (a report cut short by a crash). */
  private async resultRecorded(agent: string, id: string): Promise<boolean> {
    const [result] = await this.warden.store.audit.query({ type: 'result', agent, actionId: id, limit: 1 });
    return result !== undefined;
  }
}

/** The refusal of a result for an action that is not `allowed`; a withdrawn one says why. */
function notAllowed(record: ActionRecord): SubmissionError {
  if (record.withdrawn) {
    return new SubmissionError(
      'action.withdrawn',
      409,
      `action \`${record.id}\` was withdrawn because ${record.withdrawn.reason}; do not execute it, no result is accepted`,
    );
  }
  return new SubmissionError(
    'action.not-allowed',
    409,
    `action \`${record.id}\` is ${record.status}; a result is accepted once, and only for an allowed action`,
  );
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
