import { type App, CAN, forbidden, type ServerDeps } from '../http.js';

/** `GET /v1/agents`: the policy's agents, each `running` or `killed` (with its stop), and every kill in force. */
export function registerAgentRoutes(app: App, { warden }: ServerDeps): void {
  app.get('/v1/agents', async (c) => {
    const denied = forbidden(c, CAN.read, 'list agents');
    if (denied) return denied;
    const agents = [...warden.policy.agents.values()].map((a) => {
      const stop = warden.kills.stateOf(a.name);
      return {
        name: a.name,
        description: a.config.description,
        allow: a.config.allow,
        state: stop ? 'killed' : 'running',
        ...(stop ? { stop } : {}),
      };
    });
    return c.json({ agents, kills: warden.kills.list() });
  });
}
