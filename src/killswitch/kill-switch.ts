import type { Reason } from '../contract/decision.js';
import type { AuditSink } from '../contract/records.js';
import type { Stage } from '../policy/context.js';
import type { KillState, KillStore } from '../store/store.js';

/** What a kill stops: an in-flight run (an AbortController, or Warden's RunControl). */
export interface Abortable {
  abort(reason: unknown): void;
}

/** The deny-everyone states taken while the kill list cannot be read (their reason is `store.unavailable`). */
const UNREADABLE = new WeakSet<KillState>();

/** The name that stands for every agent. */
export const ALL_AGENTS = '*';

/**
 * Stops agents. The state lives in the store, so it holds across restarts and reaches every
 * process sharing the store (each one watches it); the in-memory copy makes the check synchronous.
 * A kill also aborts the agent's in-flight `run()` calls through their AbortSignal.
 */
export class KillSwitch {
  private killed = new Map<string, KillState>();
  private readonly inflight = new Map<string, Set<Abortable>>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly store: KillStore,
    private readonly audit: AuditSink,
  ) {}

  /** Loads the persisted state and starts following changes from other processes. */
  async start(intervalMs = 250): Promise<void> {
    this.apply(await this.store.list());
    this.unwatch = this.store.watch(
      (list) => this.apply(list),
      intervalMs,
      (error) => this.health(error, intervalMs),
    );
  }

  // Reads that keep failing for about a second leave the stop list unknown: deny everyone until a
  // read succeeds again (fail closed), rather than trust a list that may miss a kill.
  private failures = 0;
  private unknown: KillState | undefined;

  private health(error: unknown, intervalMs: number): void {
    if (error === undefined) {
      this.failures = 0;
      this.unknown = undefined;
      return;
    }
    this.failures++;
    if (!this.unknown && this.failures * intervalMs >= 1000) {
      this.unknown = {
        agent: ALL_AGENTS,
        by: 'warden',
        at: new Date().toISOString(),
        reason: `the kill-switch state cannot be read from the store (${String(error)}); every action is denied until it can`,
      };
      UNREADABLE.add(this.unknown);
      process.stderr.write(
        `${JSON.stringify({ level: 'error', msg: 'kill-switch state unreadable; failing closed', error: String(error) })}\n`,
      );
    }
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** The stop that applies to `agent` (its own, or the global one), if any. */
  stateOf(agent: string): KillState | undefined {
    if (this.unknown) return this.unknown;
    if (this.killed.size === 0) return undefined;
    return this.killed.get(ALL_AGENTS) ?? this.killed.get(agent);
  }

  list(): KillState[] {
    return [...this.killed.values()];
  }

  async kill(agent: string, by: string, reason: string): Promise<KillState> {
    const state: KillState = { agent, reason, by, at: new Date().toISOString() };
    await this.store.kill(state);
    this.apply([...this.killed.values(), state]);
    await this.audit.append({
      type: 'kill',
      ...(agent === ALL_AGENTS ? {} : { agent }),
      actor: by,
      data: { scope: agent === ALL_AGENTS ? 'all' : 'agent', reason },
    });
    return state;
  }

  /** Returns false when the agent was not killed. */
  async revive(agent: string, by: string, reason = ''): Promise<boolean> {
    const was = await this.store.revive(agent);
    if (!was) return false;
    this.apply([...this.killed.values()].filter((k) => k.agent !== agent));
    await this.audit.append({
      type: 'revive',
      ...(agent === ALL_AGENTS ? {} : { agent }),
      actor: by,
      data: { scope: agent === ALL_AGENTS ? 'all' : 'agent', reason },
    });
    return true;
  }

  /** Registers an in-flight run; the returned function unregisters it. */
  track(agent: string, controller: Abortable): () => void {
    let set = this.inflight.get(agent);
    if (!set) {
      set = new Set();
      this.inflight.set(agent, set);
    }
    set.add(controller);
    return () => {
      set.delete(controller);
      if (set.size === 0) this.inflight.delete(agent);
    };
  }

  /**
   * Watches one run of `agent` until the returned function is called: a stop aborts it with the
   * kill's reason, and so does a stop that arrived before the run was tracked.
   */
  watch(agent: string, controller: Abortable): () => void {
    const untrack = this.track(agent, controller);
    this.recheck(agent, controller);
    return untrack;
  }

  /** Aborts `controller` when `agent` is stopped now (the re-check before execution). */
  recheck(agent: string, controller: Abortable): void {
    const stop = this.stateOf(agent);
    if (stop) controller.abort(killReason(agent, stop));
  }

  private apply(list: readonly KillState[]): void {
    const next = new Map(list.map((k) => [k.agent, k]));
    this.killed = next;
    if (next.size === 0) return;
    for (const [agent, controllers] of this.inflight) {
      const stop = next.get(ALL_AGENTS) ?? next.get(agent);
      if (!stop) continue;
      for (const controller of controllers) controller.abort(killReason(agent, stop));
    }
  }
}

export function killReason(agent: string, stop: KillState): Reason {
  if (UNREADABLE.has(stop)) return { code: 'store.unavailable', stage: 'killswitch', message: stop.reason };
  const scope = stop.agent === ALL_AGENTS ? 'all agents are stopped' : `agent \`${agent}\` is stopped`;
  return {
    code: stop.agent === ALL_AGENTS ? 'killswitch.all-killed' : 'killswitch.agent-killed',
    stage: 'killswitch',
    message: `${scope} by ${stop.by} at ${stop.at}: ${stop.reason || 'no reason given'}; an operator must revive it`,
  };
}

/** Stage 1: a stopped agent (or a global stop) is denied before anything else. */
export function killSwitchStage(kills: Pick<KillSwitch, 'stateOf'>): Stage {
  return {
    name: 'killswitch',
    run: function killSwitch(ctx) {
      const input = ctx.input as { agent?: unknown } | null;
      const agent = typeof input?.agent === 'string' ? input.agent : '';
      const stop = kills.stateOf(agent);
      return stop ? killReason(agent, stop) : undefined;
    },
  };
}
