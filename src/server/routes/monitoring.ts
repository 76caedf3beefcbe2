import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { monitorOf } from '../../monitor/monitor.js';
import type { OverrideChange } from '../../store/overrides.js';
import { type App, fail, integer, jsonBody, oneOf, pathParam, query, type ServerDeps } from '../http.js';
import type { Principal, Role, TokenRegistry } from '../tokens.js';

const READERS: readonly Role[] = ['viewer', 'approver', 'admin'];

/**
 * `GET /metrics` (Prometheus text), `GET /v1/alerts` (the alert outbox), and the incident
 * overrides `POST /v1/agents/:agent/revoke|restore|approve-all|clear-approve-all|clear-tighten` (admin).
 * A `tighten` comes from the `tighten-limits` anomaly response; `clear-tighten` lifts it.
 */
export function registerMonitoringRoutes(app: App, { warden, tokens }: ServerDeps): void {
  app.get('/metrics', async (c) => {
    const monitor = monitorOf(warden);
    if (!monitor?.metrics) {
      return fail(
        c,
        'metrics.disabled',
        'metrics are off: set `monitoring.enabled: true` (and `monitoring.metrics.enabled`) in the policy',
      );
    }
    const localOk = monitor.config.metrics.auth === 'localhost' && isLoopback(c);
    if (!localOk) {
      const principal = bearer(c, tokens);
      if (!principal) {
        return fail(
          c,
          'auth.missing-token',
          'a viewer, approver or admin bearer token is required: send `Authorization: Bearer <token>`',
          { 'www-authenticate': 'Bearer' },
        );
      }
      if (!READERS.includes(principal.role)) {
        return fail(
          c,
          'auth.forbidden',
          `role \`${principal.role}\` may not read metrics; it needs one of ${READERS.join(', ')}`,
        );
      }
    }
    monitor.flushPending();
    return c.body(await monitor.metrics.text(), 200, { 'content-type': monitor.metrics.contentType });
  });

  app.get('/v1/alerts', async (c) => {
    const p = c.get('principal');
    if (!READERS.includes(p.role)) {
      return fail(
        c,
        'auth.forbidden',
        `role \`${p.role}\` may not read alerts; it needs one of ${READERS.join(', ')}`,
      );
    }
    const { status, limit } = query(c, {
      status: oneOf(['pending', 'delivered', 'undeliverable', 'suppressed']).optional(),
      limit: integer(1, 10_000).optional(),
    });
    const store = warden.store.alerts;
    const deliveries = store ? await store.list({ ...(status ? { status } : {}), limit: limit ?? 100 }) : [];
    return c.json({ deliveries });
  });

  const changes: OverrideChange[] = [
    'revoke',
    'restore',
    'approve-all',
    'clear-approve-all',
    'clear-tighten',
  ];
  for (const change of changes) {
    app.post(`/v1/agents/:agent/${change}`, async (c) => {
      const p = c.get('principal');
      if (p.role !== 'admin') {
        return fail(c, 'auth.forbidden', `role \`${p.role}\` may not ${change} agents; it needs admin`);
      }
      const agent = pathParam(c, 'agent');
      if (agent === '*')
        return fail(
          c,
          'validate.invalid',
          'overrides name one agent; to stop every agent use `POST /v1/kill-all`',
        );
      const body = (await jsonBody(c, true)) as { reason?: unknown };
      const reason = typeof body?.reason === 'string' ? body.reason : '';
      const changed = await warden.overrides.change(agent, change, p.name, reason);
      if (!changed) {
        return fail(
          c,
          'override.unchanged',
          `agent \`${agent}\`: \`${change}\` changes nothing (already in that state)`,
        );
      }
      return c.json({ agent, change, overrides: warden.overrides.list() });
    });
  }
}

function bearer(c: Context, tokens: TokenRegistry): Principal | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
  return tokens.authenticate(match?.[1]);
}

function isLoopback(c: Context): boolean {
  try {
    const address = getConnInfo(c).remote.address ?? '';
    return address === '::1' || address.startsWith('127.') || address === '::ffff:127.0.0.1';
  } catch {
    return false; // not served by node (e.g. app.request in tests): no socket to trust
  }
}
