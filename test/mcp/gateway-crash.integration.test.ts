import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { call, EVERYTHING_SERVER, gatewayClient } from './mcp-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-mcp-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('after a kill -9 of `warden mcp` under 16 calls in flight, every call the client saw succeed has its decision in the audit, and the chain verifies', async () => {
  const policy = join(dir, 'policy.yaml');
  const db = join(dir, 'warden.db');
  writeFileSync(policy, 'agents:\n  bot:\n    allow: [mcp.everything.echo]\n');
  const client = await gatewayClient([
    ...['--policy', policy, '--agent', 'bot', '--db', db, '--server', 'everything'],
    ...['--', process.execPath, EVERYTHING_SERVER],
  ]);
  const pid = (client.transport as StdioClientTransport).pid;
  assert.ok(pid, 'the gateway process has a pid');

  const succeeded: string[] = [];
  let next = 0;
  let killed = false;
  const worker = async () => {
    while (!killed) {
      const message = `m${next++}`;
      try {
        const result = await call(client, 'echo', { message });
        if (!result.isError) succeeded.push(message);
      } catch {
        return; // the connection is gone
      }
      if (succeeded.length >= 200 && !killed) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await client.close().catch(() => undefined);
  assert.ok(succeeded.length >= 200, `${succeeded.length} calls succeeded before the kill`);

  const store = await openSqliteStore(db);
  try {
    const verified = await store.audit.verify();
    assert.equal(verified.ok, true, `the chain verifies: ${JSON.stringify(verified.firstBad)}`);
    const recorded = new Set<string>();
    for (let afterSeq = 0; ; ) {
      const page = await store.audit.query({ type: 'decision', afterSeq, limit: 10_000 });
      if (page.length === 0) break;
      for (const record of page) {
        const data = record.data as {
          action?: { params?: { message?: string } };
          decision?: { effect?: string };
        };
        if (data.decision?.effect === 'allow' && data.action?.params?.message)
          recorded.add(data.action.params.message);
        afterSeq = record.seq;
      }
    }
    const missing = succeeded.filter((m) => !recorded.has(m));
    assert.deepEqual(missing, [], 'no call the client saw succeed is missing its allow decision');
  } finally {
    await store.close();
  }
});
