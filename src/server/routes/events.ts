import { streamSSE } from 'hono/streaming';
import { AuditFollower } from '../audit-follower.js';
import { type App, CAN, forbidden, type ServerDeps } from '../http.js';

/** Events queued for one slow client before it is told it missed some (and should reload). */
const MAX_QUEUED = 2000;
const KEEPALIVE_MS = 15_000;

/**
 * `GET /v1/events`: server-sent events. `audit` carries every durable audit record (decisions,
 * results, votes, kills…): this process's as they commit, those of other processes sharing the
 * store within a quarter of a second ({@link AuditFollower}); `approval` carries an approval
 * request whenever it changes, in any process; `overflow` says the client fell more than 2,000
 * events behind and missed some. A comment line every 15 s keeps proxies open.
 */
export function registerEventRoutes(app: App, { warden }: ServerDeps): void {
  const follower = new AuditFollower(warden);
  app.get('/v1/events', (c) => {
    const denied = forbidden(c, CAN.read, 'follow events');
    if (denied) return denied;
    return streamSSE(c, async (stream) => {
      const queue: Array<{ event: string; data: string }> = [];
      let wake: (() => void) | undefined;
      let overflowed = false;
      const push = (event: string, value: unknown) => {
        if (queue.length >= MAX_QUEUED) {
          overflowed = true;
          return;
        }
        queue.push({ event, data: JSON.stringify(value) });
        wake?.();
      };
      const unsubscribe = follower.subscribe({
        audit: (record) => push('audit', record),
        approval: (record) => push('approval', record),
      });
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      const keepalive = setInterval(() => {
        queue.push({ event: 'ping', data: '{}' });
        wake?.();
      }, KEEPALIVE_MS);
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ principal: c.get('principal') }) });
        while (open) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
            continue;
          }
          const batch = queue.splice(0, queue.length);
          for (const m of batch) await stream.writeSSE(m);
          if (overflowed) {
            overflowed = false;
            await stream.writeSSE({ event: 'overflow', data: '{}' });
          }
        }
      } finally {
        clearInterval(keepalive);
        unsubscribe();
      }
    });
  });
}
