import type { Action } from '../action/action.js';
import type { AuditSink } from '../audit/audit-sink.js';
import { canonicalJson, sha256Hex } from '../audit/canonical-json.js';
import type { Decision, Reason } from '../decision/decision.js';
import type { ApprovalRecord, ApprovalStore } from '../store/store.js';
import type { ApprovalChannel } from './approval-channel.js';

/** A vote that cannot be counted. `code` is stable: `approval.not-found`, `approval.self-approval`, … */
export class ApprovalError extends Error {
  override readonly name = 'ApprovalError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface VoteInput {
  id: string;
  approver: string;
  role: string;
  vote: 'approve' | 'deny';
  channel: string;
  comment?: string;
  /** When given, must equal the request's digest: the voter saw exactly this action. */
  digest?: string;
}

/** The digest an approval is bound to: SHA-256 of the canonical JSON of `{ type, params }`. */
export function actionDigest(action: Pick<Action, 'type' | 'params'>): string {
  return sha256Hex(canonicalJson({ type: action.type, params: action.params }));
}

const FINAL = new Set(['approved', 'denied', 'expired', 'cancelled']);

/**
 * The approval lifecycle: requests persisted in the store (so they survive a restart), M-of-N
 * distinct approvers with allowed roles, never the requesting agent or its user, expiry, and an
 * audit record for every request and vote.
 */
export class Approvals {
  constructor(
    private readonly store: ApprovalStore,
    private readonly audit: AuditSink,
    private readonly channels: readonly ApprovalChannel[] = [],
    private readonly now: () => number = Date.now,
  ) {}

  async request(action: Action, decision: Decision, timeoutMs: number): Promise<ApprovalRecord> {
    const created = this.now();
    const record: ApprovalRecord = {
      id: `apr_${action.id.replace(/^act_/, '')}`,
      actionId: action.id,
      agent: action.agent,
      ...(action.user === undefined ? {} : { user: action.user }),
      digest: actionDigest(action),
      action,
      decision,
      required: decision.approvals?.required ?? 1,
      roles: decision.approvals?.roles ?? ['approver', 'admin'],
      status: 'pending',
      votes: [],
      createdAt: new Date(created).toISOString(),
      expiresAt: new Date(created + timeoutMs).toISOString(),
    };
    await this.store.create(record);
    await this.audit.append({
      type: 'approval.request',
      agent: action.agent,
      actionId: action.id,
      data: {
        approvalId: record.id,
        digest: record.digest,
        required: record.required,
        roles: record.roles,
        expiresAt: record.expiresAt,
      },
    });
    for (const channel of this.channels) {
      // A failing channel is reported, never fatal: the request stays pending elsewhere.
      Promise.resolve()
        .then(() => channel.notify(record))
        .catch((error: unknown) =>
          process.emitWarning(`approval channel ${channel.name} failed: ${String(error)}`),
        );
    }
    return record;
  }

  get(id: string): Promise<ApprovalRecord | undefined> {
    return this.store.get(id);
  }

  async list(status?: ApprovalRecord['status']): Promise<ApprovalRecord[]> {
    await this.expireDue();
    return this.store.list(status ? { status } : {});
  }

  /** Counts one vote. Throws `ApprovalError` when it cannot count; then nothing changes. */
  async vote(input: VoteInput): Promise<ApprovalRecord> {
    const at = this.now();
    let expired = false;
    let record: ApprovalRecord;
    try {
      record = await this.store.update(input.id, (current) => {
        if (FINAL.has(current.status)) {
          throw new ApprovalError(
            'approval.not-pending',
            `approval \`${input.id}\` is already ${current.status}`,
          );
        }
        if (Date.parse(current.expiresAt) <= at) {
          expired = true;
          return { ...current, status: 'expired', decidedAt: new Date(at).toISOString() };
        }
        checkVote(current, input);
        const votes = [
          ...current.votes,
          {
            approver: input.approver,
            role: input.role,
            vote: input.vote,
            at: new Date(at).toISOString(),
            channel: input.channel,
            ...(input.comment ? { comment: input.comment } : {}),
          },
        ];
        const approvals = votes.filter((v) => v.vote === 'approve').length;
        const status =
          input.vote === 'deny' ? 'denied' : approvals >= current.required ? 'approved' : 'pending';
        return {
          ...current,
          votes,
          status,
          ...(status === 'pending' ? {} : { decidedAt: new Date(at).toISOString() }),
        };
      });
    } catch (error) {
      if ((error as Error).name === 'StoreNotFoundError') {
        throw new ApprovalError(
          'approval.not-found',
          `no approval request \`${input.id}\`; list them with \`warden approvals list\``,
        );
      }
      throw error;
    }
    if (expired) {
      await this.auditExpired(record);
      throw new ApprovalError('approval.expired', `approval \`${input.id}\` expired at ${record.expiresAt}`);
    }
    await this.audit.append({
      type: 'approval.vote',
      agent: record.agent,
      actionId: record.actionId,
      actor: input.approver,
      data: {
        approvalId: record.id,
        vote: input.vote,
        role: input.role,
        channel: input.channel,
        ...(input.comment ? { comment: input.comment } : {}),
        status: record.status,
        approvals: record.votes.filter((v) => v.vote === 'approve').length,
        required: record.required,
      },
    });
    return record;
  }

