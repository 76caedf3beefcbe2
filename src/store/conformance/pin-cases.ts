import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { PinStore, Store, ToolPin } from '../store.js';
import { TS, type WithReopen, type WithStore } from './harness.js';

/** MCP tool pin behaviour shared by every backend that keeps pins (`Store.pins` is optional). */
export function pinCases(name: string, withStore: WithStore, withReopen: WithReopen): void {
  /** The store's pins, or undefined after reporting the test skipped. */
  const pinsOf = (store: Store, t: TestContext): PinStore | undefined => {
    if (!store.pins) t.skip(`the ${name} store keeps no pins: the gateway keeps them in memory`);
    return store.pins;
  };

  describe(`${name} store: MCP tool pins`, () => {
    test(
      'update creates the pin when there is none, and get returns it',
      withStore(async (store, t) => {
        const pins = pinsOf(store, t);
        if (!pins) return;
        let seen: ToolPin | undefined | 'not called' = 'not called';
        const created = await pins.update('files', 'read', (current) => {
          seen = current;
          return pin('files', 'read', 'd1');
        });
        assert.equal(seen, undefined);
        assert.deepEqual(created, pin('files', 'read', 'd1'));
        assert.deepEqual(await pins.get('files', 'read'), pin('files', 'read', 'd1'));
      }),
    );

    test(
      'update hands change the stored pin and stores what it returns',
      withStore(async (store, t) => {
        const pins = pinsOf(store, t);
        if (!pins) return;
        await pins.update('files', 'read', () => pin('files', 'read', 'd1'));
        const changed = await pins.update('files', 'read', (current) => {
          assert.deepEqual(current, pin('files', 'read', 'd1'));
          return current && { ...current, pending: { digest: 'd2', definition: { v: 2 }, seenAt: TS } };
        });
        const expected = {
          ...pin('files', 'read', 'd1'),
          pending: { digest: 'd2', definition: { v: 2 }, seenAt: TS },
        };
        assert.deepEqual(changed, expected);
        assert.deepEqual(await pins.get('files', 'read'), expected);
      }),
    );

    test(
      'a change that returns undefined writes nothing and returns the pin as it is',
      withStore(async (store, t) => {
        const pins = pinsOf(store, t);
        if (!pins) return;
        assert.equal(await pins.update('files', 'read', () => undefined), undefined);
        assert.equal(await pins.get('files', 'read'), undefined);
        await pins.update('files', 'write', () => pin('files', 'write', 'd1'));
        assert.deepEqual(await pins.update('files', 'write', () => undefined), pin('files', 'write', 'd1'));
        assert.deepEqual(await pins.list(), [pin('files', 'write', 'd1')]);
      }),
    );

    test(
      'a change that throws writes nothing and its error reaches the caller',
      withStore(async (store, t) => {
        const pins = pinsOf(store, t);
        if (!pins) return;
        await pins.update('files', 'read', () => pin('files', 'read', 'd1'));
        await assert.rejects(
          pins.update('files', 'read', () => {
            throw new Error('veto');
          }),
          /veto/,
        );
        await assert.rejects(
          pins.update('files', 'new', () => {
            throw new Error('veto');
          }),
          /veto/,
        );
        assert.deepEqual(await pins.list(), [pin('files', 'read', 'd1')]);
      }),
    );

    test(
      'update refuses a change that moves the pin to another server or tool',
      withStore(async (store, t) => {
        const pins = pinsOf(store, t);
        if (!pins) return;
        await assert.rejects(
          pins.update('files', 'read', () => pin('files', 'write', 'd1')),
          (error: Error) =>
            error instanceof TypeError && /`files`/.test(error.message) && /`read`/.test(error.message),
        );
        await assert.rejects(
          pins.update('files', 'read', () => pin('other', 'read', 'd1')),
          TypeError,
        );
        assert.deepEqual(await pins.list(), []);
      }),
    );

    test(
      'get finds a pin by server and tool together; list orders by server then tool and filters by server',
      withStore(async (store, t) => {
        const pins = pinsOf(store, t);
        if (!pins) return;
        for (const [server, tool] of [
          ['web', 'fetch'],
          ['files', 'write'],
          ['files', 'read'],
          ['db', 'query'],
        ] as const) {
          await pins.update(server, tool, () => pin(server, tool, `${server}.${tool}`));
        }
        assert.equal(await pins.get('web', 'read'), undefined);
        assert.equal(await pins.get('files', 'fetch'), undefined);
        assert.deepEqual(await pins.get('files', 'read'), pin('files', 'read', 'files.read'));
        assert.deepEqual(
          (await pins.list()).map((p) => `${p.server}/${p.tool}`),
          ['db/query', 'files/read', 'files/write', 'web/fetch'],
        );
        assert.deepEqual(
          (await pins.list({ server: 'files' })).map((p) => p.tool),
          ['read', 'write'],
        );
        assert.deepEqual(await pins.list({ server: 'nobody' }), []);
      }),
    );

    test(
      'what get, list and update return are copies: changing them changes nothing stored',
      withStore(async (store, t) => {
        const pins = pinsOf(store, t);
        if (!pins) return;
        const made = pin('files', 'read', 'd1');
        const returned = await pins.update('files', 'read', () => made);
        for (const copy of [made, returned, await pins.get('files', 'read'), (await pins.list())[0]]) {
          if (copy?.approved) copy.approved.digest = 'tampered';
        }
        assert.deepEqual(await pins.get('files', 'read'), pin('files', 'read', 'd1'));
      }),
    );

    test(
      'concurrent updates of one pin are serialised: each change sees the one before',
      withStore(async (store, t) => {
        const pins = pinsOf(store, t);
        if (!pins) return;
        const bump = (current: ToolPin | undefined): ToolPin => {
          const n = Number(current?.pending?.definition.n ?? 0) + 1;
          return {
            ...pin('files', 'read', 'd1'),
            pending: { digest: `n${n}`, definition: { n }, seenAt: TS },
          };
        };
        await Promise.all(Array.from({ length: 10 }, () => pins.update('files', 'read', bump)));
        assert.deepEqual((await pins.get('files', 'read'))?.pending?.definition, { n: 10 });
      }),
    );

    test(
      'pins survive closing and reopening the store',
      withReopen(async (place, t) => {
        const store = await place.open();
        const pins = pinsOf(store, t);
        if (!pins) return;
        await pins.update('files', 'read', () => pin('files', 'read', 'd1'));
        await pins.update('web', 'fetch', () => pin('web', 'fetch', 'd2'));
        const again = await place.reopen(store);
        assert.deepEqual(await again.pins?.list(), [pin('files', 'read', 'd1'), pin('web', 'fetch', 'd2')]);
      }),
    );

    test(
      'two stores on one place see each other’s pins and never lose an update',
      withReopen(async (place, t) => {
        const [a, b] = [await place.open(), await place.open()];
        const [pa, pb] = [pinsOf(a, t), pinsOf(b, t)];
        if (!pa || !pb) return;
        await pa.update('files', 'read', () => pin('files', 'read', 'd1'));
        assert.deepEqual(await pb.get('files', 'read'), pin('files', 'read', 'd1'));
        const bump = (current: ToolPin | undefined): ToolPin => {
          const n = Number(current?.pending?.definition.n ?? 0) + 1;
          return {
            ...pin('files', 'read', 'd1'),
            pending: { digest: `n${n}`, definition: { n }, seenAt: TS },
          };
        };
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? pa : pb).update('files', 'read', bump)),
        );
        assert.deepEqual((await pa.get('files', 'read'))?.pending?.definition, { n: 10 });
      }),
    );
  });
}

function pin(server: string, tool: string, digest: string): ToolPin {
  return {
    server,
    tool,
    approved: { digest, definition: { name: tool, inputSchema: { type: 'object' } }, by: 'tofu', at: TS },
    firstSeenAt: TS,
  };
}
