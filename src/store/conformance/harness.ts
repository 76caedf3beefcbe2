import type { TestContext } from 'node:test';
import type { Store } from '../store.js';

/** Runs a test body against a freshly opened store and always closes it. */
export type WithStore = (
  fn: (store: Store, t: TestContext) => Promise<void>,
) => (t: TestContext) => Promise<void>;

/** One new place (a file) a durable backend can open several times. */
export interface Place {
  /** Opens another store on the place; it stays open until the test ends or `reopen` closes it. */
  open(): Promise<Store>;
  /** Closes `store` and opens the place again: what survives is what was durable. */
  reopen(store: Store): Promise<Store>;
}

/**
 * Runs a test body against one new place and closes every store still open on it at the end. A
 * backend that keeps nothing once closed reports the test skipped.
 */
export type WithReopen = (
  fn: (place: Place, t: TestContext) => Promise<void>,
) => (t: TestContext) => Promise<void>;

export const TS = '2026-01-02T03:04:05.000Z';

export async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
