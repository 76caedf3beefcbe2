import { alertCases } from './conformance/alert-cases.js';
import { auditCases } from './conformance/audit-cases.js';
import type { Place, WithReopen, WithStore } from './conformance/harness.js';
import { killCases } from './conformance/kill-cases.js';
import { observationCases } from './conformance/observation-cases.js';
import { pinCases } from './conformance/pin-cases.js';
import { recordCases } from './conformance/record-cases.js';
import type { Store } from './store.js';

/** What a backend offers the suite beyond opening a fresh store. */
export interface StoreConformanceOptions {
  /**
   * For durable backends: returns an opener for one new place (a new file) that opens it again
   * each time it is called. Without it, the cases about reopening report themselves skipped.
   */
  reopen?: () => () => Promise<Store>;
}

/**
 * Registers the behaviour every `Store` backend must share (SPEC §7), as node:test suites. Each
 * backend's test file calls it with a factory that opens a fresh, empty store.
 *
 * @example
 * storeConformance('memory', async () => new MemoryStore());
 * storeConformance('sqlite', () => openSqliteStore(freshFile()), { reopen: () => { const file = freshFile(); return () => openSqliteStore(file); } });
 */
export function storeConformance(
  name: string,
  open: () => Promise<Store>,
  options: StoreConformanceOptions = {},
): void {
  const withStore: WithStore = (fn) => async (t) => {
    const store = await open();
    try {
      await fn(store, t);
    } finally {
      await store.close();
    }
  };
  const withReopen: WithReopen = (fn) => async (t) => {
    const openPlace = options.reopen?.();
    if (!openPlace) return t.skip(`the ${name} store keeps nothing once closed`);
    const stillOpen = new Set<Store>();
    const place: Place = {
      async open() {
        const store = await openPlace();
        stillOpen.add(store);
        return store;
      },
      async reopen(store) {
        stillOpen.delete(store);
        await store.close();
        return place.open();
      },
    };
    try {
      await fn(place, t);
    } finally {
      for (const store of stillOpen) await store.close();
    }
  };
  auditCases(name, withStore);
  killCases(name, withStore);
  recordCases(name, withStore);
  pinCases(name, withStore, withReopen);
  alertCases(name, withStore, withReopen);
  observationCases(name, withStore, withReopen);
}
