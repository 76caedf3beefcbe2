import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Action } from '../contract/action.js';
import type { Context } from '../policy/context.js';
import { parsePolicyText } from '../policy/load.js';
import { PolicyError } from '../policy/policy-error.js';
import { type LimitsConfig, LimitsSchema } from '../policy/sections/limits.js';
import type { OverrideState } from '../store/overrides.js';
import { memoryBackend } from './backends/memory-backend.js';
import { buildLimiters } from './build-limiters.js';
import type { Limiter } from './limiter.js';
import { Tightening } from './tightening.js';

const config = (limits: unknown): LimitsConfig => LimitsSchema.parse(limits);

/** Limiters over a memory backend, with `tightened` standing in for the incident overrides. */
function limiters(limits: unknown, tightened: Set<string>): Limiter[] {
  const c = config(limits);
  const tightening = new Tightening(c);
  tightening.follow({
    tightened: (agent): OverrideState | undefined =>
      tightened.has(agent)
        ? { agent, reason: 'anomaly.loop: looping', by: 'warden:monitor', at: 'T', anomaly: 'anomaly.loop' }
        : undefined,
  });
  return buildLimiters(c, memoryBackend(), [], tightening);
}

let n = 0;
const act = (agent: string, extra: Partial<Action> = {}): Context =>
  ({ action: { agent, type: 'tool.call', params: {}, id: `a${n++}`, ...extra } }) as unknown as Context;

/** How many of `count` actions the limiters admit, taking a slot for each. */
async function admitted(list: Limiter[], count: number, ctx: () => Context): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const c = ctx();
    let denied = false;
    for (const l of list) if ('denied' in (await l.acquire(c))) denied = true;
    if (!denied) ok++;
  }
  return ok;
}

describe('tightened rate limits (`limits.tighten`)', () => {
  test('divides every window and bucket burst, rounding down, never below 1', () => {
    const t = new Tightening(config({ tighten: { factor: 4 } }));
    assert.deepEqual(
      t.windows([
        { label: '1s', ms: 1000, limit: 3 },
        { label: '1m', ms: 60_000, limit: 10, bucket: { capacity: 20 } },
      ]),
      [
        { label: '1s', ms: 1000, limit: 1 },
        { label: '1m', ms: 60_000, limit: 2, bucket: { capacity: 5 } },
      ],
    );
  });

  test('on a counter shared by user, the tightened agent is held to the lower limit and the other agent is not', async () => {
    const list = limiters({ rate: [{ scope: 'user', windows: { '1m': 8 } }] }, new Set(['a']));
    assert.equal(await admitted(list, 2, () => act('b', { user: 'u' })), 2);
    assert.equal(await admitted(list, 3, () => act('a', { user: 'u' })), 0, 'a: 2 used of 8 ÷ 4');
    assert.equal(await admitted(list, 10, () => act('b', { user: 'u' })), 6, 'b: up to 8');
  });

  test('the emergency limit counts a tightened agent’s actions that no rate rule counts, and nothing else', async () => {
    const tightened = new Set<string>();
    const list = limiters(
      { rate: [{ match: { type: 'http.*' }, windows: { '1m': 100 } }], tighten: { emergency: { '1m': 3 } } },
      tightened,
    );
    const emergency = list.find((l) => l.name === 'rate:_emergency') as Limiter;
    assert.equal(emergency.peek(act('a')), undefined, 'nothing tightened: answered at once, nothing counted');
    assert.equal(await admitted(list, 5, () => act('a')), 5);
    tightened.add('a');
    assert.equal(await admitted(list, 5, () => act('a')), 3, 'counted from the tightening on');
    assert.equal(
      await admitted(list, 5, () => act('a', { type: 'http.request' })),
      5,
      'http.* is counted by its rule (100 ÷ 4), not by the emergency limit',
    );
    assert.equal(await admitted(list, 5, () => act('b')), 5, 'b is not tightened');
    const denied = await emergency.acquire(act('a'));
    assert.ok('denied' in denied);
    assert.equal(denied.denied.code, 'limits.rate');
    assert.match(
      denied.denied.message,
      /^emergency rate limit reached: at most 3 actions per 1m for agent `a` .*tightened after an anomaly \(anomaly\.loop: looping\) at T; .*`warden incident restore --agent a`; retry in/,
    );
  });

  test('a policy without `tighten` keeps loading; bad settings name the field', () => {
    const c = config({});
    assert.deepEqual(c.tighten, { factor: 4, emergency: { '1m': 10 } });
    assert.equal(config({ tighten: { emergency: false } }).tighten.emergency, false);
    let message = '';
    try {
      parsePolicyText(
        'limits:\n  tighten: { factor: 0.5, emergency: { 1min: 2 }, extra: 1 }\n',
        'warden.yaml',
      );
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      message = error.message;
    }
    assert.match(message, /limits\.tighten\.factor: too small/);
    assert.match(
      message,
      /warden\.yaml:2:\d+: limits\.tighten\.emergency\.1min: window `1min` is not a duration/,
    );
    assert.match(message, /limits\.tighten\.extra: unknown field `extra`/);
  });
});
