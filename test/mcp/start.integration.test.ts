import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ROOT, runCli, tempDir } from '../helpers/cli.js';
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
