import { splitRecord } from '../../contract/records.js';
import type { AuditRecord } from '../../store/store.js';
import { type App, CAN, forbidden, integer, query, type ServerDeps, text } from '../http.js';
import { AUDIT_FILTERS } from './audit.js';

/** Records read from the store per text search request at most; the answer says where to continue. */
const SCAN_LIMIT = 20_000;
const CHUNK = 1000;

/**
 * `GET /v1/audit/search`: newest first, one page at a time (server-side pagination, so the
 * dashboard stays fast on large logs). Filters: `agent`, `type`, `actionId` (exact, indexed) and
 * `q` (case-insensitive text anywhere in the record; the store narrows by it where it can, and
 * every record returned is re-checked here). `before` continues from a previous page's `next`. A
 * text search reads at most 20,000 records from the store per request; `next` then lets it go on.
 */
export function registerAuditSearchRoutes(app: App, { warden }: ServerDeps): void {
  app.get('/v1/audit/search', async (c) => {
    const denied = forbidden(c, CAN.read, 'read the audit log');
    if (denied) return denied;
    const q = query(c, {
      ...AUDIT_FILTERS,
      q: text(200).optional(),
      before: integer(1, 999_999_999_999_999).optional(),
      limit: integer(1, 500).optional(),
    });
    const limit = q.limit ?? 100;
    const search = (q.q ?? '').trim().toLowerCase();
    const filter = {
      ...(q.agent ? { agent: q.agent } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(q.actionId ? { actionId: q.actionId } : {}),
    };
    let before = q.before;
    const records: AuditRecord[] = [];
    let scanned = 0;
    let exhausted = false;
    while (records.length < limit && scanned < SCAN_LIMIT) {
      const want = search ? CHUNK : limit - records.length;
      const chunk = await warden.store.audit.query({
        ...filter,
        ...(before === undefined ? {} : { beforeSeq: before }),
        ...(search ? { text: search } : {}),
        limit: want,
        order: 'desc',
      });
      let used = 0;
      for (const r of chunk) {
        used++;
        before = r.seq;
        scanned++;
        // Newest first: a combined record's result view before its decision view.
        for (const view of splitRecord(r).reverse()) {
          if (q.type && view.type !== q.type) continue;
          if (!search || JSON.stringify(view).toLowerCase().includes(search)) records.push(view);
        }
        if (records.length >= limit) break;
      }
      if (chunk.length < want && used === chunk.length) {
        exhausted = true;
        break;
      }
    }
    const next = exhausted ? undefined : before;
    return c.json({
      records,
      scanned,
      ...(next !== undefined && next > 1 ? { next } : {}),
      total: await warden.store.audit.count(),
    });
  });
}
