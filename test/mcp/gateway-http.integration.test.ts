import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { spawnCli, tempDir, waitForLine } from '../helpers/cli.js';
import {
  call,
  EVERYTHING_SERVER,
  FILESYSTEM_SERVER,
  reasonCode,
  stdioClient,
  TINY_SERVER,
} from './mcp-helpers.js';

const tmp = tempDir('warden-mcp-http-');
const root = join(tmp.dir, 'root');
const TOKENS = {
  reader: 'tok_reader_0123456789abcdef',
  payer: 'tok_payer_0123456789abcdefg',
  admin: 'tok_admin_0123456789abcdefg',
  approver: 'tok_approver_0123456789abcd',
};
let child: ChildProcessWithoutNullStreams | undefined;
let httpUpstream: ChildProcessWithoutNullStreams | undefined;
let url = '';

/** A free TCP port (closed again at once; the upstream binds it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
const clients: Client[] = [];

before(async () => {
  // server-everything over Streamable HTTP: an upstream the gateway reaches by `url`.
  const port = await freePort();
  httpUpstream = spawn(process.execPath, [EVERYTHING_SERVER, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'pipe',
  }) as ChildProcessWithoutNullStreams;
  await waitForLine(httpUpstream, /listening on port/);
  mkdirSync(join(root, 'public'), { recursive: true });
  writeFileSync(join(root, 'public', 'a.txt'), 'public text\n');
  writeFileSync(join(root, 'secret.txt'), 'the secret\n');
  const policy = join(tmp.dir, 'policy.yaml');
  writeFileSync(
    policy,
    `
agents:
  reader:
    allow: [fs.read, fs.list, mcp.everything.echo, mcp.remote.echo]
    resources:
      paths: ['${root}/public/**']
  payer:
    allow: [mcp.tiny.*]
rules:
  - id: transfers-need-approval
    effect: ask
    match: { type: mcp.tiny.transfer }
    message: a human approves every transfer
mcp:
  servers:
    files: { command: ${process.execPath}, args: ['${FILESYSTEM_SERVER}', '${root}'], preset: filesystem }
    everything: { command: ${process.execPath}, args: ['${EVERYTHING_SERVER}'] }
    tiny: { command: ${process.execPath}, args: ['${TINY_SERVER}'] }
    remote: { url: 'http://127.0.0.1:${port}/mcp' }
`,
  );
  const tokens = join(tmp.dir, 'tokens.json');
  writeFileSync(
    tokens,
    JSON.stringify({
      tokens: [
        { name: 'reader-bot', role: 'agent', agent: 'reader', token: TOKENS.reader },
        { name: 'payer-bot', role: 'agent', agent: 'payer', token: TOKENS.payer },
        { name: 'root', role: 'admin', token: TOKENS.admin },
        { name: 'alice', role: 'approver', token: TOKENS.approver },
      ],
    }),
  );
  child = spawnCli([
    'serve',
    '--policy',
    policy,
    '--port',
    '0',
    '--db',
    join(tmp.dir, 'w.db'),
    '--tokens',
    tokens,
  ]);
  [, url] = (await waitForLine(child, /listening on (http:\/\/127\.0\.0\.1:\d+)/)) as unknown as [
    string,
    string,
  ];
});
after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  child?.kill('SIGTERM');
  httpUpstream?.kill('SIGTERM');
  tmp.remove();
});

async function httpClient(token: string): Promise<Client> {
  const client = new Client({ name: 'warden-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

const api = (path: string, token: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });

test('over Streamable HTTP, allowed calls return the upstream result unchanged, tools namespaced per server', async () => {
  const reader = await httpClient(TOKENS.reader);
  const names = (await reader.listTools()).tools.map((t) => t.name).sort();
  assert.ok(names.includes('files__read_text_file'));
  assert.ok(names.includes('everything__echo'));
  const direct = await stdioClient(process.execPath, [EVERYTHING_SERVER]);
  clients.push(direct);
  assert.deepEqual(
    await call(reader, 'everything__echo', { message: 'over http' }),
    await call(direct, 'echo', { message: 'over http' }),
  );
  const directFiles = await stdioClient(process.execPath, [FILESYSTEM_SERVER, root]);
  clients.push(directFiles);
  const args = { path: join(root, 'public', 'a.txt') };
  assert.deepEqual(
    await call(reader, 'files__read_text_file', args),
    await call(directFiles, 'read_text_file', args),
  );

  const remote = await call(reader, 'remote__echo', { message: 'over http' });
  assert.deepEqual(remote, await call(direct, 'echo', { message: 'over http' }), 'an HTTP upstream too');

  const traversal = await call(reader, 'files__read_text_file', { path: `${root}/public/../secret.txt` });
  assert.equal(reasonCode(traversal), 'permissions.resource-not-granted');
});

test('each agent sees only its own tools; the identity comes from the token', async () => {
  const reader = await httpClient(TOKENS.reader);
  const payer = await httpClient(TOKENS.payer);
  const readerTools = (await reader.listTools()).tools.map((t) => t.name);
  const payerTools = (await payer.listTools()).tools.map((t) => t.name).sort();
  assert.deepEqual(payerTools, ['tiny__echo', 'tiny__exit', 'tiny__greet', 'tiny__sleep', 'tiny__transfer']);
  assert.ok(!readerTools.some((n) => n.startsWith('tiny__')), 'hidden from the reader');
  assert.ok(!readerTools.includes('everything__get-env'), 'unmapped tools need a grant of their own');
  const refused = await call(reader, 'tiny__greet', { name: 'x' });
  assert.equal(refused.isError, true);
  assert.equal(reasonCode(refused), 'permissions.not-granted');
  const env = await call(reader, 'everything__get-env', {});
  assert.equal(reasonCode(env), 'permissions.not-granted');

  const anonymous = await fetch(`${url}/mcp`, { method: 'POST', body: '{}' });
  assert.equal(anonymous.status, 401);
  const admin = await fetch(`${url}/mcp`, {
    method: 'POST',
    body: '{}',
    headers: { authorization: `Bearer ${TOKENS.admin}` },
  });
  assert.equal(admin.status, 403, 'only agent tokens speak MCP');
});

test('an ask waits until approved in the API, then returns the upstream result', async () => {
  const payer = await httpClient(TOKENS.payer);
  let settled = false;
  const pending = call(payer, 'tiny__transfer', { amount: 40, to: 'bob' }).then((r) => {
    settled = true;
    return r;
  });
  let approvalId: string | undefined;
  for (let i = 0; i < 100 && !approvalId; i++) {
    const body = (await (await api('/v1/approvals', TOKENS.approver)).json()) as {
      approvals: Array<{ id: string; action: { type: string; params: { to: string } } }>;
    };
    approvalId = body.approvals.find(
      (a) => a.action.type === 'mcp.tiny.transfer' && a.action.params.to === 'bob',
    )?.id;
    if (!approvalId) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(approvalId, 'the call is waiting for approval');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(settled, false, 'nothing returns before a human decides');
  const voted = await api(`/v1/approvals/${approvalId}/approve`, TOKENS.approver, {
    method: 'POST',
    body: '{}',
  });
  assert.equal(voted.status, 200);
  const result: CallToolResult = await pending;
  assert.equal(result.isError, undefined);
  assert.deepEqual(result.structuredContent, { sent: 40, to: 'bob' });
});

test('pins: listed for readers, approved by admins only', async () => {
  const list = (await (await api('/v1/mcp/pins?server=tiny', TOKENS.approver)).json()) as {
    pins: Array<{ tool: string; approved?: { by: string } }>;
  };
  assert.deepEqual(
    list.pins.map((p) => [p.tool, p.approved?.by]),
    [
      ['echo', 'trust-on-first-use'],
      ['exit', 'trust-on-first-use'],
      ['greet', 'trust-on-first-use'],
      ['sleep', 'trust-on-first-use'],
      ['transfer', 'trust-on-first-use'],
    ],
  );
  const byApprover = await api('/v1/mcp/pins/tiny/greet/approve', TOKENS.approver, { method: 'POST' });
  assert.equal(byApprover.status, 403);
  const nothing = await api('/v1/mcp/pins/tiny/greet/approve', TOKENS.admin, { method: 'POST' });
  assert.equal(nothing.status, 409);
  assert.equal(((await nothing.json()) as { error: { code: string } }).error.code, 'mcp.pin-nothing-pending');
  const agent = await api('/v1/mcp/pins', TOKENS.reader);
  assert.equal(agent.status, 403);
});

test('the audit log names the token’s agent, and the kill switch stops its MCP calls', async () => {
  const reader = await httpClient(TOKENS.reader);
  assert.equal((await call(reader, 'everything__echo', { message: 'before' })).isError, undefined);
  const audit = (await (
    await api('/v1/audit?type=decision&agent=reader&order=desc&limit=1', TOKENS.approver)
  ).json()) as {
    records: Array<{ agent: string; data: { action: { type: string } } }>;
  };
  assert.equal(audit.records[0]?.agent, 'reader');
  assert.match(JSON.stringify(audit.records[0]?.data), /mcp\.everything\.echo/);

  const killed = await api('/v1/agents/reader/kill', TOKENS.admin, {
    method: 'POST',
    body: '{"reason":"drill"}',
  });
  assert.equal(killed.status, 200);
  try {
    let code: string | undefined;
    for (let i = 0; i < 40 && code !== 'killswitch.agent-killed'; i++) {
      code = reasonCode(await call(reader, 'everything__echo', { message: 'after' }));
      if (code !== 'killswitch.agent-killed') await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(code, 'killswitch.agent-killed');
  } finally {
    await api('/v1/agents/reader/revive', TOKENS.admin, { method: 'POST', body: '{}' });
  }
});
