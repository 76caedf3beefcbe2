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
   * `member` (the action id). Denies as soon as one window is full.
   */
  rate(specs: readonly RateSpec[], member: string, consume: boolean): Promise<RateResult>;
  /** Gives back the slots `member` took (the action never ran). */
  unrate(specs: readonly RateSpec[], member: string): Promise<void>;
  /** Holds `hold.micros` against the budget when spent + reserved + it ≤ limit (and `consume`). */
  reserve(budget: BudgetSpec, hold: Hold, consume: boolean): Promise<BudgetResult>;
  /** Turns a hold into spend: `micros` (the actual cost), or the held amount when undefined. */
  settle(key: string, holdId: string, micros: number | undefined): Promise<void>;
  /** Drops a hold without spending. */
  release(key: string, holdId: string): Promise<void>;
  /** The budget keys still holding `holdId` (for a result reported after a restart). */
  holdKeys(holdId: string): Promise<string[]>;
  /** When the session behind `key` started; with `consume`, starts it now if it had not. */
  session(key: string, ttlMs: number, consume: boolean): Promise<number | undefined>;
  /** Keys that exist (not expired) and start with `prefix`, for `warden limits`. */
  keys(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

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
  /** The backend's clock (ms since the epoch) at the decision. */
  now: number;
}

export interface BudgetSpec {
  key: string;
  limitMicros: number;
  /** When the budget's period ends (ms since the epoch); the state expires after it. */
  expiresAt: number;
}

export interface Hold {
  id: string;
  micros: number;
  ttlMs: number;
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
