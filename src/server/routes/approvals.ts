import type { ApprovalStatus } from '../../store/store.js';
import {
  type App,
  CAN,
  fail,
  forbidden,
  integer,
  jsonBody,
  oneOf,
  pathParam,
  query,
  type ServerDeps,
} from '../http.js';

const APPROVAL_STATUSES = [
  'pending',
  'approved',
  'denied',
  'expired',
  'cancelled',
] as const satisfies readonly ApprovalStatus[];

/**
 * Approval requests: `GET /v1/approvals[?status=&order=&limit=]`, one request by id, the votes
 * `POST /v1/approvals/{id}/approve|deny` (approvers and admins; a vote from the dashboard's
 * session counts as channel `dashboard`, else `api`), and the withdrawal
 * `POST /v1/approvals/{id}/cancel`, open to the agent that asked (its own requests only: it gave
 * up waiting) and to admins; the held action is then denied with `approval.cancelled` and no
 * later vote counts. A vote that cannot count throws an `ApprovalError`, answered by the app's
 * error handler.
 */
export function registerApprovalRoutes(app: App, { warden }: ServerDeps): void {
  app.get('/v1/approvals', async (c) => {
    const denied = forbidden(c, CAN.read, 'list approvals');
    if (denied) return denied;
    const q = query(c, {
      status: oneOf(APPROVAL_STATUSES).optional(),
      order: oneOf(['asc', 'desc']).optional(),
      limit: integer(1, 1000).optional(),
    });
    const list = await warden.approvals.list(q.status ?? 'pending', {
      order: q.order ?? 'asc',
      limit: q.limit ?? 100,
    });
    return c.json({ approvals: list });
  });

  for (const vote of ['approve', 'deny'] as const) {
    app.post(`/v1/approvals/:id/${vote}`, async (c) => {
      const denied = forbidden(c, CAN.vote, 'vote on approvals');
      if (denied) return denied;
      const id = pathParam(c, 'id');
      const body = (await jsonBody(c, true)) as { comment?: unknown; digest?: unknown };
      const p = c.get('principal');
      const record = await warden.approvals.vote({
        id,
        approver: p.name,
        role: p.role,
        vote,
        channel: c.get('via') === 'session' ? 'dashboard' : 'api',
        ...(typeof body?.comment === 'string' ? { comment: body.comment } : {}),
        ...(typeof body?.digest === 'string' ? { digest: body.digest } : {}),
      });
      return c.json({ approval: record });
    });
  }

  app.get('/v1/approvals/:id', async (c) => {
    const denied = forbidden(c, [...CAN.read, 'agent'], 'read approvals');
    if (denied) return denied;
    const id = pathParam(c, 'id');
    const record = await warden.approvals.refresh(id);
    const p = c.get('principal');
    if (!record || (p.role === 'agent' && record.agent !== p.agent)) {
      return fail(c, 'approval.not-found', `no approval request \`${id}\``);
    }
    return c.json({ approval: record });
  });

  app.post('/v1/approvals/:id/cancel', async (c) => {
    const denied = forbidden(c, ['agent', 'admin'], 'cancel approval requests');
    if (denied) return denied;
    const id = pathParam(c, 'id');
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    const p = c.get('principal');
    const current = await warden.approvals.get(id);
    if (!current || (p.role === 'agent' && current.agent !== p.agent)) {
      return fail(c, 'approval.not-found', `no approval request \`${id}\``);
    }
    const reason = typeof body.reason === 'string' && body.reason ? body.reason : `cancelled by ${p.name}`;
    return c.json({ approval: await warden.approvals.cancel(current.id, p.name, reason) });
  });
}
