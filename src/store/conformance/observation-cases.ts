import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ObservationRecord } from '../../contract/observation.js';
import { TS, type WithReopen, type WithStore } from './harness.js';

/** Observations (SPEC §2b) shared by every backend that keeps them. */
export function observationCases(name: string, withStore: WithStore, withReopen: WithReopen): void {
  const record = (session: string, source: string, agent = 'bot'): ObservationRecord => ({
    agent,
    session,
    source,
    trust: 'untrusted',
    digest: 'ab'.repeat(32),
    length: 10,
    findings: [{ label: 'injection', category: 'override', message: 'an override' }],
    labels: ['untrusted', 'injection'],
    values: ['host:0123456789abcdef'],
    at: TS,
  });

  describe(`${name} store: observations`, () => {
    test(
      "a session's observations are listed in order, apart from other sessions and agents",
      withStore(async (store, t) => {
        const obs = store.observations;
        if (!obs) return t.skip(`the ${name} store keeps no observations`);
        const a = await obs.append(record('s1', 'http:https://a.example/'));
        await obs.append(record('s2', 'fs:/x'));
        await obs.append(record('s1', 'email', 'other'));
        const b = await obs.append(record('s1', 'mcp:tiny/echo'));
        const listed = await obs.list('bot', 's1');
        assert.deepEqual(
          listed.map((r) => r.source),
          ['http:https://a.example/', 'mcp:tiny/echo'],
        );
        assert.deepEqual(listed[0], { ...record('s1', 'http:https://a.example/'), seq: a.seq });
        assert.ok((a.seq as number) < (b.seq as number));
        assert.deepEqual(
          (await obs.list('bot', 's1', { afterSeq: a.seq as number })).map((r) => r.source),
          ['mcp:tiny/echo'],
        );
      }),
    );

    test(
      'observations survive a reopen',
      withReopen(async (place, t) => {
        const first = await place.open();
        if (!first.observations) return t.skip(`the ${name} store keeps no observations`);
        await first.observations.append(record('s1', 'fs:/bill.txt'));
        const again = await place.reopen(first);
        assert.deepEqual(
          (await again.observations?.list('bot', 's1'))?.map((r) => r.source),
          ['fs:/bill.txt'],
        );
      }),
    );
  });
}
