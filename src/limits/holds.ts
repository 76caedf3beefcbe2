import type { Limiter, Reservation } from './limiter.js';
import { releaseAll } from './reservations.js';

/** How an action the agent executed itself ended, and what it cost when known. */
export type SettleOutcome = { completed: boolean; usd?: number; output?: unknown };

/**
 * The limit holds of actions that agents execute themselves (`decide()`, then a reported
 * result): kept until the agent reports, then settled with the actual cost or released.
 */
export class Holds {
  // By action id, then agent: a client-chosen id is scoped to its agent, so two agents' actions
  // may share an id and must not take (or settle) each other's holds.
  readonly #held = new Map<string, Map<string, Reservation[]>>();

  constructor(private readonly limiters: readonly Limiter[]) {}

  /** Keeps `held` until the result of `agent`'s action `actionId` is reported. */
  keep(actionId: string, held: Reservation[], agent = ''): void {
    if (held.length === 0) return;
    let byAgent = this.#held.get(actionId);
    if (!byAgent) {
      byAgent = new Map();
      this.#held.set(actionId, byAgent);
    }
    byAgent.set(agent, held);
  }

  /**
   * Settles (or, when the action failed, releases) the holds of `agent`'s action `actionId`
   * (without an agent, of the first agent that kept holds here under that id): with the provider's
   * usage in `output`, else `usd` (the actual cost), else the amount held. Holds taken in another
   * process, or before a restart, are found in durable backends under the agent and the id, so
   * only a call that names the agent settles them.
   */
  async settle(actionId: string, outcome: SettleOutcome, agent?: string): Promise<void> {
    const byAgent = this.#held.get(actionId);
    const who = agent ?? byAgent?.keys().next().value;
    let held = who === undefined ? undefined : byAgent?.get(who);
    if (who !== undefined) byAgent?.delete(who);
    if (byAgent?.size === 0) this.#held.delete(actionId);
    // Not held here: taken by another process, or before a restart; durable limiters still know it.
    held ??= agent === undefined ? [] : await this.#resume(actionId, agent);
    if (held.length === 0) return;
    if (!outcome.completed) return releaseAll(held, { ran: true });
    const actual = {
      ...(outcome.usd === undefined ? {} : { usd: outcome.usd }),
      ...(outcome.output === undefined ? {} : { output: outcome.output }),
    };
    await Promise.allSettled(held.map((r) => r.settle(actual)));
  }

  async #resume(actionId: string, agent: string): Promise<Reservation[]> {
    const found = await Promise.allSettled(this.limiters.map((l) => l.resume?.(actionId, agent)));
    return found.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  }
}
