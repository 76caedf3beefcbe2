import { Command } from 'ioredis';
import {
  BackendUnavailableError,
  type BudgetResult,
  type BudgetSpec,
  type Hold,
  type HoldRef,
  holdName,
  type LimitsBackend,
  type RateResult,
  type RateSpec,
  type TakeOp,
  type TakeResult,
} from '../backend.js';
import { DeadlineRedis } from './redis-deadlines.js';
import { PEEK_BUDGET, RATE, RESERVE, SESSION, SETTLE, UNRATE } from './redis-scripts.js';
import { ALL, type LoadedScript, ONE, oneRate, takeResults } from './redis-take-script.js';

export interface RedisBackendOptions {
  url: string;
  /** Prepended to every key (`<prefix>:lim:…`), so several deployments can share one Redis. */
  prefix: string;
  /** Longest wait for one command, and for a connection; past it the action is denied. */
  timeoutMs: number;
}

type Reply = (string | number | null)[];
const SCRIPTS = { RATE, UNRATE, RESERVE, SETTLE, PEEK_BUDGET, SESSION };
type ScriptName = keyof typeof SCRIPTS;
type ScriptCommand = (...args: unknown[]) => Promise<Reply>;
const UTF8 = { replyEncoding: 'utf8' } as const;

/**
 * Counters in Redis, shared by every process that uses the same URL and prefix. Each operation is
 * one Lua script (atomic on the server, timed by the server's clock). The client never queues:
 * with Redis unreachable a command fails at once (or after `timeoutMs`), the limiter denies with
 * `limits.unavailable`, and ioredis keeps reconnecting in the background, so limits work again as
 * soon as Redis is back. Not for Redis Cluster: one script touches several keys.
 */
export class RedisBackend implements LimitsBackend {
  readonly kind = 'redis';
  readonly redis: DeadlineRedis;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private lastError: string | undefined;
  /** Host and port, for messages (never the password). */
  private readonly where: string;

