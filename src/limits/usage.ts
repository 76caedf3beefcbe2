import type { Limiter, LimitUsage } from './limiter.js';

/** `GET /v1/limits` and `warden limits --json` (contract: the dashboard reads this shape). */
export interface LimitsView {
  /** `counts`: what a loop counter counts (`fs.list /data/research`), when the server found it in the audit. */
  agents: { agent: string; limits: (Omit<LimitUsage, 'agent'> & { counts?: string })[] }[];
}

/**
 * Every limiter's usage, grouped by agent (agents in name order; `*` holds limits shared across
 * agents, such as per-user ones). With `agent`, only that agent's entries.
 */
export async function limitsView(limiters: readonly Limiter[], agent?: string): Promise<LimitsView> {
  const byAgent = new Map<string, Omit<LimitUsage, 'agent'>[]>();
  for (const limiter of limiters) {
    if (!limiter.usage) continue;
    for (const { agent: owner, ...entry } of await limiter.usage(agent)) {
      const list = byAgent.get(owner) ?? [];
      if (list.length === 0) byAgent.set(owner, list);
      list.push(entry);
    }
  }
  return {
    agents: [...byAgent.keys()].sort().map((name) => ({ agent: name, limits: byAgent.get(name) ?? [] })),
  };
}
