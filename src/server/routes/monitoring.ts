import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono } from 'hono';
import { monitorOf } from '../../monitor/monitor.js';
import type { Warden } from '../../pipeline/warden.js';
import type { OverrideChange } from '../../store/overrides.js';
import type { Principal, Role, TokenRegistry } from '../tokens.js';

const READERS: readonly Role[] = ['viewer', 'approver', 'admin'];

// biome-ignore lint/suspicious/noExplicitAny: the app's Env is the caller's; these routes read only `principal`.
type AnyHono = Hono<any>;

/**
 * `GET /metrics` (Prometheus text), `GET /v1/alerts` (the alert outbox), and the incident
 * overrides `POST /v1/agents/:agent/revoke|restore|approve-all|clear-approve-all|clear-tighten` (admin).
 * A `tighten` comes from the `tighten-limits` anomaly response; `clear-tighten` lifts it.
 */
export function registerMonitoringRoutes(app: AnyHono, warden: Warden, tokens: TokenRegistry): void {
  app.get('/metrics', async (c) => {
    const monitor = monitorOf(warden);
    if (!monitor?.metrics) {
      return c.json(
        error(
          'metrics.disabled',
          'metrics are off: set `monitoring.enabled: true` (and `monitoring.metrics.enabled`) in the policy',
        ),
        404,
      );
    }
    const localOk = monitor.config.metrics.auth === 'localhost' && isLoopback(c);
    if (!localOk) {
      const principal = bearer(c, tokens);
      if (!principal) {
        return c.json(
          error(
            'auth.missing-token',
            'a viewer, approver or admin bearer token is required: send `Authorization: Bearer <token>`',
          ),
          401,
          { 'www-authenticate': 'Bearer' },
        );
      }
      if (!READERS.includes(principal.role)) {
        return c.json(
          error(
            'auth.forbidden',
            `role \`${principal.role}\` may not read metrics; it needs one of ${READERS.join(', ')}`,
          ),
          403,
        );
      }
    }
    monitor.flushPending();
    return c.body(await monitor.metrics.text(), 200, { 'content-type': monitor.metrics.contentType });
  });

  app.get('/v1/alerts', async (c) => {
    const p = c.get('principal') as Principal;
    if (!READERS.includes(p.role)) {
      return c.json(
        error(
          'auth.forbidden',
          `role \`${p.role}\` may not read alerts; it needs one of ${READERS.join(', ')}`,
        ),
        403,
      );
    }
    const status = c.req.query('status');
    if (status && !['pending', 'delivered', 'undeliverable', 'suppressed'].includes(status)) {
      return c.json(
        error('validate.invalid', '`status`: expected pending, delivered, undeliverable or suppressed'),
        400,
      );
    }
    const store = warden.store.alerts;
    const limit = Math.min(Number(c.req.query('limit') ?? 100) || 100, 10_000);
    const deliveries = store
      ? await store.list({ ...(status ? { status: status as 'pending' } : {}), limit })
      : [];
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
      const p = c.get('principal') as Principal;
      if (p.role !== 'admin') {
        return c.json(
          error('auth.forbidden', `role \`${p.role}\` may not ${change} agents; it needs admin`),
          403,
        );
      }
      const agent = c.req.param('agent');
      if (agent === '*')
        return c.json(
          error('validate.invalid', 'overrides name one agent; to stop every agent use `POST /v1/kill-all`'),
          400,
        );
      const body = (await c.req.json().catch(() => ({}))) as { reason?: unknown };
      const reason = typeof body?.reason === 'string' ? body.reason : '';
      const changed = await warden.overrides.change(agent, change, p.name, reason);
      if (!changed) {
        return c.json(
          error(
            'override.unchanged',
            `agent \`${agent}\`: \`${change}\` changes nothing (already in that state)`,
          ),
          409,
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

function error(code: string, message: string) {
  return { error: { code, message } };
}
