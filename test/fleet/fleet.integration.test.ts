import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import pg from 'pg';
import { hashToken } from '../../src/server/tokens.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { reasonCode } from '../mcp/mcp-helpers.js';
import { CuttableProxy, call, type Served, serve, writePolicy } from './fleet-harness.js';

// Three `warden serve` processes on one PostgreSQL schema, reached through a proxy the test can cut.
const PG_URL = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const target = new URL(PG_URL);
const schema = `h_pgprop_fleet_${process.pid}_${Date.now().toString(36)}`;
const tmp = tempDir('warden-fleet-');
const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
let db = '';
let store: PostgresStore;
let servers: Served[] = [];
const tokens: Record<string, string> = {};

before(async () => {
  await proxy.open();
  const via = new URL(PG_URL);
  via.port = String(proxy.port);
  via.searchParams.set('schema', schema);
  db = via.toString();
  store = await openPostgresStore({ url: PG_URL, schema });
  for (const [name, role] of [
    ['ops', 'admin'],
    ['alice', 'approver'],
    ['bob', 'approver'],
  ] as const) {
    tokens[name] = `wdn_${randomBytes(18).toString('base64url')}`;
    await store.tokens.create({
      sha256: hashToken(tokens[name]),
      name,
      role,
      createdAt: new Date().toISOString(),
    });
  }
  tokens.sleeper = `wdn_${randomBytes(18).toString('base64url')}`;
  await store.tokens.create({
    sha256: hashToken(tokens.sleeper),
    name: 'sleeper-bot',
    role: 'agent',
    agent: 'sleeper',
    createdAt: new Date().toISOString(),
  });
  const policy = writePolicy(tmp.dir);
  servers = await Promise.all(['a', 'b', 'c'].map((name) => serve(tmp.dir, name, policy, db)));
});

after(async () => {
  for (const s of servers) s.child.kill('SIGKILL');
  await store?.close();
  await proxy.cut();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  tmp.remove();
});

const server = (i: number) => servers[i % servers.length] as Served;
const submit = (i: number, action: Record<string, unknown>) =>
  call(server(i).url, tokens.ops as string, 'POST', '/v1/actions', action);

test('many agents on three servers: rate limits exceeded by 0, budgets overspent by 0', async () => {
  const actions = [
    // 6 agents × 30 tool calls against a limit of 10 an hour, spread over the three servers.
    ...Array.from({ length: 180 }, (_, i) => ({ agent: `r${i % 6}`, type: 'tool.call', params: { i } })),
    // 4 agents × 12 calls of $0.25 against a budget of $1.
    ...Array.from({ length: 48 }, (_, i) => ({
      agent: `b${i % 4}`,
      type: 'spend.call',
      params: { i },
      cost: { usd: 0.25 },
    })),
  ];
  // 24 in flight at once (8 a server): every agent's counters are contended across servers.
  const attempts: Awaited<ReturnType<typeof submit>>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 24 }, async () => {
      while (next < actions.length) {
        const i = next++;
        attempts[i] = await submit(i, actions[i] as Record<string, unknown>);
      }
    }),
  );
  const agentOf = (j: number) => (actions[j] as { agent: string }).agent;
  const allowedOf = (agent: string) =>
    attempts.filter((a, j) => a.json.status === 'allowed' && agentOf(j) === agent).length;
  const rates = Array.from({ length: 6 }, (_, i) => allowedOf(`r${i}`));
  const budgets = Array.from({ length: 4 }, (_, i) => allowedOf(`b${i}`));
  process.stdout.write(
    `# allowed per agent: rate-limited ${rates.join(' ')} (limit 10), budgeted ${budgets.join(' ')} (limit 4)\n`,
  );
  for (const n of rates) assert.ok(n <= 10, `a rate limit of 10 was exceeded: ${rates}`);
  for (const n of budgets) assert.ok(n <= 4, `a budget of $1 was overspent: ${budgets}`);
  assert.ok(rates.some((n) => n > 0) && budgets.some((n) => n > 0), 'the limits let some actions through');
  // Every refusal is a limit's (or the limits backend too slow to answer, which fails closed).
  for (const { json } of attempts) {
    if (json.status === 'allowed') continue;
    const code = (json.decision as { reasons: { code: string }[] }).reasons[0]?.code ?? '';
    assert.match(code, /^limits\.(rate|budget|unavailable)$/);
  }
});

