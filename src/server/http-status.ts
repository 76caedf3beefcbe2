import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The HTTP status of every error code the control plane answers with: the one place that says
 * which failure is a 400, a 403 or a 409, so routes and the error handler never compare codes.
 * docs/api.md documents the same pairs.
 */
export const STATUS_OF: Readonly<Record<string, ContentfulStatusCode>> = {
  'validate.invalid': 400,
  'slack.bad-payload': 400,

  'auth.missing-token': 401,
  'auth.invalid-token': 401,
  'slack.bad-timestamp': 401,
  'slack.stale-timestamp': 401,
  'slack.bad-signature': 401,

  'auth.forbidden': 403,
  'auth.wrong-agent': 403,
  'auth.csrf': 403,
  'action.wrong-agent': 403,
  'approval.self-approval': 403,
  'approval.role-not-allowed': 403,

  'http.not-found': 404,
  'action.not-found': 404,
  'approval.not-found': 404,
  'mcp.pin-not-found': 404,
  'mcp.no-servers': 404,
  'metrics.disabled': 404,
  'slack.not-configured': 404,

  'action.not-allowed': 409,
  'action.duplicate-id': 409,
  'action.ambiguous-id': 409,
  'action.withdrawn': 409,
  'approval.not-pending': 409,
  'approval.expired': 409,
  'approval.duplicate-vote': 409,
  'approval.digest-mismatch': 409,
  'mcp.pin-nothing-pending': 409,
  'mcp.pin-digest-mismatch': 409,
  'killswitch.not-killed': 409,
  'override.unchanged': 409,

  'http.body-too-large': 413,

  'internal.error': 500,

  'limits.unavailable': 503,
  'store.unavailable': 503,
};

/**
 * A code the table does not list takes its family's status (the part before the first `.`):
 * a vote, a submission or a tool pin that cannot go ahead conflicts with the state it met.
 */
const FAMILY_STATUS: Readonly<Record<string, ContentfulStatusCode>> = {
  approval: 409,
  action: 409,
  mcp: 409,
};

/**
 * The HTTP status for an error `code`: the table's, else its family's, else 500 (a code nobody
 * mapped is a server defect, not the client's).
 *
 * @example statusOf('approval.not-found') // 404
 */
export function statusOf(code: string): ContentfulStatusCode {
  return STATUS_OF[code] ?? FAMILY_STATUS[code.split('.', 1)[0] ?? ''] ?? 500;
}
