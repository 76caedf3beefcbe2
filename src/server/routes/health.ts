import type { App, ServerDeps } from '../http.js';

/** `GET /healthz`: open to anyone (no token), for load balancers and `warden serve`'s own check. */
export function registerHealthRoutes(app: App, { warden }: ServerDeps): void {
  app.get('/healthz', (c) =>
    c.json({ status: 'ok', store: warden.store.kind, policy: warden.policy.source }),
  );
}
