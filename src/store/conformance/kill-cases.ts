import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KillState } from '../store.js';
import { TS, until, type WithStore } from './harness.js';

/** Kill switch behaviour shared by every backend. */
export function killCases(name: string, withStore: WithStore): void {
  describe(`${name} store: kills`, () => {
    const stop = (agent: string): KillState => ({ agent, reason: 'drill', by: 'ops', at: TS });

    test(
      'kill is listed, replaces an earlier kill, and revive clears it',
      withStore(async (store) => {
        await store.kills.kill(stop('bot'));
        await store.kills.kill({ ...stop('bot'), reason: 'again' });
        await store.kills.kill(stop('*'));
        assert.deepEqual(await store.kills.list(), [stop('*'), { ...stop('bot'), reason: 'again' }]);
        assert.equal(await store.kills.revive('bot'), true);
        assert.equal(await store.kills.revive('bot'), false);
        assert.deepEqual(await store.kills.list(), [stop('*')]);
      }),
    );

    test(
      'watch reports a kill within a second and stops when asked',
      withStore(async (store) => {
        const seen: KillState[][] = [];
        const unwatch = store.kills.watch((kills) => seen.push(kills), 20);
        await store.kills.kill(stop('bot'));
        await until(() => seen.length > 0, 1000);
        assert.deepEqual(seen[0], [stop('bot')]);
        unwatch();
        await store.kills.revive('bot');
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(seen.length, 1);
      }),
    );
  });
}