  /** Resolves with the request once it is approved, denied, expired or cancelled. */
  async wait(id: string, signal?: AbortSignal, pollMs = 200): Promise<ApprovalRecord> {
    for (;;) {
      signal?.throwIfAborted();
      let record = await this.store.get(id);
      if (!record)
        throw new ApprovalError('approval.not-found', `approval \`${id}\` disappeared from the store`);
      if (record.status === 'pending' && Date.parse(record.expiresAt) <= this.now())
        record = await this.expire(id);
      if (FINAL.has(record.status)) return record;
      await sleep(pollMs, signal);
    }
  }

  /** Marks every overdue pending request expired (and audits each). */
  async expireDue(): Promise<void> {
    const pending = await this.store.list({ status: 'pending' });
    for (const r of pending) if (Date.parse(r.expiresAt) <= this.now()) await this.expire(r.id);
  }

  private async expire(id: string): Promise<ApprovalRecord> {
    let changed = false;
    const record = await this.store.update(id, (current) => {
      if (current.status !== 'pending') return current;
      changed = true;
      return { ...current, status: 'expired', decidedAt: new Date(this.now()).toISOString() };
    });
    if (changed) await this.auditExpired(record);
    return record;
  }

  private async auditExpired(record: ApprovalRecord): Promise<void> {
    await this.audit.append({
      type: 'approval.expired',
      agent: record.agent,
      actionId: record.actionId,
      data: { approvalId: record.id, expiresAt: record.expiresAt, votes: record.votes.length },
    });
  }
}

function checkVote(current: ApprovalRecord, input: VoteInput): void {
  if (input.digest !== undefined && input.digest !== current.digest) {
    throw new ApprovalError(
      'approval.digest-mismatch',
      `the digest does not match approval \`${current.id}\`: the action was changed or another action was meant; review it again`,
    );
  }
  if (input.approver === current.agent || (current.user !== undefined && input.approver === current.user)) {
    throw new ApprovalError(
      'approval.self-approval',
      `\`${input.approver}\` asked for this action and cannot approve it`,
    );
  }
  if (!current.roles.includes(input.role)) {
    throw new ApprovalError(
      'approval.role-not-allowed',
      `role \`${input.role}\` may not decide this request; it needs one of ${current.roles.join(', ')}`,
    );
  }
  if (current.votes.some((v) => v.approver === input.approver)) {
    throw new ApprovalError(
      'approval.duplicate-vote',
      `\`${input.approver}\` has already voted on \`${current.id}\``,
    );
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Why a decided request released or refused its action, in words the agent can act on. */
export function approvalReason(approval: ApprovalRecord): Reason {
  const approvers = approval.votes.filter((v) => v.vote === 'approve').map((v) => v.approver);
  const denial = approval.votes.find((v) => v.vote === 'deny');
  switch (approval.status) {
    case 'approved':
      return { code: 'approval.granted', stage: 'approval', message: `approved by ${approvers.join(', ')}` };
    case 'expired':
      return {
        code: 'approval.expired',
        stage: 'approval',
        message: `no decision before ${approval.expiresAt}; the request expired`,
      };
    case 'denied':
      return {
        code: 'approval.denied',
        stage: 'approval',
        message: `denied by ${denial?.approver ?? 'an approver'}${denial?.comment ? `: ${denial.comment}` : ''}`,
      };
    default:
      return {
        code: 'approval.cancelled',
        stage: 'approval',
        message: `the approval request is ${approval.status}`,
      };
  }
}
