import { canonicalJson, sha256Hex } from '../../audit/canonical-json.js';
import { type LimitsView, limitsView } from '../../limits/usage.js';
import type { Warden } from '../../pipeline/warden.js';
import { insightsOf } from '../../store/insights.js';
import { type App, fail, query, type ServerDeps, text } from '../http.js';

/** Decisions read to name what a loop counter counts, at most, per counter. */
const LOOKBACK = 2000;

/**
 * `GET /v1/limits[?agent=A]`: each agent's usage against its limits (docs/api.md). Viewers,
 * approvers and admins see every agent; an agent token sees only its own, whatever it asks.
 * A loop counter's entry also says which call it counts (`counts: "fs.list /data/research"`),
 * found in the audit. The backend unreachable: 503 `limits.unavailable`.
 */
export function registerLimitsRoutes(app: App, { warden }: ServerDeps): void {
  app.get('/v1/limits', async (c) => {
    const p = c.get('principal');
    const asked = query(c, { agent: text().optional() }).agent;
    if (p.role === 'agent' && asked !== undefined && asked !== p.agent) {
      return fail(c, 'auth.wrong-agent', `this token acts for agent \`${p.agent}\`, not \`${asked}\``);
    }
    const agent = p.role === 'agent' ? (p.agent as string) : asked || undefined;
    let view: LimitsView;
    try {
      view = await limitsView(warden.limiters, agent);
    } catch (error) {
      return fail(
        c,
        'limits.unavailable',
        `the limits backend did not answer (${(error as Error).message}); retry shortly`,
      );
    }
    await nameLoopCalls(warden, view).catch(() => undefined);
    return c.json(view);
  });
}

/**
 * A loop counter is keyed by a digest of the call it counts (`agent/session/digest`): find the
 * decision of that session whose `{ type, params }` has that digest (as `build-limiters.ts`
 * computes it) and say what it was, so that three `loop` rows of one agent read as three calls.
 */
async function nameLoopCalls(warden: Warden, view: LimitsView): Promise<void> {
  const insights = insightsOf(warden.store);
  for (const { agent, limits } of view.agents) {
    for (const entry of limits) {
      if (entry.kind !== 'loop') continue;
      const parts = entry.key.split('/');
      const digest = parts.at(-1) ?? '';
      const session = parts.length >= 3 ? parts.at(-2) : undefined;
      const records =
        session && session !== '-'
          ? await insights.sessionRecords(agent, session, LOOKBACK)
          : await warden.store.audit.query({ agent, type: 'decision', order: 'desc', limit: LOOKBACK });
      for (const r of records) {
        const a =
          r.type === 'decision'
            ? (r.data.action as { type?: unknown; params?: unknown } | undefined)
            : undefined;
        if (typeof a?.type !== 'string') continue;
        const params = a.params ?? {};
        if (sha256Hex(canonicalJson({ type: a.type, params })).slice(0, 16) !== digest) continue;
        entry.counts = `${a.type} ${callWords(params)}`.trim();
        break;
      }
    }
  }
}

/** The param that says most about a call (`path`, `url`, `command`, `sql`…), else the first one. */
function callWords(params: unknown): string {
  const p = (params ?? {}) as Record<string, unknown>;
  const key = ['path', 'url', 'command', 'sql', 'query', 'to', 'model'].find((k) => p[k] !== undefined);
  const value = key ? p[key] : Object.values(p)[0];
  const text =
    typeof value === 'string'
      ? value
      : Array.isArray(value)
        ? value.map(String).join(' ')
        : value === undefined
          ? ''
          : String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
