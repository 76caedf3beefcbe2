import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Action } from '../contract/action.js';
import type { Reason } from '../contract/decision.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { newContext } from '../policy/context.js';
import { BackendUnavailableError, type LimitsBackend } from './backend.js';
import { waitWords } from './limit-reasons.js';
import type { Limiter, Reservation } from './limiter.js';

/** One limiter Warden ships, and how much it admits; `limiterConformance` runs the shared cases on it. */
export interface LimiterSubject {
  /** The code its denials carry: `limits.rate`, `limits.budget`, … */
  readonly code: string;
  /** The policy it is built from (contexts are made under it). */
  readonly policy: CompiledPolicy;
  /** A fresh limiter over `backend`, built the way `buildLimiters` builds it from the policy. */
  make(backend: LimitsBackend): Limiter;
  /** An action the limiter counts under `key`: every action of one key draws on the same limit. */
  action(key: string): Omit<Action, 'id'>;
  /**
   * What the limit allows: `capacity` actions of one key (rate, steps, loop, budget), or `ms` of a
   * session's time from its first admitted action (duration). A time limit holds nothing, so the
   * release, settle and concurrency cases are about counted limits only.
   */
  readonly allows: { capacity: number; reportedCostCounts?: boolean } | { ms: number };
}

/**
 * The cases every `Limiter` must pass, run on each limiter Warden ships over a backend
 * (`limiter.conformance.test.ts`): `peek` (what `check()` asks) consumes nothing and agrees with
 * `acquire`, release gives back, settle records, a denial says why and when, a failing backend
 * denies, and concurrent acquires never exceed the limit. Keys are unique per case.
 */
