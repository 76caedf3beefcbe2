import { type ChainRow, GENESIS_HASH, linkHash, verifyChain } from '../../audit/hash-chain.js';
import { hasResult } from '../../contract/records.js';
import { payloadFor, queryLimit, recordFromRow, recordOf } from '../audit-records.js';
import { scannedInsights } from '../insights.js';
import type {
  ActionStore,
  AuditEntry,
  AuditQuery,
  AuditRecord,
  AuditStore,
  KillState,
  KillStore,
  PinStore,
  Store,
  ToolPin,
  VerifyResult,
} from '../store.js';
import { MemoryAlertStore } from './memory-alerts.js';
import { MemoryObservationStore } from './memory-observations.js';
import { MemoryActionStore, MemoryApprovalStore } from './memory-records.js';

/**
 * A store in process memory, for tests and single-process demos: same semantics and same audit
 * chain bytes as the SQLite store, nothing survives the process.
 *
 * @example
 * const store = new MemoryStore();
 * await store.kills.kill({ agent: '*', reason: 'drill', by: 'ops', at: new Date().toISOString() });
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly audit = new MemoryAuditStore();
  readonly kills = new MemoryKillStore();
  readonly approvals: MemoryApprovalStore = new MemoryApprovalStore();
  readonly actions: ActionStore = new MemoryActionStore(this.approvals);
  readonly pins: PinStore = new MemoryPinStore();
  readonly alerts = new MemoryAlertStore();
  readonly insights = scannedInsights(this.audit);
  readonly observations = new MemoryObservationStore();

  async close(): Promise<void> {
    this.kills.stopAll();
  }
}

class MemoryAuditStore implements AuditStore {
  readonly #rows: [number, Buffer, Buffer][] = [];

  async append(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const last = this.#rows.at(-1);
    let seq = last?.[0] ?? 0;
    let prev = last?.[1] ?? GENESIS_HASH;
    const now = new Date().toISOString();
    const added: [number, Buffer, Buffer][] = [];
    const records: AuditRecord[] = [];
    // Encode everything before storing anything: a bad entry fails the whole batch.
    for (const entry of entries) {
      seq++;
      const payload = payloadFor(entry, seq, now);
      prev = linkHash(prev, payload);
      added.push([seq, prev, payload]);
      records.push(recordOf(entry, { seq, ts: entry.ts ?? now, hash: prev.toString('hex') }));
    }
    for (const row of added) this.#rows.push(row);
    return records;
  }

  async query(query: AuditQuery): Promise<AuditRecord[]> {
    const limit = queryLimit(query);
    const rows = query.order === 'desc' ? [...this.#rows].reverse() : this.#rows;
    const out: AuditRecord[] = [];
    for (const [seq, hash, payload] of rows) {
      if (query.afterSeq !== undefined && seq <= query.afterSeq) continue;
      if (query.beforeSeq !== undefined && seq >= query.beforeSeq) continue;
      const record = recordFromRow(payload, hash);
      if (query.agent !== undefined && record.agent !== query.agent) continue;
      if (query.actionId !== undefined && record.actionId !== query.actionId) continue;
      if (query.type !== undefined && record.type !== query.type) {
        // `result` also finds decisions carrying their result (SPEC §6).
        if (query.type !== 'result' || !hasResult(record)) continue;
      }
      out.push(record);
      if (out.length >= limit) break;
    }
    return out;
  }

  async count(): Promise<number> {
    return this.#rows.length;
  }

  async verify(): Promise<VerifyResult> {
    const started = performance.now();
    const result = verifyChain(this.#rows as ChainRow[]);
    const elapsedMs = performance.now() - started;
    if (result.problem) return { ok: false, records: result.count, firstBad: result.problem, elapsedMs };
    const out: VerifyResult = { ok: true, records: result.count, elapsedMs };
    const head = this.#rows.at(-1);
    if (head && result.headHash) {
      out.headHash = result.headHash.toString('hex');
      out.headSeq = head[0];
    }
    return out;
  }
}

class MemoryKillStore implements KillStore {
  readonly #kills = new Map<string, KillState>();
  readonly #watchers = new Set<(kills: KillState[]) => void>();

  async kill(state: KillState): Promise<void> {
    if (typeof state.agent !== 'string' || state.agent === '') {
      throw new TypeError('kill `agent` must be a non-empty agent name, or `*` to stop every agent');
    }
    this.#kills.set(state.agent, { agent: state.agent, reason: state.reason, by: state.by, at: state.at });
    this.#changed();
  }

  async revive(agent: string): Promise<boolean> {
    const removed = this.#kills.delete(agent);
    if (removed) this.#changed();
    return removed;
  }

  async list(): Promise<KillState[]> {
    return [...this.#kills.values()].sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
  }

  /** Local changes only (there is no other process); `intervalMs` is accepted and unused. */
  watch(onChange: (kills: KillState[]) => void, _intervalMs?: number): () => void {
    this.#watchers.add(onChange);
    return () => this.#watchers.delete(onChange);
  }

  stopAll(): void {
    this.#watchers.clear();
  }

  #changed(): void {
    // Deferred, like the polling backends, so a watcher never runs inside kill()/revive().
    setImmediate(async () => {
      const kills = await this.list();
      for (const watcher of this.#watchers) watcher(structuredClone(kills));
    });
  }
}

/** MCP tool pins in memory, keyed by server and tool. */
export class MemoryPinStore implements PinStore {
  readonly #pins = new Map<string, ToolPin>();

  async get(server: string, tool: string): Promise<ToolPin | undefined> {
    const pin = this.#pins.get(`${server}\0${tool}`);
    return pin === undefined ? undefined : structuredClone(pin);
  }

  async list(filter: { server?: string } = {}): Promise<ToolPin[]> {
    return [...this.#pins.values()]
      .filter((p) => filter.server === undefined || p.server === filter.server)
      .sort((a, b) => (a.server === b.server ? cmp(a.tool, b.tool) : cmp(a.server, b.server)))
      .map((p) => structuredClone(p));
  }

  async update(
    server: string,
    tool: string,
    change: (current: ToolPin | undefined) => ToolPin | undefined,
  ): Promise<ToolPin | undefined> {
    const key = `${server}\0${tool}`;
    const current = this.#pins.get(key);
    const next = change(current === undefined ? undefined : structuredClone(current));
    if (next === undefined) return current === undefined ? undefined : structuredClone(current);
    if (next.server !== server || next.tool !== tool) {
      throw new TypeError(`pin update must keep server \`${server}\` and tool \`${tool}\``);
    }
    this.#pins.set(key, structuredClone(next));
    return structuredClone(next);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
