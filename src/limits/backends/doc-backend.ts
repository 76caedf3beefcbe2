import {
  type BudgetResult,
  type BudgetSpec,
  type Hold,
  type HoldRef,
  holdName,
  type LimitsBackend,
  type RateResult,
  type RateSpec,
} from '../backend.js';

/**
 * The limit logic once, over any store of small JSON documents that can read-modify-write a few
 * keys atomically: memory (one synchronous step), SQLite (an immediate transaction) and
 * PostgreSQL (rows locked `FOR UPDATE`). Redis has its own Lua scripts (`redis-backend.ts`).
 */

/** One key's state. `exp` (ms since the epoch): after it the document counts as absent. */
export type Doc =
  | { exp: number; log: { t: number[]; m: string[] } }
  | { exp: number; bucket: { tokens: number; ts: number; m: string[] } }
  | { exp: number; budget: { spent: number; holds: Record<string, [micros: number, exp: number]> } }
  | { exp: number; start: number }
  | { exp: number; holdOf: string[] };

export interface LedgerEntry {
  key: string;
  hold: string;
  kind: 'reserve' | 'settle' | 'release' | 'expire';
  micros: number;
}

export interface Change<T> {
  /** New documents for the keys, in order; undefined deletes. */
  docs: (Doc | undefined)[];
  result: T;
  ledger?: LedgerEntry[];
}

