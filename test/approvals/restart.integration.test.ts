import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers/cli.js';

const tmp = tempDir();
const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  tmp.remove();
});

const TOKENS = {
  alice: 'alice-approver-token-0123456789',
  agent: 'cleaner-agent-token-0123456789',
  viewer: 'viewer-token-token-0123456789',
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startServer(args: string[]): Promise<ChildProcessWithoutNullStreams> {
  const child = spawnCli(['serve', ...args]);
  children.push(child);
  await waitForLine(child, /listening on http/);
  return child;
}

async function api(url: string, method: string, path: string, token: string, body?: unknown) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

test('a pending approval survives kill -9 of the server; the agent polling over HTTP gets it after the restart and runs the action once', async () => {
  const policy = join(tmp.dir, 'warden.yaml');
  writeFileSync(
    policy,
    'version: 1\nagents:\n  cleaner:\n    allow: [fs.delete]\n    resources: { paths: ["/tmp/**"] }\napprovals:\n  timeout: 10m\n',
  );
  const tokens = join(tmp.dir, 'tokens.json');
  writeFileSync(
    tokens,
    JSON.stringify({
      tokens: [
        { name: 'alice', role: 'approver', token: TOKENS.alice },
        { name: 'vic', role: 'viewer', token: TOKENS.viewer },
        { name: 'cleaner-bot', role: 'agent', agent: 'cleaner', token: TOKENS.agent },
      ],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    '--policy',
    policy,
    '--db',
    join(tmp.dir, 'warden.db'),
    '--tokens',
    tokens,
    '--port',
    String(port),
  ];

  const first = await startServer(args);
  const submitted = await api(url, 'POST', '/v1/actions', TOKENS.agent, {
    id: 'act_restart_1',
    agent: 'cleaner',
    type: 'fs.delete',
    params: { path: '/tmp/report.csv' },
  });
  assert.equal(submitted.status, 202);
  assert.equal(submitted.body.status, 'pending');
  const approvalId = submitted.body.approvalId as string;

  // The agent: long-polls until its action leaves `pending`, riding out the server's absence,
  // executes it when allowed, and reports once.
  let executions = 0;
  const seen: string[] = [];
  const agent = (async () => {
    for (;;) {
      try {
        const r = await api(url, 'GET', '/v1/actions/act_restart_1?wait=2s', TOKENS.agent);
        seen.push(String(r.body.status ?? r.status));
        if (r.body.status === 'allowed') {
          executions++;
          return api(url, 'POST', '/v1/actions/act_restart_1/result', TOKENS.agent, { status: 'completed' });
        }
        if (r.body.status !== 'pending') return r;
      } catch {
        seen.push('unreachable');
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  })();

  await new Promise((res) => setTimeout(res, 300));
  const exited = new Promise((res) => first.once('exit', res));
  first.kill('SIGKILL');
  await exited;
  await new Promise((res) => setTimeout(res, 300));
  await startServer(args);

  const pending = await api(url, 'GET', '/v1/approvals', TOKENS.viewer);
  assert.deepEqual(
    (pending.body.approvals as Array<{ id: string }>).map((a) => a.id),
    [approvalId],
    'the request is still pending after the restart',
  );
  const voted = await api(url, 'POST', `/v1/approvals/${approvalId}/approve`, TOKENS.alice, {
    comment: 'ok',
  });
  assert.equal(voted.status, 200);

  const reported = await agent;
  assert.equal(reported.status, 200, JSON.stringify(reported.body));
  assert.equal(reported.body.status, 'completed');
  assert.equal(executions, 1);
  assert.ok(seen.includes('unreachable'), `the agent polled through the outage: ${seen.join(',')}`);
  const again = await api(url, 'POST', '/v1/actions/act_restart_1/result', TOKENS.agent, {
    status: 'completed',
  });
  assert.equal(again.status, 409, 'a second result is refused');

  const audit = await api(url, 'GET', '/v1/audit?actionId=act_restart_1', TOKENS.viewer);
  const types = (audit.body.records as Array<{ type: string }>).map((r) => r.type);
  assert.deepEqual(
    types,
    ['decision', 'approval.request', 'approval.vote', 'result'],
    'decided once, approved once, ran once',
  );
  const verify = await api(url, 'GET', '/v1/audit/verify', TOKENS.viewer);
  assert.equal(verify.body.ok, true);
});

test('warden approvals cancel withdraws a pending request; the agent polling over HTTP sees it denied', async () => {
  const dir = tempDir();
  try {
    const policy = join(dir.dir, 'warden.yaml');
    writeFileSync(
      policy,
      'version: 1\nagents:\n  cleaner:\n    allow: [fs.delete]\n    resources: { paths: ["/tmp/**"] }\n',
    );
    const tokens = join(dir.dir, 'tokens.json');
    writeFileSync(
      tokens,
      JSON.stringify({
        tokens: [{ name: 'cleaner-bot', role: 'agent', agent: 'cleaner', token: TOKENS.agent }],
      }),
    );
    const db = join(dir.dir, 'warden.db');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await startServer(['--policy', policy, '--db', db, '--tokens', tokens, '--port', String(port)]);
    const submitted = await api(url, 'POST', '/v1/actions', TOKENS.agent, {
      id: 'act_cancel_cli',
      agent: 'cleaner',
      type: 'fs.delete',
      params: { path: '/tmp/x' },
    });
    const cancel = await runCli([
      'approvals',
      'cancel',
      submitted.body.approvalId as string,
      '--as',
      'ops',
      '--reason',
      'wrong file',
      '--db',
      db,
    ]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /cancelled/);
    const view = await api(url, 'GET', '/v1/actions/act_cancel_cli?wait=5s', TOKENS.agent);
    assert.equal(view.body.status, 'denied');
    assert.match(JSON.stringify(view.body.decision), /approval\.cancelled.*ops: wrong file/);
    const again = await runCli(['approvals', 'cancel', submitted.body.approvalId as string, '--db', db]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /approval\.not-pending/);
  } finally {
    dir.remove();
  }
});

test('a kill from another process (the CLI) cancels the agent’s pending request in the running server', async () => {
  const dir = tempDir();
  try {
    const policy = join(dir.dir, 'warden.yaml');
    writeFileSync(
      policy,
      'version: 1\nagents:\n  cleaner:\n    allow: [fs.delete]\n    resources: { paths: ["/tmp/**"] }\n',
    );
    const tokens = join(dir.dir, 'tokens.json');
    writeFileSync(
      tokens,
      JSON.stringify({
        tokens: [
          { name: 'cleaner-bot', role: 'agent', agent: 'cleaner', token: TOKENS.agent },
          { name: 'alice', role: 'approver', token: TOKENS.alice },
        ],
      }),
    );
    const db = join(dir.dir, 'warden.db');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await startServer(['--policy', policy, '--db', db, '--tokens', tokens, '--port', String(port)]);
    const submitted = await api(url, 'POST', '/v1/actions', TOKENS.agent, {
      id: 'act_kill_cli',
      agent: 'cleaner',
      type: 'fs.delete',
      params: { path: '/tmp/x' },
    });
    const killed = await runCli(['kill', 'cleaner', '--reason', 'runaway', '--db', db]);
    assert.equal(killed.code, 0, killed.stderr);
    const view = await api(url, 'GET', '/v1/actions/act_kill_cli?wait=10s', TOKENS.agent);
    assert.equal(view.body.status, 'denied');
    assert.match(JSON.stringify(view.body.decision), /approval\.cancelled/);
    const late = await api(
      url,
      'POST',
      `/v1/approvals/${submitted.body.approvalId}/approve`,
      TOKENS.alice,
      {},
    );
    assert.equal(late.status, 409, 'a late approval cannot release it');
  } finally {
    dir.remove();
  }
});
