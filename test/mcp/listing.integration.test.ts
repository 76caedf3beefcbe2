// What a client of `warden mcp` sees of its upstream's tool list: it is served while the upstream
// is still starting, its first listing costs the upstream one `tools/list`, and it hears of a
// change of the tools (the upstream's `tools/list_changed`), not of every listing it makes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { call, gatewayClient } from './mcp-helpers.js';

const RAW_SERVER = join(ROOT, 'test/fixtures/mcp-raw-server.mjs');
const tmp = tempDir('warden-mcp-listing-');
const clients: Client[] = [];
after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  tmp.remove();
});

/** A policy for the raw fixture server, logging what it receives to `<name>.log`. */
function rawGateway(name: string, env: Record<string, string> = {}) {
  const log = join(tmp.dir, `${name}.log`);
  writeFileSync(log, '');
  const policy = join(tmp.dir, `${name}.yaml`);
  writeFileSync(
    policy,
    `agents:\n  bot:\n    allow: [mcp.raw.echo, mcp.raw.chatty]\nmcp:\n  servers:\n    raw:\n      env: ${JSON.stringify({ RAW_LOG: log, ...env })}\n`,
  );
  const args = ['--policy', policy, '--db', join(tmp.dir, `${name}.db`), '--server', 'raw', '--'];
  return { log, args: [...args, process.execPath, RAW_SERVER] };
}

const methodsSeen = (log: string) =>
  readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { method?: string }).method);

test('`warden mcp` answers `initialize` while its server is still starting; the first listing waits for it and costs it one tools/list', async () => {
  const hold = join(tmp.dir, 'started');
  const { log, args } = rawGateway('starting', { RAW_HOLD: hold });
  // The upstream answers its own `initialize` only once `hold` exists: the client's handshake
  // completes without it.
  const client = await gatewayClient(args);
  clients.push(client);
  assert.deepEqual(methodsSeen(log), ['initialize'], 'the upstream has not finished its handshake');
  let listed = false;
  const listing = client.listTools().then((r) => {
    listed = true;
    return r;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(listed, false, 'the listing waits for the upstream');
  writeFileSync(hold, '');
  const { tools } = await listing;
  assert.deepEqual(
    tools.map((t) => t.name),
    ['echo', 'chatty'],
  );
  assert.equal(methodsSeen(log).filter((m) => m === 'tools/list').length, 1, 'one tools/list upstream');
  // Later listings ask the upstream again, so a changed definition is seen at once.
  await client.listTools();
  assert.equal(methodsSeen(log).filter((m) => m === 'tools/list').length, 2);
});

test("a client's own listings bring it no tools/list_changed; the upstream's notice of a change is passed on", async () => {
  const { args } = rawGateway('notices');
  let notices = 0;
  let noticed: (() => void) | undefined;
  const client = await gatewayClient(args, {}, (c) => {
    c.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notices++;
      noticed?.();
    });
  });
  clients.push(client);
  for (let i = 0; i < 3; i++) await client.listTools();
  // A notice sent for a listing would go out before the answer to the call made after it.
  assert.deepEqual((await call(client, 'echo', { message: 'hi' })).content, [
    { type: 'text', text: 'echo: hi' },
  ]);
  assert.equal(notices, 0, 'no notice for listings the client made itself');
  // `chatty` makes the upstream send tools/list_changed (and pings), then answers.
  const heard = new Promise<void>((resolve) => {
    noticed = resolve;
  });
  assert.deepEqual((await call(client, 'chatty', {})).content, [{ type: 'text', text: 'heard back' }]);
  await heard;
  assert.equal(notices, 1, "the upstream's notice reached the client once");
});
