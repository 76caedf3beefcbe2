import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ROOT, runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { call, gatewayClient } from './mcp-helpers.js';

const tmp = tempDir('warden-mcp-start-');
const COUNTING_SERVER = join(ROOT, 'test/fixtures/mcp-counting-server.mjs');
const clients: Client[] = [];
after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  tmp.remove();
});

function policyFile(name: string, extra = ''): { policy: string; starts: string } {
  const starts = join(tmp.dir, `${name}.starts`);
  const policy = join(tmp.dir, `${name}.yaml`);
  writeFileSync(
    policy,
    `agents:\n  bot:\n    allow: [mcp.tiny.echo]\n${extra}mcp:\n  servers:\n    tiny:\n      env: { STARTS_FILE: ${starts} }\n`,
  );
  return { policy, starts };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('`warden mcp` starts its upstream server once: the server started before Warden loaded is the one that serves', async () => {
  const { policy, starts } = policyFile('once');
  const client = await gatewayClient([
    ...['--policy', policy, '--db', join(tmp.dir, 'once.db'), '--'],
    ...[process.execPath, COUNTING_SERVER],
  ]);
  clients.push(client);
  assert.deepEqual(
    (await client.listTools()).tools.map((t) => t.name),
    ['echo'],
  );
  const result = await call(client, 'echo', { message: 'hi' });
  assert.deepEqual(result.content, [{ type: 'text', text: 'hi' }]);
  assert.equal(readFileSync(starts, 'utf8').trim().split('\n').length, 1);
});

test('an invalid policy still fails `warden mcp` with the policy error and exit code 2, leaving no server running', async () => {
  const { policy, starts } = policyFile('bad', '    bogus: 1\n');
  const result = await runCli([
    ...['mcp', '--policy', policy, '--db', join(tmp.dir, 'bad.db'), '--'],
    ...[process.execPath, COUNTING_SERVER],
  ]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /warden: invalid policy:\n.*agents\.bot\.bogus: unknown field `bogus`/);
  const pids = existsSync(starts) ? readFileSync(starts, 'utf8').trim().split('\n').map(Number) : [];
  // Stopped with SIGTERM as the gateway exits: give a loaded machine time to deliver it.
  for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(pids.filter(alive), []);
});

test('tool calls sent with `initialize`, before Warden has loaded its pipeline, are still decided by it and audited', async () => {
  const { policy } = policyFile('early');
  const db = join(tmp.dir, 'early.db');
  const child = spawnCli(['mcp', '--policy', policy, '--db', db, '--', process.execPath, COUNTING_SERVER]);
  const message = (id: number, method: string, params: unknown) => ({ jsonrpc: '2.0', id, method, params });
  // One write, as the process starts: none of these waits for an answer.
  child.stdin.write(
    `${[
      message(1, 'initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'early', version: '1' },
      }),
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      message(2, 'tools/call', { name: 'echo', arguments: { message: 'early' } }),
      message(3, 'tools/call', { name: 'transfer', arguments: { amount: 5, to: 'x' } }),
    ]
      .map((m) => JSON.stringify(m))
      .join('\n')}\n`,
  );
  const answers = new Map<number, { result?: { isError?: boolean; content?: unknown } }>();
  let buffer = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`warden mcp exited (${code}) before answering`)));
      child.stdout.on('data', (d: Buffer) => {
        buffer += d;
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const answer = JSON.parse(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          answers.set(answer.id, answer);
        }
        if (answers.has(2) && answers.has(3)) resolve();
      });
    });
  } finally {
    child.stdin.end();
    if (child.exitCode === null) await new Promise((resolve) => child.once('close', resolve));
  }
  assert.deepEqual(answers.get(2)?.result?.content, [{ type: 'text', text: 'early' }]);
  assert.equal(answers.get(3)?.result?.isError, true);
  const store = await openSqliteStore(db);
  try {
    const decisions = (await store.audit.query({ type: 'decision' })).map((r) => JSON.stringify(r.data));
    assert.equal(decisions.length, 2, decisions.join('\n'));
    const of = (type: string) => decisions.find((d) => d.includes(`"type":"${type}"`)) ?? '';
    assert.match(of('mcp.tiny.echo'), /"effect":"allow"/);
    assert.match(of('mcp.tiny.transfer'), /"effect":"deny".*"code":"permissions\.not-granted"/);
  } finally {
    await store.close();
  }
});
