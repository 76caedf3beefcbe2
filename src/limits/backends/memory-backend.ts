import { type Change, type Doc, DocBackend, type DocStore } from './doc-backend.js';

/** Counters in process memory: for `check()`, `warden eval` and tests. Nothing survives the process. */
export function memoryBackend(): DocBackend {
  return new DocBackend('memory', new MemoryDocs());
}

const SWEEP_EVERY = 10_000;

class MemoryDocs implements DocStore {
  private readonly docs = new Map<string, Doc>();
  private writes = 0;

  private get(key: string, now: number): Doc | undefined {
    const doc = this.docs.get(key);
    if (doc && doc.exp <= now) {
      this.docs.delete(key);
      return undefined;
    }
    return doc;
  }

  read(keys: readonly string[]): Promise<(Doc | undefined)[]> {
    const now = Date.now();
    return Promise.resolve(keys.map((k) => this.get(k, now)));
  }

  write<T>(
    keys: readonly string[],
    change: (docs: (Doc | undefined)[], now: number) => Change<T>,
  ): Promise<T> {
    const now = Date.now();
    const { docs, result } = change(
      keys.map((k) => this.get(k, now)),
      now,
    );
    keys.forEach((key, i) => {
      const doc = docs[i];
      if (doc) this.docs.set(key, doc);
      else this.docs.delete(key);
    });
    if (++this.writes % SWEEP_EVERY === 0) this.sweep(now);
    return Promise.resolve(result);
  }

  keys(prefix: string): Promise<string[]> {
    const now = Date.now();
    return Promise.resolve([...this.docs.keys()].filter((k) => k.startsWith(prefix) && this.get(k, now)));
  }

  close(): Promise<void> {
    this.docs.clear();
    return Promise.resolve();
  }

  private sweep(now: number): void {
    for (const [key, doc] of this.docs) if (doc.exp <= now) this.docs.delete(key);
  }
}
