import { ObservationError } from '../../contract/observation.js';
import { type App, CAN, fail, forbidden, jsonBody, query, type ServerDeps, text } from '../http.js';

/**
 * Observations (SPEC §2b): `POST /v1/observations` tells Warden what entered an agent's context
 * and answers `{ observed, session, labels, findings }`; `GET /v1/observations?agent=&session=`
 * lists a session's observations, oldest first (digests, findings and labels; the text only
 * when the policy keeps it). An agent token speaks and reads only for its own agent.
 */
export function registerObservationRoutes(app: App, { warden }: ServerDeps): void {
  app.post('/v1/observations', async (c) => {
    const denied = forbidden(c, CAN.submit, 'report observations');
    if (denied) return denied;
    const body = await jsonBody(c);
    const p = c.get('principal');
    const agent = (body as { agent?: unknown } | null)?.agent;
    if (p.role === 'agent' && agent !== p.agent)
      return fail(
        c,
        'auth.wrong-agent',
        `this token acts for agent \`${p.agent}\`, not \`${String(agent)}\``,
      );
    try {
      return c.json(await warden.observe(body));
    } catch (error) {
      if (error instanceof ObservationError) return fail(c, 'validate.invalid', error.message);
      throw error;
    }
  });

  app.get('/v1/observations', async (c) => {
    const denied = forbidden(c, [...CAN.submit, ...CAN.read], 'read observations');
    if (denied) return denied;
    const { agent, session } = query(c, { agent: text(200), session: text(200) });
    const p = c.get('principal');
    if (p.role === 'agent' && agent !== p.agent)
      return fail(c, 'auth.wrong-agent', `this token reads for agent \`${p.agent}\`, not \`${agent}\``);
    return c.json({ observations: await warden.listObservations(agent, session) });
  });
}
