import { splitRecords } from '../../contract/records.js';
import { type App, CAN, forbidden, integer, oneOf, query, type ServerDeps, text } from '../http.js';

const SEQ = integer(1, Number.MAX_SAFE_INTEGER);

/** The record filters `/v1/audit` and `/v1/audit/search` share. */
export const AUDIT_FILTERS = {
  agent: text().optional(),
  type: text().optional(),
  actionId: text().optional(),
};

/**
 * `GET /v1/audit` (filters `agent`, `type`, `actionId`; `after`/`before` a seq; `limit` up to
 * 10,000; `order=asc|desc`) and `GET /v1/audit/verify` (the hash chain checked end to end).
 * Paged text search is `GET /v1/audit/search` (audit-search.ts).
 */
export function registerAuditRoutes(app: App, { warden }: ServerDeps): void {
  app.get('/v1/audit', async (c) => {
    const denied = forbidden(c, CAN.read, 'read the audit log');
    if (denied) return denied;
    const q = query(c, {
      ...AUDIT_FILTERS,
      after: SEQ.optional(),
      before: SEQ.optional(),
      limit: integer(1, 10_000).optional(),
      order: oneOf(['asc', 'desc']).optional(),
    });
    const records = await warden.store.audit.query({
      ...(q.agent ? { agent: q.agent } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(q.actionId ? { actionId: q.actionId } : {}),
      ...(q.after === undefined ? {} : { afterSeq: q.after }),
      ...(q.before === undefined ? {} : { beforeSeq: q.before }),
      limit: q.limit ?? 100,
      order: q.order ?? 'asc',
    });
    // A combined record (decision + result) reads as both; a `type` filter keeps the one asked for.
    const split = splitRecords(records);
    return c.json({ records: q.type ? split.filter((r) => r.type === q.type) : split });
  });
  app.get('/v1/audit/verify', async (c) => {
    const denied = forbidden(c, CAN.read, 'verify the audit log');
    return denied ?? c.json(await warden.store.audit.verify());
  });
}