test('a kill through one server denies on the other two, and the time it took is printed', async () => {
  const check = (i: number) =>
    call(server(i).url, tokens.ops as string, 'POST', '/v1/check', {
      agent: 'victim',
      type: 'tool.call',
      params: {},
    });
  const started = performance.now();
  const kill = call(server(0).url, tokens.ops as string, 'POST', '/v1/agents/victim/kill', {
    reason: 'drill',
  }).then((r) => ({ ...r, ms: performance.now() - started }));
  // Each server is polled with checks; a deny is timed at the start of the check that saw it.
  const seen = await Promise.all(
    [1, 2].map(async (i) => {
      for (;;) {
        const at = performance.now() - started;
        if (((await check(i)).json as { effect?: string }).effect === 'deny') return at;
      }
    }),
  );
  const killed = await kill;
  assert.equal(killed.status, 200);
  process.stdout.write(
    `# kill: answered by its server after ${killed.ms.toFixed(0)} ms; the other two denied from ${seen.map((ms) => `${ms.toFixed(0)} ms`).join(' and ')} after the request\n`,
  );
});

test('a kill through one server aborts the agent’s tool call executing on another, and the time it took is printed', async () => {
  const client = new Client({ name: 'fleet-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${server(0).url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${tokens.sleeper}` } },
    }),
  );
  try {
    let abortedAt = 0;
    const calling = client
      .callTool({ name: 'tiny__sleep', arguments: { ms: 600_000 } }, undefined, { timeout: 600_000 })
      .then((result) => {
        abortedAt = performance.now();
        return result as CallToolResult;
      });
    // Executing on server A once its decision is in the audit.
    while ((await store.audit.query({ type: 'decision', agent: 'sleeper', limit: 1 })).length === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const killing = performance.now();
    const killed = await call(server(1).url, tokens.ops as string, 'POST', '/v1/agents/sleeper/kill', {
      reason: 'runaway tool call',
    });
    assert.equal(killed.status, 200);
    const result = await calling;
    process.stdout.write(
      `# kill through server B → tool call on server A aborted ${(abortedAt - killing).toFixed(0)} ms after the kill request was sent\n`,
    );
    assert.equal(result.isError, true);
    assert.match(String(reasonCode(result)), /^killswitch\./);
    let recorded: { status?: unknown; reason?: { code?: string } } | undefined;
    while (!recorded) {
      recorded = (await store.audit.query({ type: 'result', agent: 'sleeper', limit: 1 }))[0]
        ?.data as typeof recorded;
      if (!recorded) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(recorded.status, 'aborted');
    assert.equal(recorded.reason?.code, 'killswitch.agent-killed');
  } finally {
    await client.close();
  }
});

test('an approval requested through one server and voted through the other two executes once', async () => {
  const asked = await submit(0, {
    agent: 'payer',
    type: 'payment.send',
    params: { amount: 5, currency: 'USD', to: 'acme' },
  });
  assert.equal(asked.status, 202, JSON.stringify(asked.json));
  const { id, approvalId } = asked.json as { id: string; approvalId: string };
  for (const [i, who] of [
    [1, 'alice'],
    [2, 'bob'],
  ] as const) {
    const vote = await call(
      server(i).url,
      tokens[who] as string,
      'POST',
      `/v1/approvals/${approvalId}/approve`,
      {},
    );
    assert.equal(vote.status, 200, JSON.stringify(vote.json));
  }
  const views = await Promise.all(
    [0, 1, 2].map((i) =>
      call(server(i).url, tokens.ops as string, 'GET', `/v1/actions/${id}?agent=payer&wait=10s`),
    ),
  );
  assert.deepEqual(
    views.map((v) => v.json.status),
    ['allowed', 'allowed', 'allowed'],
  );
  const first = await call(
    server(1).url,
    tokens.ops as string,
    'POST',
    `/v1/actions/${id}/result?agent=payer`,
    {
      status: 'completed',
    },
  );
  assert.equal(first.status, 200, JSON.stringify(first.json));
  const again = await call(
    server(2).url,
    tokens.ops as string,
    'POST',
    `/v1/actions/${id}/result?agent=payer`,
    {
      status: 'completed',
    },
  );
  assert.notEqual(again.status, 200, 'the second report of the same action is refused');
});

test('a token revoked in the store stops working on every server', async () => {
  const token = `wdn_${randomBytes(18).toString('base64url')}`;
  await store.tokens.create({
    sha256: hashToken(token),
    name: 'temp',
    role: 'viewer',
    createdAt: new Date().toISOString(),
  });
  const status = async (i: number) => (await call(server(i).url, token, 'GET', '/v1/approvals')).status;
  for (const i of [0, 1, 2]) while ((await status(i)) !== 200) await new Promise((r) => setTimeout(r, 50));
  const revoked = await runCli(['token', 'revoke', '--name', 'temp', '--db', db]);
  assert.equal(revoked.code, 0, revoked.stderr);
  for (const i of [0, 1, 2]) while ((await status(i)) !== 401) await new Promise((r) => setTimeout(r, 50));
});

test('one server killed -9 under load loses no acknowledged record, and the chain of all three verifies', async () => {
  const victim = server(2);
  const acknowledged: string[] = [];
  const load = Array.from({ length: 120 }, async (_, i) => {
    try {
      const r = await submit(i, { agent: 'loader', type: 'spend.call', params: { i } });
      if (r.status === 200 || r.status === 202) acknowledged.push((r.json as { id: string }).id);
    } catch {
      // The killed server's requests fail: not acknowledged, nothing to find.
    }
  });
  setTimeout(() => victim.child.kill('SIGKILL'), 50);
  await Promise.all(load);
  assert.ok(acknowledged.length > 0);
  for (const id of acknowledged) {
    const records = await store.audit.query({ actionId: id, type: 'decision' });
    assert.equal(records.length, 1, `the decision on ${id} was acknowledged, so it is stored`);
  }
  servers = servers.slice(0, 2);
  const verified = await runCli(['audit', 'verify', '--db', db]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  const agents = new Set((await store.audit.query({ type: 'decision', limit: 10_000 })).map((r) => r.agent));
  assert.ok(agents.has('r0') && agents.has('payer') && agents.has('loader'));
});

test('PostgreSQL cut away: every decision is denied with store.unavailable and healthz says so; it heals by itself', async () => {
  await proxy.cut();
  const denied = await Promise.all(
    Array.from({ length: 6 }, (_, i) => submit(i, { agent: 'r0', type: 'spend.call', params: { cut: i } })),
  );
  for (const r of denied) {
    const decision = r.json.decision as { effect: string; reasons: { code: string }[] } | undefined;
    assert.equal(decision?.effect ?? 'deny', 'deny');
    if (decision)
      assert.equal(decision.reasons[0]?.code, 'store.unavailable', JSON.stringify(decision.reasons));
    else assert.ok(r.status >= 500, JSON.stringify(r.json));
  }
  const health = await fetch(`${server(0).url}/healthz`);
  assert.equal(health.status, 503);
  assert.equal(((await health.json()) as { code: string }).code, 'store.unavailable');
  await proxy.open();
  for (;;) {
    const r = await submit(0, { agent: 'b0', type: 'tool.call', params: { healed: true } });
    if (r.status === 200 && (r.json.decision as { effect: string }).effect === 'allow') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal((await fetch(`${server(1).url}/healthz`)).status, 200);
});
