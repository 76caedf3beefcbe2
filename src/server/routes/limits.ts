import { limitsView } from '../../limits/usage.js';
import { type App, fail, query, type ServerDeps, text } from '../http.js';

/**
 * `GET /v1/limits[?agent=A]`: each agent's usage against its limits (docs/api.md). Viewers,
 * approvers and admins see every agent; an agent token sees only its own, whatever it asks.
 * The backend unreachable: 503 `limits.unavailable`.
 */
export function registerLimitsRoutes(app: App, { warden }: ServerDeps): void {
  app.get('/v1/limits', async (c) => {
    const p = c.get('principal');
    const asked = query(c, { agent: text().optional() }).agent;
    if (p.role === 'agent' && asked !== undefined && asked !== p.agent) {
      return fail(c, 'auth.wrong-agent', `this token acts for agent \`${p.agent}\`, not \`${asked}\``);
    }
    const agent = p.role === 'agent' ? (p.agent as string) : asked || undefined;
    try {
      return c.json(await limitsView(warden.limiters, agent));
    } catch (error) {
      return fail(
        c,
        'limits.unavailable',
        `the limits backend did not answer (${(error as Error).message}); retry shortly`,
      );
    }
  });
}
