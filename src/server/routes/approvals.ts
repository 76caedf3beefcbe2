import type { Hono } from 'hono';
import type { Warden } from '../../pipeline/warden.js';
import { CAN, type Env, error, forbidden, jsonBody } from '../app.js';

/**
 * One approval request, and its withdrawal. `POST /v1/approvals/{id}/cancel` is open to the agent
 * that asked (its own requests only: it gave up waiting) and to admins; the held action is then
 * denied with `approval.cancelled` and no later vote counts.
 */
export function registerApprovalRoutes(app: Hono<Env>, warden: Warden): void {
  app.get('/v1/approvals/:id', async (c) => {
    const denied = forbidden(c, [...CAN.read, 'agent'], 'read approvals');
    if (denied) return denied;
    const record = await warden.approvals.refresh(c.req.param('id'));
    const p = c.get('principal');
    if (!record || (p.role === 'agent' && record.agent !== p.agent)) {
      return c.json(error('approval.not-found', `no approval request \`${c.req.param('id')}\``), 404);
    }
    return c.json({ approval: record });
  });

  app.post('/v1/approvals/:id/cancel', async (c) => {
    const denied = forbidden(c, ['agent', 'admin'], 'cancel approval requests');
    if (denied) return denied;
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    const p = c.get('principal');
    const current = await warden.approvals.get(c.req.param('id'));
    if (!current || (p.role === 'agent' && current.agent !== p.agent)) {
      return c.json(error('approval.not-found', `no approval request \`${c.req.param('id')}\``), 404);
    }
    const reason = typeof body.reason === 'string' && body.reason ? body.reason : `cancelled by ${p.name}`;
    return c.json({ approval: await warden.approvals.cancel(current.id, p.name, reason) });
  });
}
