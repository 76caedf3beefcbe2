import { WardenError } from '../contract/errors.js';

/**
 * Where limit counters live. Every operation is atomic on the backend: a `rate` call checks and
 * takes a slot in all its windows at once, a `reserve` checks and holds budget at once, so
 * processes sharing a backend can never admit more than the limit between them.
 * Money is in integer micro-dollars (1 USD = 1,000,000), so sums never drift.
 */
export interface LimitsBackend {
  readonly kind: 'memory' | 'sqlite' | 'redis' | 'postgres';
  /**
   * Checks every window and, when all admit and `consume` is set, takes a slot in each under
   * `member` (the action: `holdName` of its agent and id). Denies as soon as one window is full.
   */
  rate(specs: readonly RateSpec[], member: string, consume: boolean): Promise<RateResult>;
  /** Gives back the slots `member` took (the action never ran). */
  unrate(specs: readonly RateSpec[], member: string): Promise<void>;
  /** Holds `hold.micros` against the budget when spent + reserved + it ≤ limit (and `consume`). */
  reserve(budget: BudgetSpec, hold: Hold, consume: boolean): Promise<BudgetResult>;
  /** Turns a hold into spend: `micros` (the actual cost), or the held amount when undefined. */
  settle(key: string, hold: HoldRef, micros: number | undefined): Promise<void>;
  /** Drops a hold without spending. */
  release(key: string, hold: HoldRef): Promise<void>;
  /** The budget keys still holding `hold` (for a result reported after a restart). */
  holdKeys(hold: HoldRef): Promise<string[]>;
  /** When the session behind `key` started; with `consume`, starts it now if it had not. */
  session(key: string, ttlMs: number, consume: boolean): Promise<number | undefined>;
  /** Keys that exist (not expired) and start with `prefix`, for `warden limits`. */
  keys(prefix: string): Promise<string[]>;
  /**
   * Optional: all of an action's limits in one atomic call (one round trip to a shared backend).
   * Every op is checked first; only when all admit is each taken (a rate slot under `member`, a
   * budget hold), so a refusal takes nothing anywhere. Results are in `ops` order; on a refusal
   * the ops after the refusing one may report figures without having been checked to the end.
   */
  takeAll?(ops: readonly TakeOp[]): Promise<TakeResult[]>;
  close(): Promise<void>;
}

/** One limit's part of an action's take (`takeAll`): a rate check-and-take, or a budget hold. */
export type TakeOp =
  | { kind: 'rate'; specs: readonly RateSpec[]; member: string }
  | { kind: 'reserve'; budget: BudgetSpec; hold: Hold };

export type TakeResult = { kind: 'rate'; rate: RateResult } | { kind: 'reserve'; reserve: BudgetResult };

export interface RateSpec {
  key: string;
  windowMs: number;
  limit: number;
  /** Token bucket instead of a sliding log: `capacity` tokens, refilled at limit per window. */
  bucket?: { capacity: number };
}

export interface RateResult {
  ok: boolean;
  /** Index of the window that refused, -1 when admitted. */
  hit: number;
  /** Per window: slots in use before this call (tokens spent for a bucket). */
  used: number[];
  /** When the refusing window admits again. */
  retryAfterMs: number;
  /**
   * The backend's clock (ms since the epoch) at the decision; a refusal's wait counts from it.
   * Only a refusal's is read: an admission by Redis' one-window take reports this process's clock.
   */
  now: number;
}

export interface BudgetSpec {
  key: string;
  limitMicros: number;
  /** When the budget's period ends (ms since the epoch); the state expires after it. */
  expiresAt: number;
}

/**
 * Whose hold it is: the agent and its action id. A client-chosen action id is scoped to the agent
 * that sent it, so two agents' actions may share an id and each keeps its own hold.
 */
export interface HoldRef {
  agent: string;
  id: string;
}

export interface Hold extends HoldRef {
  micros: number;
  ttlMs: number;
}

/**
 * The name a backend stores a hold under: the agent, length-prefixed, then the action id
 * (`5:alice:42`), so no agent and id can spell another pair's name (`a:b` + `c` ≠ `a` + `b:c`).
 */
export function holdName(hold: HoldRef): string {
  return `${hold.agent.length}:${hold.agent}:${hold.id}`;
}

export interface BudgetResult {
  ok: boolean;
  spent: number;
  reserved: number;
}

/** Thrown by a backend that cannot be reached in time; the limiter denies with `limits.unavailable`. */
export class BackendUnavailableError extends WardenError {
  override readonly name = 'BackendUnavailableError';
  declare readonly code: 'limits.unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super('limits.unavailable', message, { ...options, stage: 'limits' });
  }
}

export const USD = 1_000_000;

/** Micro-dollars from dollars, rounded to the nearest micro-dollar. */
export function toMicros(usd: number): number {
  return Math.round(usd * USD);
}

/** `$1.234567`, trimmed to cents when exact. */
export function formatUsd(micros: number): string {
  const usd = micros / USD;
  return micros % 10_000 === 0 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(6).replace(/0+$/, '')}`;
}
