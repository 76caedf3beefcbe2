import { Hono } from 'hono';
import { Submissions } from '../pipeline/submissions.js';
import type { Warden } from '../pipeline/warden.js';
import { notFound, onError } from './error-handler.js';
import type { App, Env, ServerDeps } from './http.js';
import { limitBodySize, requireAuth } from './middleware.js';
import { registerActionRoutes } from './routes/actions.js';
import { registerAgentRoutes } from './routes/agents.js';
import { registerApprovalRoutes } from './routes/approvals.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerAuditSearchRoutes } from './routes/audit-search.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerInsightRoutes } from './routes/insights.js';
import { registerKillSwitchRoutes } from './routes/killswitch.js';
import { registerLimitsRoutes } from './routes/limits.js';
import { registerMcpRoutes } from './routes/mcp.js';
import { registerMonitoringRoutes } from './routes/monitoring.js';
import { registerObservationRoutes } from './routes/observations.js';
import { registerReviewRoutes } from './routes/review.js';
import { registerSlackRoutes } from './routes/slack.js';
import { Sessions } from './session.js';
import type { TokenRegistry } from './tokens.js';

/**
 * The control plane HTTP API (SPEC §6). Every route but `/healthz` needs a bearer token; a
 * missing or unknown token is 401, a role that may not act is 403. Errors are JSON:
 * `{ "error": { "code", "message" } }`, with the status `http-status.ts` gives the code.
 *
 * @example startServer(warden, tokens) serves `createApp(warden, tokens).fetch`.
 */
export function createApp(warden: Warden, tokens: TokenRegistry): App {
  const app = new Hono<Env>();
  const deps: ServerDeps = { warden, tokens, sessions: new Sessions(), submissions: new Submissions(warden) };

  // INVARIANT: order matters. What is registered before `requireAuth` is open to anyone or
  // authenticates itself (the dashboard's pages and login, Slack's signed callbacks); every
  // other `/v1/*` route runs after it and can rely on `principal`.
  registerHealthRoutes(app, deps);
  app.use('/v1/*', limitBodySize());
  registerDashboardRoutes(app, deps);
  registerSlackRoutes(app, deps);
  app.use('/v1/*', requireAuth(deps));

  registerActionRoutes(app, deps);
  registerObservationRoutes(app, deps);
  registerReviewRoutes(app, deps);
  registerAgentRoutes(app, deps);
  registerKillSwitchRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerApprovalRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerAuditSearchRoutes(app, deps);
  registerMcpRoutes(app, deps);
  registerLimitsRoutes(app, deps);
  registerMonitoringRoutes(app, deps);
  registerInsightRoutes(app, deps);

  app.notFound(notFound);
  app.onError(onError);
  return app;
}
