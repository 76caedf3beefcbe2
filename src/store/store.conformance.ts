import { auditCases } from './conformance/audit-cases.js';
import type { WithStore } from './conformance/harness.js';
import { killCases } from './conformance/kill-cases.js';
import { recordCases } from './conformance/record-cases.js';
import type { Store } from './store.js';

/**
 * Registers the behaviour every `Store` backend must share (SPEC §7), as node:test suites. Each
 * backend's test file calls it with a factory that opens a fresh, empty store.
 *
 * @example
 * storeConformance('memory', async () => new MemoryStore());
 */
export function storeConformance(name: string, open: () => Promise<Store>): void {
  const withStore: WithStore = (fn) => async () => {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
  auditCases(name, withStore);
  killCases(name, withStore);
  recordCases(name, withStore);
}
