import { Hono, type Context as HonoContext } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApprovalError } from '../approvals/approvals.js';
import { ALL_AGENTS } from '../killswitch/kill-switch.js';
import { SubmissionError, Submissions } from '../pipeline/submissions.js';
import type { Warden } from '../pipeline/warden.js';
import type { ApprovalStatus } from '../store/store.js';
import { registerApprovalRoutes } from './routes/approvals.js';
import { registerAuditSearchRoutes } from './routes/audit-search.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerEventRoutes } from './routes/events.js';
import { registerLimitsRoutes } from './routes/limits.js';
import { registerMcpRoutes } from './routes/mcp.js';
import { registerMonitoringRoutes } from './routes/monitoring.js';
import { registerSlackRoutes } from './routes/slack.js';
import { authenticate, Sessions } from './session.js';
import type { Principal, Role, TokenRegistry } from './tokens.js';

export type Env = { Variables: { principal: Principal; via: 'bearer' | 'session' } };

/** Largest request body accepted: an action is small; anything bigger is refused before parsing. */
const MAX_BODY_BYTES = 1024 * 1024;

const APPROVAL_STATUSES: readonly ApprovalStatus[] = [
  'pending',
  'approved',
  'denied',
  'expired',
  'cancelled',
];

/** Which roles may call what. `agent` tokens can never approve, kill or read the audit log. */
export const CAN = {
  submit: ['agent', 'admin'],
  read: ['viewer', 'approver', 'admin'],
  vote: ['approver', 'admin'],
  operate: ['admin'],
} as const satisfies Record<string, readonly Role[]>;

/**
 * The control plane HTTP API (SPEC §6). Every route but `/healthz` needs a bearer token; a
 * missing or unknown token is 401, a role that may not act is 403. Errors are JSON:
 * `{ "error": { "code", "message" } }`.
 */
