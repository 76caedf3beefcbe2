import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLog } from '../audit/audit-log.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { KillState, KillStore } from '../store/store.js';
import { KillSwitch, killReason } from './kill-switch.js';

test('when the stop list cannot be read for a second, every agent is denied until it can', async () => {
  const memory = new MemoryStore();
  let health: ((error: unknown) => void) | undefined;
  const kills: KillStore = {
    ...memory.kills,
    list: () => memory.kills.list(),
    kill: (s) => memory.kills.kill(s),
    revive: (a) => memory.kills.revive(a),
    watch: (_onChange, _ms, onHealth) => {
      health = onHealth;
      return () => undefined;
    },
  };
  const ks = new KillSwitch(kills, new AuditLog(memory.audit));
  await ks.start(250);
  assert.equal(ks.stateOf('bot'), undefined);
  health?.(new Error('disk I/O error'));
  assert.equal(ks.stateOf('bot'), undefined, 'one failed read is tolerated');
  for (let i = 0; i < 3; i++) health?.(new Error('disk I/O error'));
  assert.match(ks.stateOf('bot')?.reason ?? '', /cannot be read/);
  assert.equal(killReason('bot', ks.stateOf('bot') as KillState).code, 'store.unavailable');
  health?.(undefined);
  assert.equal(ks.stateOf('bot'), undefined, 'a good read restores normal operation');
  ks.stop();
});
