import { type App, CAN, forbidden, type ServerDeps } from '../http.js';

/**
 * `GET /v1/audit` (filters `agent`, `type`, `actionId`; `after`/`before` a seq; `limit` up to
 * 10,000; `order=asc|desc`) and `GET /v1/audit/verify` (the hash chain checked end to end).
 * Paged text search is `GET /v1/audit/search` (audit-search.ts).
 */
export function registerAuditRoutes(app: App, { warden }: ServerDeps): void {
  app.get('/v1/audit', async (c) => {
    const denied = forbidden(c, CAN.read, 'read the audit log');
    if (denied) return denied;
    const q = c.req.query();
    const records = await warden.store.audit.query({
      ...(q.agent ? { agent: q.agent } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(q.actionId ? { actionId: q.actionId } : {}),
      ...(q.after ? { afterSeq: Number(q.after) } : {}),
      ...(q.before ? { beforeSeq: Number(q.before) } : {}),
      limit: Math.min(Number(q.limit ?? 100) || 100, 10_000),
      order: q.order === 'desc' ? 'desc' : 'asc',
    });
    return c.json({ records });
  });
  app.get('/v1/audit/verify', async (c) => {
    const denied = forbidden(c, CAN.read, 'verify the audit log');
    return denied ?? c.json(await warden.store.audit.verify());
  });
}
