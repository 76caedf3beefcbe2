import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AuditRecord } from '../contract/records.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/audit-appender.ts', import.meta.url));

test('every acknowledged audit record survives a SIGKILL of the writer, and the chain verifies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-durability-'));
  const file = join(dir, 'warden.db');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, file, '100000', '500'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked = new Map<number, number>(); // seq -> i
    let partial = '';
    let killedAt = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const [i, seq] = line.split(' ').map(Number);
        acked.set(seq as number, i as number);
      }
      if (killedAt === 0 && acked.size >= 20_000) {
        killedAt = acked.size;
        child.kill('SIGKILL');
      }
    });
    const [code, signal] = (await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])))) as [
      number | null,
      string | null,
    ];
    assert.equal(signal, 'SIGKILL', `the writer should be killed midway (exit code ${code})`);
    assert.ok(acked.size < 100_000, `killed after ${acked.size} acks: too late to test anything`);

    const store = await openSqliteStore(file);
    const stored = new Map<number, AuditRecord>();
    for (let after = 0; ; ) {
      const page = await store.audit.query({ afterSeq: after, limit: 10_000 });
      if (page.length === 0) break;
      for (const record of page) stored.set(record.seq, record);
      after = page.at(-1)?.seq ?? after;
    }
    for (const [seq, i] of acked) {
      const record = stored.get(seq);
      assert.ok(record, `acknowledged record ${seq} is missing after the crash`);
      assert.deepEqual(
        [record.type, record.agent, record.data],
        ['decision', `agent-${i % 7}`, { i, pad: 'p'.repeat(i % 50) }],
      );
    }
    t.diagnostic(`killed after ${killedAt} acks; ${acked.size} acked, ${stored.size} stored`);
    const verified = await store.audit.verify();
    await store.close();
    assert.equal(verified.ok, true, JSON.stringify(verified.firstBad));
    assert.equal(verified.records, stored.size);
    assert.ok(stored.size >= acked.size);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