export interface DocStore {
  /** Reads without locking (for peeks). Expired documents come back undefined. */
  read(keys: readonly string[]): Promise<(Doc | undefined)[]>;
  /** Reads, applies `change` and writes back, atomically with respect to every other writer. */
  write<T>(
    keys: readonly string[],
    change: (docs: (Doc | undefined)[], now: number) => Change<T>,
  ): Promise<T>;
  keys(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

const HOLD_INDEX = 'hold:';

export class DocBackend implements LimitsBackend {
  constructor(
    readonly kind: LimitsBackend['kind'],
    private readonly store: DocStore,
  ) {}

  async rate(specs: readonly RateSpec[], member: string, consume: boolean): Promise<RateResult> {
    const keys = specs.map((s) => s.key);
    if (!consume) {
      const docs = await this.store.read(keys);
      return rateStep(specs, docs, member, false, Date.now()).result;
    }
    return this.store.write(keys, (docs, now) => rateStep(specs, docs, member, true, now));
  }

  async unrate(specs: readonly RateSpec[], member: string): Promise<void> {
    await this.store.write(
      specs.map((s) => s.key),
      (docs, now) => ({
        docs: docs.map((d, i) => giveBack(d, specs[i] as RateSpec, member, now)),
        result: 0,
      }),
    );
  }

  async reserve(budget: BudgetSpec, hold: Hold, consume: boolean): Promise<BudgetResult> {
    if (!consume) {
      const [doc] = await this.store.read([budget.key]);
      return reserveStep(budget, hold, doc, false, Date.now()).result;
    }
    return this.store.write([budget.key, HOLD_INDEX + holdName(hold)], (docs, now) => {
      const step = reserveStep(budget, hold, docs[0], true, now);
      if (!step.result.ok) {
        return {
          docs: [step.docs[0], docs[1]],
          result: step.result,
          ...(step.ledger ? { ledger: step.ledger } : {}),
        };
      }
      const index = docs[1] && 'holdOf' in docs[1] ? docs[1].holdOf : [];
      return {
        docs: [step.docs[0], { exp: now + hold.ttlMs, holdOf: [...index, budget.key] }],
        result: step.result,
        ...(step.ledger ? { ledger: step.ledger } : {}),
      };
    });
  }

  async settle(key: string, hold: HoldRef, micros: number | undefined): Promise<void> {
    await this.store.write([key], (docs, now) => finishHold(key, docs[0], holdName(hold), micros, now));
  }

  async release(key: string, hold: HoldRef): Promise<void> {
    await this.store.write([key], (docs, now) => finishHold(key, docs[0], holdName(hold), 0, now, true));
  }

  async holdKeys(hold: HoldRef): Promise<string[]> {
    const [doc] = await this.store.read([HOLD_INDEX + holdName(hold)]);
    return doc && 'holdOf' in doc ? doc.holdOf : [];
  }

  async session(key: string, ttlMs: number, consume: boolean): Promise<number | undefined> {
    if (!consume) {
      const [doc] = await this.store.read([key]);
      return doc && 'start' in doc ? doc.start : undefined;
    }
    return this.store.write([key], (docs, now) => {
      const doc = docs[0];
      const start = doc && 'start' in doc ? doc.start : now;
      return { docs: [{ exp: start + ttlMs, start }], result: start };
    });
  }

  keys(prefix: string): Promise<string[]> {
    return this.store.keys(prefix);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** One rate decision over the windows' documents (exported for the property tests). */
export function rateStep(
  specs: readonly RateSpec[],
  docs: readonly (Doc | undefined)[],
  member: string,
  consume: boolean,
  now: number,
): Change<RateResult> {
  const used: number[] = [];
  let hit = -1;
  let retryAfterMs = 0;
  const next: (Doc | undefined)[] = [];
  specs.forEach((spec, i) => {
    const doc = docs[i];
    if (spec.bucket) {
      const b = refill(spec, doc, now);
      next.push({ exp: now + spec.windowMs * 2, bucket: b });
      used.push(spec.bucket.capacity - Math.floor(b.tokens));
      if (hit < 0 && b.tokens < 1) {
        hit = i;
        retryAfterMs = Math.ceil(((1 - b.tokens) * spec.windowMs) / spec.limit);
      }
      return;
    }
    const log = doc && 'log' in doc ? doc.log : { t: [], m: [] };
    // INVARIANT: the log is sorted by time; entries older than the window are dropped first.
    // Dropping them in place is safe whatever is decided (they no longer count), and avoids
    // copying a long log on every call.
    let drop = 0;
    while (drop < log.t.length && (log.t[drop] as number) < now - spec.windowMs) drop++;
    if (drop > 0) {
      log.t.splice(0, drop);
      log.m.splice(0, drop);
    }
    const { t } = log;
    next.push({ exp: now + spec.windowMs, log });
    used.push(t.length);
    if (hit < 0 && t.length >= spec.limit) {
      hit = i;
      retryAfterMs = Math.max(1, (t[t.length - spec.limit] as number) + spec.windowMs - now + 1);
    }
  });
  const ok = hit < 0;
  if (ok && consume) {
    for (const doc of next) {
      if (!doc) continue;
      if ('log' in doc) {
        doc.log.t.push(now);
        doc.log.m.push(member);
      } else if ('bucket' in doc) {
        doc.bucket.tokens -= 1;
        doc.bucket.m.push(member);
        if (doc.bucket.m.length > 64) doc.bucket.m.shift();
      }
    }
  }
  return { docs: consume && ok ? next : [...docs], result: { ok, hit, used, retryAfterMs, now } };
}

function refill(spec: RateSpec, doc: Doc | undefined, now: number) {
  const capacity = spec.bucket?.capacity ?? spec.limit;
  if (!doc || !('bucket' in doc)) return { tokens: capacity, ts: now, m: [] as string[] };
  const tokens = Math.min(capacity, doc.bucket.tokens + ((now - doc.bucket.ts) * spec.limit) / spec.windowMs);
  return { tokens, ts: now, m: [...doc.bucket.m] };
}

function giveBack(doc: Doc | undefined, spec: RateSpec, member: string, now: number): Doc | undefined {
  if (!doc) return doc;
  if ('log' in doc) {
    const at = doc.log.m.lastIndexOf(member);
    if (at < 0) return doc;
    const t = [...doc.log.t];
    const m = [...doc.log.m];
    t.splice(at, 1);
    m.splice(at, 1);
    return { exp: doc.exp, log: { t, m } };
  }
  if ('bucket' in doc) {
    const b = refill(spec, doc, now);
    const at = b.m.lastIndexOf(member);
    if (at < 0) return doc;
    b.m.splice(at, 1);
    b.tokens = Math.min(spec.bucket?.capacity ?? spec.limit, b.tokens + 1);
    return { exp: doc.exp, bucket: b };
  }
  return doc;
}

function liveHolds(doc: Doc | undefined, now: number, key: string, ledger: LedgerEntry[]) {
  const budget = doc && 'budget' in doc ? doc.budget : { spent: 0, holds: {} };
  const holds: Record<string, [number, number]> = {};
  let reserved = 0;
  for (const [id, [micros, exp]] of Object.entries(budget.holds)) {
    if (exp <= now) {
      ledger.push({ key, hold: id, kind: 'expire', micros });
      continue;
    }
    holds[id] = [micros, exp];
    reserved += micros;
  }
  return { spent: budget.spent, holds, reserved };
}

function reserveStep(
  budget: BudgetSpec,
  hold: Hold,
  doc: Doc | undefined,
  consume: boolean,
  now: number,
): Change<BudgetResult> {
  const ledger: LedgerEntry[] = [];
  const live = liveHolds(doc, now, budget.key, ledger);
  const ok = live.spent + live.reserved + hold.micros <= budget.limitMicros;
  const result = { ok, spent: live.spent, reserved: live.reserved };
  if (!consume) return { docs: [doc], result };
  if (!ok) {
    const purged: Doc = {
      exp: budget.expiresAt || Number.MAX_SAFE_INTEGER,
      budget: { spent: live.spent, holds: live.holds },
    };
    return { docs: [doc ? purged : undefined], result, ledger };
  }
  const name = holdName(hold);
  live.holds[name] = [hold.micros, now + hold.ttlMs];
  ledger.push({ key: budget.key, hold: name, kind: 'reserve', micros: hold.micros });
  return {
    docs: [
      { exp: budget.expiresAt || Number.MAX_SAFE_INTEGER, budget: { spent: live.spent, holds: live.holds } },
    ],
    result,
    ledger,
  };
}

function finishHold(
  key: string,
  doc: Doc | undefined,
  holdId: string,
  micros: number | undefined,
  now: number,
  release = false,
): Change<number> {
  const ledger: LedgerEntry[] = [];
  const live = liveHolds(doc, now, key, ledger);
  const held = live.holds[holdId];
  delete live.holds[holdId];
  // A hold that expired before its result came is gone; the actual cost is still spent.
  const spend = release ? 0 : (micros ?? held?.[0] ?? 0);
  ledger.push({
    key,
    hold: holdId,
    kind: release ? 'release' : 'settle',
    micros: release ? (held?.[0] ?? 0) : spend,
  });
  const exp = doc?.exp ?? now + 86_400_000;
  return { docs: [{ exp, budget: { spent: live.spent + spend, holds: live.holds } }], result: spend, ledger };
}
