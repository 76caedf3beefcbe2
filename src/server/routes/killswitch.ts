import { ALL_AGENTS } from '../../killswitch/kill-switch.js';
import { type App, CAN, fail, forbidden, jsonBody, pathParam, type ServerDeps } from '../http.js';

/**
 * The kill switch (admin only): `POST /v1/agents/:agent/kill|revive` for one agent,
 * `POST /v1/kill-all` and `/v1/revive-all` for the global stop. A kill also settles the
 * approvals the stopped agents were waiting on. The optional body is `{ "reason": "…" }`.
 */
export function registerKillSwitchRoutes(app: App, { warden }: ServerDeps): void {
  app.post('/v1/agents/:agent/kill', async (c) => {
    const denied = forbidden(c, CAN.operate, 'kill agents');
    if (denied) return denied;
    const agent = pathParam(c, 'agent');
    if (agent === ALL_AGENTS) {
      return fail(c, 'validate.invalid', 'to stop every agent use `POST /v1/kill-all`');
    }
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    const state = await warden.kills.kill(agent, c.get('principal').name, reasonText(body));
    await warden.sweepApprovals();
    return c.json({ killed: state });
  });
  app.post('/v1/agents/:agent/revive', async (c) => {
    const denied = forbidden(c, CAN.operate, 'revive agents');
    if (denied) return denied;
    const agent = pathParam(c, 'agent');
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    const revived = await warden.kills.revive(agent, c.get('principal').name, reasonText(body));
    return revived
      ? c.json({ revived: true })
      : fail(c, 'killswitch.not-killed', `agent \`${agent}\` is not killed`);
  });
  app.post('/v1/kill-all', async (c) => {
    const denied = forbidden(c, CAN.operate, 'stop all agents');
    if (denied) return denied;
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    const killed = await warden.kills.kill(ALL_AGENTS, c.get('principal').name, reasonText(body));
    await warden.sweepApprovals();
    return c.json({ killed });
  });
  app.post('/v1/revive-all', async (c) => {
    const denied = forbidden(c, CAN.operate, 'lift the global stop');
    if (denied) return denied;
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    return c.json({
      revived: await warden.kills.revive(ALL_AGENTS, c.get('principal').name, reasonText(body)),
    });
  });
}

function reasonText(body: { reason?: unknown } | null): string {
  return typeof body?.reason === 'string' ? body.reason : '';
}
