import type { Reason } from '../contract/decision.js';
import type { Context } from '../policy/context.js';
import type { LimitsBackend } from './backend.js';
import { limitReason, unavailableReason, waitWords } from './limit-reasons.js';
import { type Limiter, type LimitUsage, NOTHING_HELD, type Reservation } from './limiter.js';
import { type ActionMatcher, displayKey, parseKey, scopeKey } from './subject.js';

export interface DurationRule {
  maxMs: number;
  label: string;
  sessionTtlMs: number;
  applies: ActionMatcher;
}

/**
 * The guide's `max_execution_time`: a session may act for at most `maxMs` of wall-clock time from
 * its first admitted action. Actions without a `session` are not timed.
 */
export class DurationLimiter implements Limiter {
  readonly name = 'duration';

  constructor(
    private readonly rule: DurationRule,
    private readonly backend: LimitsBackend,
  ) {}

  private key(ctx: Context): string | undefined {
    if (ctx.action.session === undefined || !this.rule.applies(ctx.action)) return undefined;
    return `duration:session:${scopeKey(['agent', 'session'], ctx.action)}`;
  }

  async peek(ctx: Context): Promise<Reason | undefined> {
    const got = await this.check(ctx, false);
    return 'denied' in got ? got.denied : undefined;
  }

  counts(ctx: Context): boolean {
    return this.key(ctx) !== undefined;
  }

  async acquire(ctx: Context): Promise<{ denied: Reason } | { reservation: Reservation }> {
    const got = await this.check(ctx, true);
    return 'denied' in got ? got : { reservation: NOTHING_HELD };
  }

  private async check(ctx: Context, consume: boolean): Promise<{ denied: Reason } | { ok: true }> {
    const key = this.key(ctx);
    if (!key) return { ok: true };
    let start: number | undefined;
    try {
      start = await this.backend.session(key, this.rule.sessionTtlMs, consume);
    } catch (error) {
      return { denied: unavailableReason(this.backend, this.name, error) };
    }
    const now = Date.now();
    const elapsed = start === undefined ? 0 : now - start;
    if (elapsed <= this.rule.maxMs) return { ok: true };
    return {
      denied: limitReason(
        'limits.duration',
        `session \`${ctx.action.session}\` has run for ${waitWords(elapsed)}, over its limit of ${this.rule.label} (limits.duration); start a new session`,
        {
          name: 'duration:session',
          kind: 'duration',
          scope: 'session',
          key: displayKey(parseKey(key).scope),
          used: elapsed,
          reserved: 0,
          limit: this.rule.maxMs,
          unit: 'ms',
          window: 'session',
        },
      ),
    };
  }

  async usage(agent?: string): Promise<LimitUsage[]> {
    const out: LimitUsage[] = [];
    const now = Date.now();
    for (const key of await this.backend.keys('duration:session:')) {
      const parsed = parseKey(key);
      const owner = parsed.scope.get('agent') ?? '*';
      if (agent !== undefined && owner !== agent) continue;
      const start = await this.backend.session(key, this.rule.sessionTtlMs, false);
      if (start === undefined) continue;
      out.push({
        agent: owner,
        name: 'duration:session',
        kind: 'duration',
        scope: 'session',
        key: displayKey(parsed.scope),
        used: now - start,
        reserved: 0,
        limit: this.rule.maxMs,
        unit: 'ms',
        window: 'session',
        resetsAt: new Date(start + this.rule.maxMs).toISOString(),
      });
    }
    return out;
  }
}
