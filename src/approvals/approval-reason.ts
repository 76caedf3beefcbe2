import type { Reason } from '../contract/decision.js';
import type { ApprovalRecord } from '../store/store.js';

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
        message: `the approval request was cancelled${approval.cancelled ? ` by ${approval.cancelled.by}: ${approval.cancelled.reason}` : ''}`,
      };
  }
}
