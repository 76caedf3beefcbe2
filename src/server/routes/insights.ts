import { existsSync, readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { splitRecords } from '../../contract/records.js';
import { proposePrevention } from '../../incident/prevent.js';
import { reportHtml, reportMarkdown } from '../../incident/render.js';
import { buildIncidentReport } from '../../incident/report.js';
import { buildSessionTrace } from '../../incident/session-trace.js';
import { limitsView } from '../../limits/usage.js';
import type { Warden } from '../../pipeline/warden.js';
import { insightsOf } from '../../store/insights.js';
import {
  type App,
  type AppContext,
  BadRequest,
  CAN,
  forbidden,
  integer,
  oneOf,
  pathParam,
  query,
  type ServerDeps,
  text,
} from '../http.js';

/** Overview windows: how far back, and the bucket width of its decision chart. */
const WINDOWS = {
  '1h': { ms: 3_600_000, bucketSeconds: 60 },
  '6h': { ms: 6 * 3_600_000, bucketSeconds: 300 },
  '24h': { ms: 24 * 3_600_000, bucketSeconds: 600 },
} as const;
const MARKERS = ['anomaly', 'kill', 'revive'] as const;
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const DURATION = /^(\d{1,6})(m|h|d)$/;

/**
 * The dashboard's read endpoints over the store's audit insights (docs/dashboard.md, docs/api.md):
 * `GET /v1/overview`, `GET /v1/sessions`, `GET /v1/sessions/{agent}/{session}`,
 * `GET /v1/actions-trace/{agent}/{id}` (one action without a session),
 * `GET /v1/incident` and (admins) `GET /v1/incident/export`.
 */
export function registerInsightRoutes(app: App, { warden }: ServerDeps): void {
  const insights = insightsOf(warden.store);
  // Roll up what the log holds now, in the background, so the first overview does not wait for it.
  setImmediate(() => insights.catchUp?.().catch(() => undefined));

  app.get('/v1/overview', async (c) => {
    const denied = forbidden(c, CAN.read, 'read the overview');
    if (denied) return denied;
    const q = query(c, { window: oneOf(['1h', '6h', '24h']).optional() });
    const name = q.window ?? '1h';
    const w = WINDOWS[name];
    const started = performance.now();
    const now = Date.now();
    // Up to the end of the current minute, from the start of the minute a window ago.
    const until = new Date(Math.floor(now / 60_000) * 60_000 + 60_000);
    const since = new Date(until.getTime() - w.ms);
    const window = { since: since.toISOString(), until: until.toISOString(), bucketSeconds: w.bucketSeconds };
    const [aggregates, markers, pending, budgets] = await Promise.all([
      insights.aggregates({ ...window, reasons: 8 }),
      Promise.all(MARKERS.map((type) => warden.store.audit.query({ type, order: 'desc', limit: 200 }))),
      warden.store.approvals.list({ status: 'pending', limit: 200 }),
      budgetsOf(warden),
    ]);
    const events = markers
      .flat()
      .filter((r) => r.ts >= window.since)
      .sort((a, b) => a.seq - b.seq)
      .map((r) => ({
        seq: r.seq,
        ts: r.ts,
        type: r.type,
        agent: r.agent ?? '*',
        ...(r.actionId ? { actionId: r.actionId } : {}),
        ...(r.actor ? { actor: r.actor } : {}),
        code: typeof r.data.code === 'string' ? r.data.code : r.type,
        message: String(r.data.message ?? r.data.reason ?? ''),
      }));
    return c.json({
      window: name,
      ...window,
      ...aggregates,
      budgets,
      events,
      approvals: pending.map((a) => ({
        id: a.id,
        agent: a.agent,
        actionId: a.actionId,
        type: a.action.type,
        risk: a.decision.risk,
        createdAt: a.createdAt,
        ageSeconds: Math.max(0, Math.round((now - Date.parse(a.createdAt)) / 1000)),
        votes: a.votes.length,
        required: a.required,
        ...(a.action.session ? { session: a.action.session } : {}),
      })),
      serverMs: Math.round((performance.now() - started) * 100) / 100,
    });
  });

  app.get('/v1/sessions', async (c) => {
    const denied = forbidden(c, CAN.read, 'read sessions');
    if (denied) return denied;
    const q = query(c, { agent: text(200), limit: integer(1, 500).optional() });
    if (!q.agent) throw new BadRequest('`agent`: expected an agent name, got nothing');
    return c.json({ agent: q.agent, sessions: await insights.sessions(q.agent, q.limit ?? 100) });
  });

  app.get('/v1/sessions/:agent/:session', async (c) => {
    const denied = forbidden(c, CAN.read, 'read session traces');
    if (denied) return denied;
    const agent = pathParam(c, 'agent');
    const session = pathParam(c, 'session');
    const q = query(c, { limit: integer(1, 10_000).optional() });
    const records = await insights.sessionRecords(agent, session, q.limit ?? 1000);
    const observations = await warden.listObservations(agent, session);
    return c.json({
      agent,
      session,
      records: records.length,
      steps: buildSessionTrace(records, observations),
    });
  });

  app.get('/v1/actions-trace/:agent/:id', async (c) => {
    const denied = forbidden(c, CAN.read, 'read action traces');
    if (denied) return denied;
    const agent = pathParam(c, 'agent');
    const actionId = pathParam(c, 'id');
    const records = splitRecords(await warden.store.audit.query({ agent, actionId, limit: 1000 }));
    return c.json({ agent, actionId, records: records.length, steps: buildSessionTrace(records) });
  });

  app.get('/v1/incident', async (c) => {
    const denied = forbidden(c, CAN.read, 'read incident reports');
    if (denied) return denied;
    const { report, prevention } = await incident(c, warden);
    return c.json({ report, prevention });
  });

  app.get('/v1/incident/export', async (c) => {
    const denied = forbidden(c, CAN.operate, 'export incident reports');
    if (denied) return denied;
    const format = query(c, { format: oneOf(['md', 'html', 'json']).optional() }).format ?? 'md';
    const { report, prevention } = await incident(c, warden);
    const name = `incident-${report.agent.replace(/[^\w.-]/g, '_')}-${report.since.slice(0, 16).replace(':', '')}.${format}`;
    const body =
      format === 'json'
        ? JSON.stringify({ report, prevention }, null, 2)
        : format === 'html'
          ? reportHtml(report)
          : `${reportMarkdown(report)}\n## Proposed policy change\n\n${prevention.diff ? `\`\`\`diff\n${prevention.diff}\`\`\`\n` : 'none\n'}`;
    const type = { md: 'text/markdown', html: 'text/html', json: 'application/json' }[format];
    return c.body(body, 200, {
      'content-type': `${type}; charset=utf-8`,
      'content-disposition': `attachment; filename="${name}"`,
    });
  });
}

/** The report of `?agent=&since=&until=` and the policy change that would have stopped it. */
async function incident(c: AppContext, warden: Warden) {
  const q = query(c, { agent: text(200), since: text(40).optional(), until: text(40).optional() });
  if (!q.agent) throw new BadRequest('`agent`: expected an agent name, got nothing');
  const until = q.until ? when(q.until, 'until') : new Date();
  const since = when(q.since ?? '24h', 'since');
  if (until < since) throw new BadRequest('`until` is before `since`: swap them');
  const report = await buildIncidentReport(warden.store.audit, q.agent, since, until);
  const source = warden.policy.source;
  const fromFile = existsSync(source);
  const policyText = fromFile ? readFileSync(source, 'utf8') : stringify(warden.policy.config);
  const file = fromFile ? source : 'warden.yaml';
  try {
    const p = proposePrevention(report, policyText, file);
    return {
      report,
      prevention: {
        policy: file,
        fromFile,
        diff: p.diff,
        proposals: p.proposals,
        rates: p.rates,
        advice: p.advice,
      },
    };
  } catch (error) {
    return {
      report,
      prevention: {
        policy: file,
        fromFile,
        diff: '',
        proposals: [],
        rates: [],
        advice: [`no proposal: ${(error as Error).message.split('\n')[0]}`],
      },
    };
  }
}

/** `2026-01-31T09:00:00Z`, `2026-01-31`, or a duration ago: `30m`, `2h`, `7d`. */
function when(value: string, name: string): Date {
  const d = DURATION.exec(value);
  if (d) return new Date(Date.now() - Number(d[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 'm']);
  const t = ISO.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t))
    throw new BadRequest(
      `\`${name}\`: expected an ISO time such as \`2026-01-31T09:00:00Z\` or a duration ago such as \`2h\`, got \`${value}\``,
    );
  return new Date(t);
}

/** Each agent's budget limits now (kind `budget`), for the spend chart's budget line. */
async function budgetsOf(warden: Warden) {
  try {
    const view = await limitsView(warden.limiters);
    return view.agents.flatMap((a) =>
      a.limits
        .filter((l) => l.kind === 'budget')
        .map((l) => ({ agent: a.agent, name: l.name, usd: l.limit, used: l.used, window: l.window })),
    );
  } catch {
    return [];
  }
}
