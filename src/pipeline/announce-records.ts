import type { AuditLog } from '../audit/audit-log.js';
import type { ChangeFeed } from '../store/store.js';

/** The least time between two announcements: bounds their cost under load to 40 a second. */
const MIN_GAP_MS = 25;

/**
 * Announces this process's committed audit records on the store's change feed (topic `events`),
 * so every server's live event stream (`GET /v1/events`) reads them at once instead of on its
 * next poll. One announcement covers every record committed before it, so they are coalesced:
 * at most one in flight, and at least {@link MIN_GAP_MS} apart. A failed one is dropped: the
 * records are durable, and the followers' fallback read finds them. Returns a function that stops it.
 */
export function announceRecords(audit: Pick<AuditLog, 'onRecord'>, feed: ChangeFeed): () => void {
  let pending = false;
  let busy = false;
  let stopped = false;
  const send = () => {
    if (stopped || busy || !pending) return;
    pending = false;
    busy = true;
    feed
      .notify('events')
      .catch(() => undefined)
      .finally(() => {
        setTimeout(() => {
          busy = false;
          send();
        }, MIN_GAP_MS).unref();
      });
  };
  const off = audit.onRecord(() => {
    pending = true;
    send();
  });
  return () => {
    stopped = true;
    off();
  };
}