  constructor(options: RedisBackendOptions) {
    this.prefix = `${options.prefix}:lim:`;
    this.timeoutMs = options.timeoutMs;
    this.where = safeWhere(options.url);
    this.redis = new DeadlineRedis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(options.timeoutMs, 200),
      // One timer for every command in flight, not one each (see CommandDeadlines).
      commandTimeout: options.timeoutMs,
      // Keep trying, at most every 2 s: recovery needs no restart.
      retryStrategy: (times) => Math.min(times * 100, 2000),
      lazyConnect: true,
    });
    this.redis.on('error', (error: Error) => {
      const message = error.message;
      if (message !== this.lastError) {
        this.lastError = message;
        process.stderr.write(
          `${JSON.stringify({ level: 'warn', msg: 'limits backend redis unreachable; limited actions are denied', error: message })}\n`,
        );
      }
    });
    this.redis.on('ready', () => {
      this.lastError = undefined;
    });
    // ioredis sends each script as EVALSHA and, on NOSCRIPT (a restarted or flushed Redis), as EVAL,
    // which loads it again: one round trip per call either way.
    const commands: Partial<Record<ScriptName, ScriptCommand>> = {};
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      this.redis.defineCommand(`warden${name}`, { lua });
      commands[name as ScriptName] = (this.redis as unknown as Record<string, ScriptCommand>)[
        `warden${name}`
      ] as ScriptCommand;
    }
    this.commands = commands as Record<ScriptName, ScriptCommand>;
  }

  /** The scripts' ioredis commands, looked up once. */
  private readonly commands: Record<ScriptName, ScriptCommand>;

  /** Connects, waiting at most the timeout; a Redis that is down now is retried in the background. */
  async connect(): Promise<void> {
    await this.redis.connect().catch(() => undefined);
  }

  private call(name: ScriptName, keys: string[], args: (string | number)[]): Promise<Reply> {
    const command = this.commands[name];
    if (this.redis.status !== 'ready') return Promise.reject(this.unavailable());
    // ioredis' own errors (`Command timed out`, `Connection is closed.`) reach the limiter, which
    // denies with `limits.unavailable` and the message.
    return command.call(this.redis, keys.length, ...keys, ...args);
  }

  private unavailable(): BackendUnavailableError {
    const why = this.lastError ? ` (${this.lastError})` : '';
    return new BackendUnavailableError(`redis at ${this.where} is ${this.redis.status}${why}`);
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  /** A take of one sliding window (the most common limit) goes to TAKE_ONE, as in `takeAll`. */
  rate(specs: readonly RateSpec[], member: string, consume: boolean): Promise<RateResult> {
    const only = specs.length === 1 ? (specs[0] as RateSpec) : undefined;
    if (!consume || !only || only.bucket) return this.rateAll(specs, member, consume);
    if (this.redis.status !== 'ready') return Promise.reject(this.unavailable());
    return this.script(ONE, [ONE.sha, 1, this.prefix + only.key, member, only.windowMs, only.limit], oneRate);
  }

  private async rateAll(specs: readonly RateSpec[], member: string, consume: boolean): Promise<RateResult> {
    const args: (string | number)[] = [consume ? 1 : 0, member];
    for (const s of specs) args.push(s.windowMs, s.limit, s.bucket?.capacity ?? 0);
    const reply = await this.call(
      'RATE',
      specs.map((s) => this.k(s.key)),
      args,
    );
    const hit = Number(reply[0]) - 1;
    return {
      ok: hit < 0,
      hit,
      now: Number(reply[1]),
      retryAfterMs: Number(reply[2]),
      used: reply.slice(3).map(Number),
    };
  }

  /**
   * Every limit of an action in one script call: one round trip, atomic across all of them. One
   * sliding window alone (the most common limit) goes to TAKE_ONE, which answers one integer.
   */
  takeAll(ops: readonly TakeOp[]): Promise<TakeResult[]> {
    if (this.redis.status !== 'ready') return Promise.reject(this.unavailable());
    const first = ops[0];
    if (ops.length === 1 && first?.kind === 'rate' && first.specs.length === 1) {
      const spec = first.specs[0] as RateSpec;
      if (!spec.bucket)
        return this.script(
          ONE,
          [ONE.sha, 1, this.prefix + spec.key, first.member, spec.windowMs, spec.limit],
          (reply) => [{ kind: 'rate', rate: oneRate(reply) }],
        );
    }
    const keys: string[] = [];
    const args: (string | number)[] = [ops.length];
    for (const op of ops) {
      if (op.kind === 'rate') {
        args.push('r', op.specs.length, op.member);
        for (const s of op.specs) {
          keys.push(this.prefix + s.key);
          args.push(s.windowMs, s.limit, s.bucket?.capacity ?? 0);
        }
      } else {
        const { budget, hold } = op;
        const name = holdName(hold);
        keys.push(...this.budgetKeys(budget.key), this.k(`hold:${name}`));
        args.push('b', name, hold.micros, budget.limitMicros, hold.ttlMs, budget.expiresAt, budget.key);
      }
    }
    return this.script(ALL, [ALL.sha, keys.length, ...keys, ...args], (reply) =>
      takeResults(ops, reply as number[]),
    );
  }

  /**
   * EVALSHA sent as one prebuilt ioredis command (`args[0]` is the sha): no script-command wrapper
   * and one promise layer, the reply parsed in it. On NOSCRIPT (a restarted or flushed Redis) the
   * same arguments go as EVAL, which loads the script again.
   */
  private script<T>(
    script: LoadedScript,
    args: (string | number)[],
    parse: (reply: unknown) => T,
  ): Promise<T> {
    const sent = this.redis.sendCommand(new Command('evalsha', args, UTF8)) as Promise<unknown>;
    return sent.then(parse, (error: Error) => {
      if (!String(error?.message).includes('NOSCRIPT')) throw error;
      args[0] = script.lua;
      return (this.redis.sendCommand(new Command('eval', args, UTF8)) as Promise<unknown>).then(parse);
    });
  }

  async unrate(specs: readonly RateSpec[], member: string): Promise<void> {
    const args: (string | number)[] = [member];
    for (const s of specs) args.push(s.windowMs, s.limit, s.bucket?.capacity ?? 0);
    await this.call(
      'UNRATE',
      specs.map((s) => this.k(s.key)),
      args,
    );
  }

  private budgetKeys(key: string): string[] {
    const base = this.k(key);
    return [base, `${base}#h`, `${base}#x`];
  }

  async reserve(budget: BudgetSpec, hold: Hold, consume: boolean): Promise<BudgetResult> {
    const keys = this.budgetKeys(budget.key);
    const name = holdName(hold);
    const reply = consume
      ? await this.call(
          'RESERVE',
          [...keys, this.k(`hold:${name}`)],
          [1, name, hold.micros, budget.limitMicros, hold.ttlMs, budget.expiresAt, budget.key],
        )
      : await this.call('PEEK_BUDGET', keys, []).then((r) => {
          const spent = Number(r[0]);
          const reserved = Number(r[1]);
          return [spent + reserved + hold.micros <= budget.limitMicros ? 1 : 0, spent, reserved];
        });
    return { ok: Number(reply[0]) === 1, spent: Number(reply[1]), reserved: Number(reply[2]) };
  }

  async settle(key: string, hold: HoldRef, micros: number | undefined): Promise<void> {
    await this.call('SETTLE', this.budgetKeys(key), [holdName(hold), micros ?? -1, 0]);
  }

  async release(key: string, hold: HoldRef): Promise<void> {
    await this.call('SETTLE', this.budgetKeys(key), [holdName(hold), 0, 1]);
  }

  async holdKeys(hold: HoldRef): Promise<string[]> {
    if (this.redis.status !== 'ready') throw this.unavailable();
    return this.redis.smembers(this.k(`hold:${holdName(hold)}`));
  }

  async session(key: string, ttlMs: number, consume: boolean): Promise<number | undefined> {
    const reply = (await this.call('SESSION', [this.k(key)], [consume ? 1 : 0, ttlMs])) as unknown;
    return reply === null || reply === undefined ? undefined : Number(reply);
  }

  async keys(prefix: string): Promise<string[]> {
    if (this.redis.status !== 'ready') throw this.unavailable();
    const found = new Set<string>();
    const pattern = `${this.k(prefix).replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      for (const key of batch) if (!key.includes('#')) found.add(key.slice(this.prefix.length));
    } while (cursor !== '0');
    return [...found].sort();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  /** A PING round trip, for the bench's baseline. */
  ping(): Promise<string> {
    return this.redis.ping();
  }

  get timeout(): number {
    return this.timeoutMs;
  }
}

function safeWhere(url: string): string {
  try {
    return new URL(url).host || 'the configured URL';
  } catch {
    return 'the configured URL';
  }
}