export function createApp(warden: Warden, tokens: TokenRegistry): Hono<Env> {
  const app = new Hono<Env>();
  const submissions = new Submissions(warden);
  const sessions = new Sessions();

  app.get('/healthz', (c) =>
    c.json({ status: 'ok', store: warden.store.kind, policy: warden.policy.source }),
  );

  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        c.json(
          error(
            'http.body-too-large',
            `the request body is over ${MAX_BODY_BYTES / 1024 / 1024} MiB; send smaller actions`,
          ),
          413,
        ),
    }),
  );

  // Routes that authenticate themselves: the dashboard's pages and login, Slack's signed callbacks.
  registerDashboardRoutes(app, tokens, sessions);
  registerSlackRoutes(app, warden);

  app.use('/v1/*', async (c, next) => {
    const auth = authenticate(c, tokens, sessions);
    if ('error' in auth) {
      return c.json(
        error(auth.error.code, auth.error.message),
        auth.error.status,
        auth.error.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
      );
    }
    c.set('principal', auth.principal);
    c.set('via', auth.via);
    await next();
  });

  const allow = (c: HonoContext<Env>, roles: readonly Role[], what: string) => {
    const p = c.get('principal');
    if (roles.includes(p.role)) return undefined;
    return c.json(
      error('auth.forbidden', `role \`${p.role}\` may not ${what}; it needs one of ${roles.join(', ')}`),
      403,
    );
  };
  /** An agent token speaks only for its own agent. */
  const ownAgent = (c: HonoContext<Env>, body: unknown) => {
    const p = c.get('principal');
    const agent = (body as { agent?: unknown } | null)?.agent;
    if (p.role !== 'agent' || agent === p.agent) return undefined;
    return c.json(
      error('auth.wrong-agent', `this token acts for agent \`${p.agent}\`, not \`${String(agent)}\``),
      403,
    );
  };

  app.post('/v1/check', async (c) => {
    const forbidden = allow(c, CAN.submit, 'check actions');
    if (forbidden) return forbidden;
    const body = await jsonBody(c);
    return ownAgent(c, body) ?? c.json(await warden.check(body));
  });

  app.post('/v1/actions', async (c) => {
    const forbidden = allow(c, CAN.submit, 'submit actions');
    if (forbidden) return forbidden;
    const body = await jsonBody(c);
    const denied = ownAgent(c, body);
    if (denied) return denied;
    const view = await submissions.submit(body);
    return c.json(view, view.status === 'pending' ? 202 : 200);
  });

  app.get('/v1/actions/:id', async (c) => {
    const denied = allow(c, [...CAN.submit, ...CAN.read], 'read actions');
    if (denied) return denied;
    const id = c.req.param('id');
    const p = c.get('principal');
    if (p.role === 'agent') {
      const record = await warden.store.actions.get(id);
      if (record && record.agent !== p.agent)
        return c.json(error('auth.wrong-agent', 'this action belongs to another agent'), 403);
    }
    const wait = waitMs(c.req.query('wait'));
    const view = wait > 0 ? await submissions.wait(id, wait, c.req.raw.signal) : await submissions.status(id);
    return c.json(view);
  });

  app.post('/v1/actions/:id/result', async (c) => {
    const denied = allow(c, CAN.submit, 'report results');
    if (denied) return denied;
    const body = (await jsonBody(c)) as {
      status?: unknown;
      output?: unknown;
      error?: unknown;
      cost?: { usd?: unknown };
    };
    if (body?.status !== 'completed' && body?.status !== 'failed') {
      return c.json(error('validate.invalid', '`status`: expected `completed` or `failed`'), 400);
    }
    const p = c.get('principal');
    const usd = body.cost?.usd;
    const view = await submissions.report(c.req.param('id'), p.role === 'agent' ? p.agent : undefined, {
      status: body.status,
      ...(body.output === undefined ? {} : { output: body.output }),
      ...(typeof body.error === 'string' ? { error: body.error } : {}),
      ...(typeof usd === 'number' ? { cost: { usd } } : {}),
    });
    return c.json(view);
  });

  app.get('/v1/agents', async (c) => {
    const denied = allow(c, CAN.read, 'list agents');
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

  app.post('/v1/agents/:agent/kill', async (c) => {
    const denied = allow(c, CAN.operate, 'kill agents');
    if (denied) return denied;
    if (c.req.param('agent') === ALL_AGENTS) {
      return c.json(error('validate.invalid', 'to stop every agent use `POST /v1/kill-all`'), 400);
    }
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    const state = await warden.kills.kill(c.req.param('agent'), c.get('principal').name, reasonText(body));
    await warden.sweepApprovals();
    return c.json({ killed: state });
  });
  app.post('/v1/agents/:agent/revive', async (c) => {
    const denied = allow(c, CAN.operate, 'revive agents');
    if (denied) return denied;
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    const revived = await warden.kills.revive(
      c.req.param('agent'),
      c.get('principal').name,
      reasonText(body),
    );
    return revived
      ? c.json({ revived: true })
      : c.json(error('killswitch.not-killed', `agent \`${c.req.param('agent')}\` is not killed`), 409);
  });
  app.post('/v1/kill-all', async (c) => {
    const denied = allow(c, CAN.operate, 'stop all agents');
    if (denied) return denied;
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    const killed = await warden.kills.kill(ALL_AGENTS, c.get('principal').name, reasonText(body));
    await warden.sweepApprovals();
    return c.json({ killed });
  });
  app.post('/v1/revive-all', async (c) => {
    const denied = allow(c, CAN.operate, 'lift the global stop');
    if (denied) return denied;
    const body = (await jsonBody(c, true)) as { reason?: unknown };
    return c.json({
      revived: await warden.kills.revive(ALL_AGENTS, c.get('principal').name, reasonText(body)),
    });
  });

  app.get('/v1/audit', async (c) => {
    const denied = allow(c, CAN.read, 'read the audit log');
    if (denied) return denied;
    const q = c.req.query();
    const records = await warden.store.audit.query({
      ...(q.agent ? { agent: q.agent } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(q.actionId ? { actionId: q.actionId } : {}),
      ...(q.after ? { afterSeq: Number(q.after) } : {}),
      ...(q.before ? { beforeSeq: Number(q.before) } : {}),
      limit: Math.min(Number(q.limit ?? 100) || 100, 10_000),
      order: q.order === 'desc' ? 'desc' : 'asc',
    });
    return c.json({ records });
  });
  app.get('/v1/audit/verify', async (c) => {
    const denied = allow(c, CAN.read, 'verify the audit log');
    return denied ?? c.json(await warden.store.audit.verify());
  });

  app.get('/v1/approvals', async (c) => {
    const denied = allow(c, CAN.read, 'list approvals');
    if (denied) return denied;
    const status = c.req.query('status') ?? 'pending';
    if (!APPROVAL_STATUSES.includes(status as ApprovalStatus)) {
      return c.json(
        error('validate.invalid', `\`status\`: expected one of ${APPROVAL_STATUSES.join(', ')}`),
        400,
      );
    }
    const order = c.req.query('order') ?? 'asc';
    const limit = Number(c.req.query('limit') ?? 100);
    if ((order !== 'asc' && order !== 'desc') || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return c.json(
        error('validate.invalid', '`order`: expected `asc` or `desc`; `limit`: expected an integer 1–1000'),
        400,
      );
    }
    const list = await warden.approvals.list(status as ApprovalStatus, { order, limit });
    return c.json({ approvals: list });
  });
  for (const vote of ['approve', 'deny'] as const) {
    app.post(`/v1/approvals/:id/${vote}`, async (c) => {
      const denied = allow(c, CAN.vote, 'vote on approvals');
      if (denied) return denied;
      const body = (await jsonBody(c, true)) as { comment?: unknown; digest?: unknown };
      const p = c.get('principal');
      const record = await warden.approvals.vote({
        id: c.req.param('id'),
        approver: p.name,
        role: p.role,
        vote,
        channel: c.get('via') === 'session' ? 'dashboard' : 'api',
        ...(typeof body?.comment === 'string' ? { comment: body.comment } : {}),
        ...(typeof body?.digest === 'string' ? { digest: body.digest } : {}),
      });
      return c.json({ approval: record });
    });
  }

  registerApprovalRoutes(app, warden);
  registerEventRoutes(app, warden);
  registerAuditSearchRoutes(app, warden);
  registerMcpRoutes(app, warden, tokens);
  registerLimitsRoutes(app, warden);
  registerMonitoringRoutes(app, warden, tokens);

  app.notFound((c) =>
    c.json(error('http.not-found', `no route ${c.req.method} ${c.req.path}; see docs/api.md`), 404),
  );
  app.onError((err, c) => {
    if (err instanceof BadRequest) return c.json(error('validate.invalid', err.message), 400);
    if (err instanceof SubmissionError) return c.json(error(err.code, err.message), err.httpStatus);
    if (err instanceof ApprovalError) {
      const status =
        err.code === 'approval.not-found'
          ? 404
          : err.code === 'approval.self-approval' || err.code === 'approval.role-not-allowed'
            ? 403
            : 409;
      return c.json(error(err.code, err.message), status);
    }
    process.stderr.write(
      `${JSON.stringify({ level: 'error', msg: 'request failed', path: c.req.path, error: String(err.stack ?? err) })}\n`,
    );
    return c.json(
      error('internal.error', 'the request failed inside Warden; nothing was allowed. See the server log.'),
      500,
    );
  });
  return app;
}

export class BadRequest extends Error {}

/** `?wait=` as seconds (`30`) or a duration (`30s`, `1500ms`, `1m`), capped at 60 s. */
function waitMs(value: string | undefined): number {
  if (!value) return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new BadRequest(`\`wait\`: expected seconds or a duration such as \`30s\`, got \`${value}\``);
  const unit = m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000;
  return Math.min(Number(m[1]) * unit, 60_000);
}

export async function jsonBody(c: HonoContext<Env>, optional = false): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (optional) return {};
    throw new BadRequest('the request body is empty: send a JSON object');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new BadRequest(`the request body is not JSON (${(e as Error).message})`);
  }
}

function reasonText(body: { reason?: unknown } | null): string {
  return typeof body?.reason === 'string' ? body.reason : '';
}

/** Checks the caller's role; returns the 403 response to send, or undefined when allowed. */
export function forbidden(c: HonoContext<Env>, roles: readonly Role[], what: string): Response | undefined {
  const p = c.get('principal');
  if (roles.includes(p.role)) return undefined;
  return c.json(
    error('auth.forbidden', `role \`${p.role}\` may not ${what}; it needs one of ${roles.join(', ')}`),
    403,
  );
}

export function error(code: string, message: string) {
  return { error: { code, message } };
}
