import type { Hono } from 'hono';
import { limitsView } from '../../limits/usage.js';
import type { Warden } from '../../pipeline/warden.js';
import type { Principal } from '../tokens.js';

/** Any app whose auth middleware sets `principal` (the app's own `Env` may carry more). */
type WithPrincipal = { Variables: { principal: Principal } };

/**
 * `GET /v1/limits[?agent=A]`: each agent's usage against its limits (docs/api.md). Viewers,
 * approvers and admins see every agent; an agent token sees only its own, whatever it asks.
 * The backend unreachable: 503 `limits.unavailable`.
 */
export function registerLimitsRoutes<E extends WithPrincipal>(app: Hono<E>, warden: Warden): void {
  app.get('/v1/limits', async (c) => {
    const p = c.get('principal') as Principal;
    const asked = c.req.query('agent');
    if (p.role === 'agent' && asked !== undefined && asked !== p.agent) {
      return c.json(
        {
          error: {
            code: 'auth.wrong-agent',
            message: `this token acts for agent \`${p.agent}\`, not \`${asked}\``,
          },
        },
        403,
      );
    }
    const agent = p.role === 'agent' ? (p.agent as string) : asked || undefined;
    try {
      return c.json(await limitsView(warden.limiters, agent));
    } catch (error) {
      return c.json(
        {
          error: {
            code: 'limits.unavailable',
            message: `the limits backend did not answer (${(error as Error).message}); retry shortly`,
          },
        },
        503,
      );
    }
  });
}
