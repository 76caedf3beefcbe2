import {
  type App,
  type AppContext,
  BadRequest,
  CAN,
  fail,
  forbidden,
  jsonBody,
  pathParam,
  query,
  type ServerDeps,
  text,
} from '../http.js';

/**
 * The agent's side of the control plane (SPEC §6): `POST /v1/check` (a decision, nothing
 * recorded), `POST /v1/actions` (submit: 200 with the decision, or 202 while an approval is
 * pending), `GET /v1/actions/:id[?wait=30s]` and `POST /v1/actions/:id/result`. An agent token
 * speaks and reads only for its own agent.
 */
export function registerActionRoutes(app: App, { warden, submissions }: ServerDeps): void {
  app.post('/v1/check', async (c) => {
    const denied = forbidden(c, CAN.submit, 'check actions');
    if (denied) return denied;
    const body = await jsonBody(c);
    return ownAgent(c, body) ?? c.json(await warden.check(body));
  });

  app.post('/v1/actions', async (c) => {
    const denied = forbidden(c, CAN.submit, 'submit actions');
    if (denied) return denied;
    const body = await jsonBody(c);
    const notOwn = ownAgent(c, body);
    if (notOwn) return notOwn;
    const view = await submissions.submit(body);
    return c.json(view, view.status === 'pending' ? 202 : 200);
  });

  app.get('/v1/actions/:id', async (c) => {
    const denied = forbidden(c, [...CAN.submit, ...CAN.read], 'read actions');
    if (denied) return denied;
    const id = pathParam(c, 'id');
    const { wait, agent: named } = query(c, { wait: text(20).optional(), agent: text(200).optional() });
    const agent = agentOf(c, named);
    const ms = waitMs(wait);
    const view =
      ms > 0 ? await submissions.wait(id, ms, c.req.raw.signal, agent) : await submissions.status(id, agent);
    return c.json(view);
  });

  app.post('/v1/actions/:id/result', async (c) => {
    const denied = forbidden(c, CAN.submit, 'report results');
    if (denied) return denied;
    const id = pathParam(c, 'id');
    const body = (await jsonBody(c)) as {
      status?: unknown;
      output?: unknown;
      error?: unknown;
      cost?: { usd?: unknown };
    };
    if (body?.status !== 'completed' && body?.status !== 'failed') {
      return fail(c, 'validate.invalid', '`status`: expected `completed` or `failed`');
    }
    const usd = body.cost?.usd;
    const { agent: named } = query(c, { agent: text(200).optional() });
    const view = await submissions.report(id, agentOf(c, named), {
      status: body.status,
      ...(body.output === undefined ? {} : { output: body.output }),
      ...(typeof body.error === 'string' ? { error: body.error } : {}),
      ...(typeof usd === 'number' ? { cost: { usd } } : {}),
    });
    return c.json(view);
  });
}

/**
 * Whose action `:id` names. An action id is scoped to its agent: an agent token reaches only its
 * own agent's actions; an admin or viewer may name the agent with `?agent=` (needed only when
 * several agents chose the same id).
 */
/** The agent whose action is meant: an agent token's own; for others, `?agent=` when given. */
function agentOf(c: AppContext, named: string | undefined): string | undefined {
  const p = c.get('principal');
  if (p.role === 'agent') return p.agent;
  return named === undefined || named === '' ? undefined : named;
}

/** An agent token speaks only for its own agent: the 403 to send when `body.agent` is another. */
function ownAgent(c: AppContext, body: unknown): Response | undefined {
  const p = c.get('principal');
  const agent = (body as { agent?: unknown } | null)?.agent;
  if (p.role !== 'agent' || agent === p.agent) return undefined;
  return fail(c, 'auth.wrong-agent', `this token acts for agent \`${p.agent}\`, not \`${String(agent)}\``);
}

/** `?wait=` as seconds (`30`) or a duration (`30s`, `1500ms`, `1m`), capped at 60 s. */
function waitMs(value: string | undefined): number {
  if (!value) return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new BadRequest(`\`wait\`: expected seconds or a duration such as \`30s\`, got \`${value}\``);
  const unit = m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000;
  return Math.min(Number(m[1]) * unit, 60_000);
}