export function limiterConformance(
  name: string,
  open: () => Promise<LimitsBackend>,
  s: LimiterSubject,
): void {
  describe(`Limiter conformance: ${name} (${s.code})`, () => {
    let backend: LimitsBackend;
    let n = 0;
    before(async () => {
      backend = await open();
    });
    after(() => backend.close());

    /** A limiter and the actions of one fresh key. */
    const fresh = (over: LimitsBackend = backend) => {
      const key = `k${process.pid}x${Date.now().toString(36)}n${n++}`;
      let i = 0;
      const limiter = s.make(over);
      const ctx = (dryRun: boolean) => {
        const action: Action = { ...s.action(key), id: `${key}-${i++}` };
        const c = newContext(action, s.policy, dryRun);
        c.action = action;
        return c;
      };
      return {
        peek: async () => limiter.peek(ctx(true)),
        acquire: () => limiter.acquire(ctx(false)),
        /** Acquires and asserts it was admitted. */
        admit: async (what: string) => {
          const got = await limiter.acquire(ctx(false));
          assert.ok('reservation' in got, `${what}: denied ${JSON.stringify(got)}`);
          return got.reservation;
        },
        /** Acquires and asserts it was denied. */
        refuse: async (what: string) => {
          const got = await limiter.acquire(ctx(false));
          assert.ok('denied' in got, `${what}: admitted`);
          return got.denied;
        },
      };
    };
    type Fresh = ReturnType<typeof fresh>;

    /** Uses up the limit: every acquire admitted (a time limit: the first, then its time passes). */
    const useUp = async (k: Fresh): Promise<Reservation[]> => {
      if ('ms' in s.allows) {
        const held = [await k.admit('the first action of a session')];
        await sleep(s.allows.ms + 50);
        return held;
      }
      const held: Reservation[] = [];
      for (let i = 0; i < s.allows.capacity; i++)
        held.push(await k.admit(`action ${i + 1} of ${s.allows.capacity}`));
      return held;
    };
    // Registered for counted limits only: a case that cannot fail is a defect.
    const counted = (title: string, run: (capacity: number) => Promise<void>) => {
      const allows = s.allows;
      if ('capacity' in allows) test(title, () => run(allows.capacity));
    };

    test('check() is a peek: checks consume nothing, so acquires after them are still admitted', async () => {
      const k = fresh();
      const checks = 'capacity' in s.allows ? 3 * s.allows.capacity : 3;
      for (let i = 0; i < checks; i++) assert.equal(await k.peek(), undefined, `check ${i + 1}`);
      // A time limit: a check that started the session's clock would make this acquire too late.
      if ('ms' in s.allows) await sleep(s.allows.ms + 50);
      await useUp(k);
      await k.refuse('once the limit is used up');
    });

    test('check() answers what acquire would: once the limit is used up, it denies with the same code', async () => {
      const k = fresh();
      await useUp(k);
      const checked = await k.peek();
      assert.equal(checked?.code, s.code, JSON.stringify(checked));
      assert.equal((await k.refuse('after the limit')).code, s.code);
    });

    test(`a denial has the stable dotted code ${s.code} and says when to retry or which limit was hit`, async () => {
      const k = fresh();
      await useUp(k);
      saysWhy(await k.refuse('after the limit'), s.code);
    });

    counted('acquire then release gives the capacity back', async () => {
      const k = fresh();
      const held = await useUp(k);
      await k.refuse('once the limit is used up');
      await held.at(-1)?.release();
      await k.admit('after a release');
      await k.refuse('once the released share is taken again');
    });

    counted('settle records: a settled action keeps its share of the limit', async () => {
      const k = fresh();
      for (const r of await useUp(k)) await r.settle({});
      await k.refuse('after every action settled');
      assert.notEqual(await k.peek(), undefined, 'check() after every action settled');
    });

    if ('capacity' in s.allows && s.allows.reportedCostCounts)
      counted('settle records the reported cost in place of the estimate held', async () => {
        const k = fresh();
        const held = await useUp(k);
        await held[0]?.settle({ usd: 0 });
        await k.admit('after one action cost nothing');
        await k.refuse('once that share is taken again');
      });

    for (const how of ['throws', 'rejects'] as const)
      test(`fails closed when the backend ${how}: check() and acquire deny with limits.unavailable`, async () => {
        const k = fresh(failing(backend, how));
        const checked = await k.peek();
        assert.equal(checked?.code, 'limits.unavailable', JSON.stringify(checked));
        const refused = await k.refuse('on a failing backend');
        assert.equal(refused.code, 'limits.unavailable');
        assert.equal(refused.stage, 'limits');
        assert.match(refused.message, /fails closed.*retry/);
      });

    counted('concurrent acquires never exceed the limit', async (capacity) => {
      const k = fresh();
      const got = await Promise.all(Array.from({ length: 4 * capacity + 1 }, () => k.acquire()));
      assert.equal(got.filter((g) => 'reservation' in g).length, capacity);
      assert.ok(got.every((g) => 'reservation' in g || g.denied.code === s.code));
    });
  });
}

/** A denial's code is the limiter's, dotted under `limits.`; its message says when to retry, or names the limit. */
function saysWhy(reason: Reason, code: string): void {
  assert.equal(reason.code, code);
  assert.match(reason.code, /^limits(\.[a-z0-9-]+)+$/);
  assert.equal(reason.stage, 'limits');
  assert.match(reason.message, /^[a-z`]/, 'messages start lowercase');
  assert.ok(reason.limit, 'the figures of the limit that was hit');
  assert.match(reason.message, /\blimits?\b/, `names the limit: ${reason.message}`);
  if (reason.retryAfterMs !== undefined) {
    assert.ok(reason.retryAfterMs > 0, `retryAfterMs ${reason.retryAfterMs}`);
    // The words say the same wait as the figure.
    assert.ok(
      reason.message.includes(` in ${waitWords(reason.retryAfterMs)}`),
      `says when to retry (${waitWords(reason.retryAfterMs)}): ${reason.message}`,
    );
  }
}

/** `backend` whose every operation fails: by throwing where it is called, or by rejecting. */
function failing(backend: LimitsBackend, how: 'throws' | 'rejects'): LimitsBackend {
  const fail = () => {
    const error = new BackendUnavailableError('the test double refused');
    if (how === 'throws') throw error;
    return Promise.reject(error);
  };
  return {
    kind: backend.kind,
    rate: fail,
    unrate: fail,
    reserve: fail,
    settle: fail,
    release: fail,
    holdKeys: fail,
    session: fail,
    keys: fail,
    close: async () => undefined,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
