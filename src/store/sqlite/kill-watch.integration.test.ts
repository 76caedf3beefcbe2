import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { KillState } from '../store.js';
import { openSqliteStore } from './sqlite-store.js';

const fixture = fileURLToPath(new URL('../../../test/fixtures/kill-switch.ts', import.meta.url));
const run = promisify(execFile);

test('a kill written by another process reaches watch within a second, persists, and revive clears it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-kill-'));
  const file = join(dir, 'warden.db');
  try {
    let store = await openSqliteStore(file);
    const seen: { at: number; kills: KillState[] }[] = [];
    store.kills.watch((kills) => seen.push({ at: Date.now(), kills }));

    await run(process.execPath, ['--import', 'tsx', fixture, file, 'kill', 'bot']);
    const written = Date.now();
    await waitFor(() => seen.length === 1, 1000);
    assert.ok((seen[0]?.at ?? Infinity) - written <= 1000);
    assert.deepEqual(
      seen[0]?.kills.map((k) => [k.agent, k.reason]),
      [['bot', 'runaway loop']],
    );

    await store.close();
    store = await openSqliteStore(file);
    assert.deepEqual(
      (await store.kills.list()).map((k) => k.agent),
      ['bot'],
    );

    const afterReopen: KillState[][] = [];
    store.kills.watch((kills) => afterReopen.push(kills), 50);
    await run(process.execPath, ['--import', 'tsx', fixture, file, 'revive', 'bot']);
    await waitFor(() => afterReopen.length === 1, 1000);
    assert.deepEqual(afterReopen[0], []);
    assert.deepEqual(await store.kills.list(), []);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
