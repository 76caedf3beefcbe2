import type { ApprovalRecord } from '../store/store.js';
import { ApprovalError } from './approval-error.js';

/** A vote as an approver casts it. */
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

/**
 * Whether a vote may count on a pending request; throws `ApprovalError` naming why not. Runs inside
 * the store's read-modify-write, so the checks and the write see the same record.
 */
export function checkVote(current: ApprovalRecord, input: VoteInput): void {
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
