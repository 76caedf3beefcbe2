import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Context } from '../policy/context.js';
import { type Limiter, NOTHING_HELD, type Reservation } from './limiter.js';
import { acquireAll } from './reservations.js';

const ctx = { action: { id: 'act_1', agent: 'bot', type: 'fs.read', params: {} } } as unknown as Context;
const hold: Reservation = { settle: async () => undefined, release: async () => undefined };

function limiter(counts: Limiter['counts'], acquired: string[], name = 'l'): Limiter {
  return {
    name,
    peek: () => undefined,
    acquire: async (c) => {
      acquired.push(name);
      return { reservation: counts?.(c) === false ? NOTHING_HELD : hold };
    },
    ...(counts ? { counts } : {}),
  };
}

describe('acquireAll', () => {
  test('an action no limiter counts is answered at once: no acquire, nothing held', () => {
    const acquired: string[] = [];
    const held: Reservation[] = [];
    const answer = acquireAll([limiter(() => false, acquired)], ctx, held, () => undefined);
    assert.equal(answer, undefined);
    assert.deepEqual(acquired, []);
    assert.deepEqual(held, []);
  });

  test('once one limiter counts the action every limiter is acquired, and only real holds are kept', async () => {
    const acquired: string[] = [];
    const held: Reservation[] = [];
    const limiters = [
      limiter(() => false, acquired, 'a'),
      limiter(() => true, acquired, 'b'),
      limiter(undefined, acquired, 'c'),
    ];
    assert.equal(await acquireAll(limiters, ctx, held, () => undefined), undefined);
    assert.deepEqual(acquired, ['a', 'b', 'c']);
    assert.deepEqual(held, [hold, hold]);
  });

  test('a limiter whose counts() throws is acquired, so a failing limit still denies (fail closed)', async () => {
    const crashed: unknown[] = [];
    const failing: Limiter = {
      name: 'broken',
      peek: () => undefined,
      counts: () => {
        throw new Error('matcher failed');
      },
      acquire: async () => {
        throw new Error('matcher failed');
      },
    };
    const answer = await acquireAll([failing], ctx, [], (_stage, error) => crashed.push(error));
    assert.equal(answer?.code, 'internal.stage-error');
    assert.equal(crashed.length, 1);
  });

  test('NOTHING_HELD from a limiter that counts nothing is not kept', async () => {
    const held: Reservation[] = [];
    const quiet: Limiter = {
      name: 'q',
      peek: () => undefined,
      acquire: async () => ({ reservation: NOTHING_HELD }),
    };
    assert.equal(await acquireAll([quiet], ctx, held, () => undefined), undefined);
    assert.deepEqual(held, []);
  });
});
