import type { Limiter, Reservation } from './limiter.js';
import { releaseAll } from './reservations.js';

/**
 * The limit holds of actions that agents execute themselves (`decide()`, then a reported
 * result): kept until the agent reports, then settled with the actual cost or released.
 */
export class Holds {
  readonly #held = new Map<string, Reservation[]>();

  constructor(private readonly limiters: readonly Limiter[]) {}

  /** Keeps `held` until the result of `actionId` is reported. */
  keep(actionId: string, held: Reservation[]): void {
    if (held.length > 0) this.#held.set(actionId, held);
  }

  /**
   * Settles (or, when the action failed, releases) the holds of `actionId`: with the provider's
   * usage in `output`, else `usd` (the actual cost), else the amount held.
   */
  async settle(
    actionId: string,
    outcome: { completed: boolean; usd?: number; output?: unknown },
  ): Promise<void> {
    let held = this.#held.get(actionId);
    this.#held.delete(actionId);
    // Not held here: taken by another process, or before a restart; durable limiters still know it.
    held ??= await this.#resume(actionId);
    if (held.length === 0) return;
    if (!outcome.completed) return releaseAll(held, { ran: true });
    const actual = {
      ...(outcome.usd === undefined ? {} : { usd: outcome.usd }),
      ...(outcome.output === undefined ? {} : { output: outcome.output }),
    };
    await Promise.allSettled(held.map((r) => r.settle(actual)));
  }

  async #resume(actionId: string): Promise<Reservation[]> {
    const found = await Promise.allSettled(this.limiters.map((l) => l.resume?.(actionId)));
    return found.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  }
}
