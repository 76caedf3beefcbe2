import { type ApprovalErrorCode, WardenError } from '../contract/errors.js';

/** A vote that cannot be counted. `code` is stable: `approval.not-found`, `approval.self-approval`, … */
export class ApprovalError extends WardenError {
  override readonly name = 'ApprovalError';
  constructor(
    override readonly code: ApprovalErrorCode,
    message: string,
  ) {
    super(code, message, { stage: 'approval' });
  }
}
