import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { LimitsBackend } from '../src/limits/backend.js';
import { memoryBackend } from '../src/limits/backends/memory-backend.js';
import { RedisBackend } from '../src/limits/backends/redis-backend.js';
import { TAKE_ONE } from '../src/limits/backends/redis-take-script.js';
import { buildLimiters } from '../src/limits/build-limiters.js';
import type { Limiter, Reservation } from '../src/limits/limiter.js';
import { acquireAll, settleAll } from '../src/limits/reservations.js';
import { createWarden, type Warden } from '../src/pipeline/warden.js';
import { newContext } from '../src/policy/context.js';
import { policyFromObject } from '../src/policy/load.js';
import type { PolicyInput } from '../src/policy/schema.js';
import { LimitsSchema } from '../src/policy/sections/limits.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { validateAction } from '../src/validate/validate.js';
import { type BenchRow, microsRow, percentile } from './report.js';

/**
 * The latency the limits stage adds (SPEC §8: a shared rate limit over Redis ≤ 1.2× a bare PING
 * round trip; issue 21: no slower than rate-limiter-flexible's Redis limiter). Measured in the
 * same run: the stage alone (one rate limit acquired, in memory and over loopback Redis; over
 * Redis also every limit kind at once, still one call), `run()` with and without it, a bare
 * `rate-limiter-flexible` consume (memory and Redis) and a bare Redis PING. The Redis figures
 * are taken in alternating blocks, so the ratios hold on a loaded machine.
 */

const REDIS_URL = process.env.WARDEN_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CALLS = Number(process.env.BENCH_LIMITS_CALLS ?? 20_000);
const REDIS_CALLS = Number(process.env.BENCH_LIMITS_REDIS_CALLS ?? 5_000);
const HUGE = 1_000_000_000;

const log = (line: string) => process.stdout.write(`  [limits] ${line}\n`);

async function p50(
  calls: number,
  fn: (i: number) => Promise<unknown>,
): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(1000, calls / 10); i++) await fn(i); // warm up
  (globalThis as { gc?: () => void }).gc?.();
  const samples = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const sorted = Array.from(samples).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const agents: PolicyInput['agents'] = { research: { allow: ['search.web'] } };
const action = { agent: 'research', type: 'search.web', params: { q: 'x' } };

function rateConfig(extra: Record<string, unknown> = {}) {
  return LimitsSchema.parse({ rate: [{ windows: { '1m': HUGE } }], ...extra });
}

/** One acquire + settle of the limiters, the work run() adds for an allowed action. */
async function stageAlone(limiters: Limiter[], calls: number) {
  return p50(calls, stageCall(limiters));
}

/**
 * One pass of the limits stage as run() makes it: every limiter acquired (`acquireAll`: one call
 * to a backend that takes them all at once), then the holds settled.
 */
function stageCall(limiters: Limiter[], tag = 'bench', input: typeof action = action) {
  const policy = policyFromObject({ agents });
  const valid = validateAction(input);
  if (!valid.ok) throw new Error('bench action is invalid');
  return async (i: number) => {
    const ctx = newContext(input, policy, false);
    ctx.action = { ...valid.action, id: `${tag}-${i}` };
    const held: Reservation[] = [];
    const denied = await acquireAll(limiters, ctx, held, (_stage, error) => {
      throw error;
    });
    if (denied) throw new Error(`bench action denied: ${denied.message}`);
    await settleAll(held, ctx.action);
  };
}

/**
 * p50 and p99 of each function, measured in alternating blocks of 100 calls, so that every figure
 * sees the same load on a shared machine (sequential runs drift with it). Every other round runs
 * the blocks in reverse order: a block's place in the round (after which block, first or last)
 * moved its p50 by a few per cent, enough to decide a 1.0× target.
 */
