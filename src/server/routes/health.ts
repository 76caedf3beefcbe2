import type { App, ServerDeps } from '../http.js';

/** How long `/healthz` waits for the store to answer before calling it unavailable. */
const PING_MS = 2000;

/**
 * `GET /healthz`: open to anyone (no token), for load balancers and `warden serve`'s own check.
 * A store that can be reached over the network (PostgreSQL) is asked first: when it does not
 * answer, the answer is 503 with `store.unavailable` (every decision is denied meanwhile), so a
 * readiness probe takes the server out of rotation until the store is back.
 */
export function registerHealthRoutes(app: App, { warden }: ServerDeps): void {
  app.get('/healthz', async (c) => {
    const store = warden.store;
    const body = { status: 'ok', store: warden.store.kind, policy: warden.policy.source };
    if (!store.ping) return c.json(body);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${PING_MS} ms`)), PING_MS);
        }),
      ]);
      return c.json(body);
    } catch (error) {
      return c.json(
        { ...body, status: 'unavailable', code: 'store.unavailable', message: (error as Error).message },
        503,
      );
    } finally {
      clearTimeout(timer);
    }
  });
}
