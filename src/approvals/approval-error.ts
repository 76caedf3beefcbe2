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
