import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { tempDir } from '../helpers/cli.js';
import { call, gatewayClient, reasonCode, TINY_SERVER } from './mcp-helpers.js';

const tmp = tempDir('warden-mcp-lazy-');
const clients: Client[] = [];
after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  tmp.remove();
});

test('`warden mcp` under a policy with SQL and shell guards starts, lists and calls tools, and both guards judge (their parsers load)', async () => {
  const policy = join(tmp.dir, 'policy.yaml');
  writeFileSync(
    policy,
    [
      'agents:',
      '  dev:',
      '    allow: [sql.query, shell.exec, mcp.tiny.transfer]',
      "    resources: { tables: ['*'] }",
      'sandbox: { backend: none }',
      'mcp:',
      '  servers:',
      '    tiny:',
      '      tools:',
      '        echo: { type: sql.query, params: { sql: message } }',
      '        greet: { type: shell.exec, params: { command: name } }',
      '',
    ].join('\n'),
  );
  const client = await gatewayClient([
    ...['--policy', policy, '--agent', 'dev', '--db', join(tmp.dir, 'warden.db')],
    ...['--', process.execPath, TINY_SERVER],
  ]);
  clients.push(client);
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), ['echo', 'greet', 'transfer']);

  const select = await call(client, 'echo', { message: 'SELECT id FROM users' });
  assert.equal(select.isError, undefined, JSON.stringify(select));
  assert.deepEqual(select.content, [{ type: 'text', text: 'SELECT id FROM users' }]);
  const garbled = await call(client, 'echo', { message: 'SELEC oops' });
  assert.equal(reasonCode(garbled), 'risk.sql-unparsable');

  // Parsed by the shell guard (an `eval` is only seen in the parse tree), before the sandbox rule.
  const evil = await call(client, 'greet', { name: 'eval "$X"' });
  assert.equal(reasonCode(evil), 'shell.eval');

  const transfer = await call(client, 'transfer', { amount: 5, to: 'bob' });
  assert.deepEqual(transfer.structuredContent, { sent: 5, to: 'bob' });
});
