import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type AuditRecord, splitRecord } from '../contract/records.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/slow-run.ts', import.meta.url));

test('a kill -9 during a slow executor leaves its decision on record; finished effect-free runs left one combined record each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-combined-'));
  const file = join(dir, 'warden.db');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, file, '20', '8'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const done = new Set<string>();
    const started = new Set<string>();
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const [what, id] = line.split(' ') as [string, string];
        (what === 'done' ? done : started).add(id);
      }
      if (started.size >= 8) child.kill('SIGKILL');
    });
    const signal = await new Promise((resolve) => child.on('exit', (_c, s) => resolve(s)));
    assert.equal(signal, 'SIGKILL');

    const store = await openSqliteStore(file);
    const records: AuditRecord[] = await store.audit.query({ limit: 10_000 });
    const verified = await store.audit.verify();
    await store.close();
    assert.equal(verified.ok, true, JSON.stringify(verified.firstBad));
    const of = (id: string) => records.filter((r) => r.actionId === id);

    // Every executor that started (its side effect was seen) had its decision committed first.
    assert.equal(started.size, 8);
    for (const id of started) {
      assert.deepEqual(
        of(id).map((r) => r.type),
        ['decision'],
        `${id}: the decision is on record, and no result`,
      );
      assert.equal((of(id)[0]?.data.decision as { effect?: string } | undefined)?.effect, 'allow');
    }
    // Every effect-free run whose output the caller got is one record: its decision and its result.
    assert.equal(done.size, 20);
    for (const id of done) {
      const stored = of(id);
      assert.equal(stored.length, 1, `${id}: one record`);
      const views = splitRecord(stored[0] as AuditRecord);
      assert.deepEqual(
        views.map((r) => r.type),
        ['decision', 'result'],
      );
      assert.deepEqual(views[1]?.data.output, `answer ${id.slice(5)}`);
      assert.equal(views[1]?.data.status, 'completed');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