async function interleaved(
  calls: number,
  fns: Record<string, (i: number) => Promise<unknown>>,
): Promise<Record<string, { p50: number; p99: number }>> {
  const entries = Object.entries(fns);
  for (const [, fn] of entries) for (let i = 0; i < Math.min(1000, calls / 10); i++) await fn(i); // warm up
  (globalThis as { gc?: () => void }).gc?.();
  const samples = new Map(entries.map(([name]) => [name, new Float64Array(calls)]));
  const reversed = [...entries].reverse();
  for (let start = 0; start < calls; start += 100) {
    for (const [name, fn] of start % 200 === 0 ? entries : reversed) {
      const out = samples.get(name) as Float64Array;
      for (let i = start; i < Math.min(calls, start + 100); i++) {
        const t0 = process.hrtime.bigint();
        await fn(i);
        out[i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
    }
  }
  const result: Record<string, { p50: number; p99: number }> = {};
  for (const [name, out] of samples) {
    const sorted = Array.from(out).sort((a, b) => a - b);
    result[name] = { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  }
  return result;
}

async function wardenRun(
  policy: PolicyInput,
  calls: number,
  limiters: Limiter[] = [],
): Promise<{ p50: number; p99: number }> {
  const warden: Warden = await createWarden({
    policy: policyFromObject(policy),
    store: new MemoryStore(),
    limiters,
  });
  try {
    return await p50(calls, async () => {
      const r = await warden.run(action, () => 'ok');
      if (r.status !== 'completed') throw new Error(`bench run ${r.status}: ${r.reason?.message}`);
    });
  } finally {
    await warden.close();
  }
}

export async function benchLimits(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row = (
    metric: string,
    value: number,
    baseline?: { name: string; value: number },
    target?: string,
    met?: boolean,
  ) => rows.push(microsRow('limits', metric, value, baseline, target, met));

  // In memory.
  const memory = memoryBackend();
  const memStage = await stageAlone(buildLimiters(rateConfig(), memory, ['research']), CALLS);
  await memory.close();
  const rlfMemory = new RateLimiterMemory({ points: HUGE, duration: 60 });
  const bareMem = await p50(CALLS, () => rlfMemory.consume('research'));
  log(
    `memory: stage p50 ${memStage.p50.toFixed(2)} µs p99 ${memStage.p99.toFixed(2)}; rate-limiter-flexible p50 ${bareMem.p50.toFixed(2)} µs`,
  );
  row('rate limit stage, memory, p50', memStage.p50, {
    name: 'rate-limiter-flexible memory consume',
    value: bareMem.p50,
  });

  const without = await wardenRun({ agents }, CALLS);
  const withMem = await wardenRun(
    { agents, limits: { backend: 'memory', rate: [{ windows: { '1m': HUGE } }] } },
    CALLS,
  );
  row('run() with a memory rate limit, p50', withMem.p50, {
    name: 'run() without limits',
    value: without.p50,
  });
  row(
    'run() with rate + budget + steps (memory), p50',
    (
      await wardenRun(
        {
          agents,
          limits: {
            backend: 'memory',
            rate: [{ windows: { '1s': HUGE, '1m': HUGE } }],
            budgets: [{ usd: 1e6 }],
          },
        },
        CALLS,
      )
    ).p50,
    { name: 'run() without limits', value: without.p50 },
  );

  // Over loopback Redis.
  const prefix = `bench-${process.pid}-${Date.now().toString(36)}`;
  const redis: LimitsBackend & { ping(): Promise<string> } = new RedisBackend({
    url: REDIS_URL,
    prefix,
    timeoutMs: 2000,
  });
  await (redis as RedisBackend).connect();
  // The every-limit row counts in keys of its own: sharing the stage row's 1m window would make
  // that row's log twice the size it has alone.
  const redisEvery = new RedisBackend({ url: REDIS_URL, prefix: `${prefix}-every`, timeoutMs: 2000 });
  await redisEvery.connect();
  const client = new Redis(REDIS_URL, { enableOfflineQueue: true });
  try {
    await client.ping();
  } catch (error) {
    throw new Error(
      `the limits bench needs Redis at ${REDIS_URL} (start redis-server, or set WARDEN_BENCH_REDIS_URL): ${error}`,
    );
  }
  try {
    const rlfRedis = new RateLimiterRedis({
      storeClient: client,
      keyPrefix: `${prefix}-rlf`,
      points: HUGE,
      duration: 60,
    });
    // Every limit kind at once: rate (two windows), loop, steps and a budget, in one TAKE call.
    const everyLimit = buildLimiters(
      LimitsSchema.parse({
        rate: [{ windows: { '1s': HUGE, '1m': HUGE } }],
        loop: { max: HUGE, window: '1m' },
        steps: { max: HUGE },
        budgets: [{ usd: 1e6 }],
      }),
      redisEvery,
      ['research'],
    );
    const costly = { ...action, session: 's1', cost: { usd: 0.000001 } };
    // The floor of this design: TAKE_ONE itself, sent by the client rate-limiter-flexible uses,
    // with no Warden code around it.
    const takeOne = (await client.script('LOAD', TAKE_ONE)) as string;
    const run = Date.now().toString(36);
    const figures = await interleaved(REDIS_CALLS, {
      ping: () => redis.ping(),
      stage: stageCall(buildLimiters(rateConfig(), redis, ['research'])),
      every: stageCall(everyLimit, 'every', costly),
      rlf: () => rlfRedis.consume('research'),
      script: (i) => client.evalsha(takeOne, 1, `${prefix}-script`, `${run}-${i}`, 60_000, HUGE),
    });
    const at = (name: string) => figures[name] as { p50: number; p99: number };
    const [ping, redisStage, every, bareRedis] = [at('ping'), at('stage'), at('every'), at('rlf')];
    log(`redis (interleaved): bare TAKE_ONE p50 ${at('script').p50.toFixed(1)} µs`);
    log(
      `redis (interleaved): PING p50 ${ping.p50.toFixed(1)} µs; stage p50 ${redisStage.p50.toFixed(1)} µs p99 ${redisStage.p99.toFixed(1)}; every limit p50 ${every.p50.toFixed(1)} µs; rate-limiter-flexible p50 ${bareRedis.p50.toFixed(1)} µs`,
    );
    const ratio = redisStage.p50 / ping.p50;
    row(
      'shared rate limit over Redis (stage), p50',
      redisStage.p50,
      { name: 'Redis PING', value: ping.p50 },
      '≤ 1.2× PING',
      ratio <= 1.2,
    );
    row(
      'Redis limits stage p50 vs rate-limiter-flexible Redis consume p50',
      redisStage.p50,
      { name: 'rate-limiter-flexible Redis consume', value: bareRedis.p50 },
      '≤ 1.0×',
      redisStage.p50 <= bareRedis.p50,
    );
    // The floor of the exact sliding window: its script alone, no Warden code around it.
    row('floor: TAKE_ONE alone (EVALSHA from a bare ioredis client), p50', at('script').p50, {
      name: 'Redis PING',
      value: ping.p50,
    });
    row('floor: TAKE_ONE alone (EVALSHA from a bare ioredis client), p50 ', at('script').p50, {
      name: 'rate-limiter-flexible Redis consume',
      value: bareRedis.p50,
    });
    row('Redis limits stage, rate ×2 + loop + steps + budget in one call, p50', every.p50, {
      name: 'rate-limiter-flexible Redis consume',
      value: bareRedis.p50,
    });
    const withRedis = await wardenRun(
      {
        agents,
        limits: { backend: 'redis', redis: { url: REDIS_URL, prefix }, rate: [{ windows: { '1m': HUGE } }] },
      },
      REDIS_CALLS,
    );
    row('run() with a Redis rate limit, p50', withRedis.p50, {
      name: 'run() without limits',
      value: without.p50,
    });
    // Any network await inside run() costs more than its round trip (the audit batch and the
    // executor's timer land on later event-loop turns): a limiter that only PINGs shows that floor.
    const pingOnly = await wardenRun({ agents }, REDIS_CALLS, [
      {
        name: 'ping-only',
        peek: () => undefined,
        acquire: async () => {
          await client.ping();
          return { reservation: { settle: async () => undefined, release: async () => undefined } };
        },
      },
    ]);
    row('run() with a Redis rate limit, p50 ', withRedis.p50, {
      name: 'run() with a PING-only limiter',
      value: pingOnly.p50,
    });
  } finally {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
    await redis.close();
    await redisEvery.close();
  }
  return rows;
}
