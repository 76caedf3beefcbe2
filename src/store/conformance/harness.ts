import type { Store } from '../store.js';

/** Runs a test body against a freshly opened store and always closes it. */
export type WithStore = (fn: (store: Store) => Promise<void>) => () => Promise<void>;

export const TS = '2026-01-02T03:04:05.000Z';

export async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
