import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers/cli.js';

const tmp = tempDir();
let child: ChildProcessWithoutNullStreams | undefined;
after(() => {
  child?.kill('SIGKILL');
  tmp.remove();
});

test('warden serve --demo (what npm start runs) decides the guide scenarios and keeps a verifiable log', async () => {
  const db = join(tmp.dir, 'warden.db');
  const tokens = join(tmp.dir, 'tokens.json');
  child = spawnCli([
    'serve',
    '--policy',
    'examples/demo.yaml',
    '--demo',
    '--port',
    '0',
    '--db',
    db,
    '--tokens',
    tokens,
  ]);
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d;
  });
  const [, url] = await waitForLine(child, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  await waitForLine(child, /demo {2}done/, 20_000);

  assert.match(output, /created .*tokens\.json with these tokens/);
  assert.match(output, /admin {5}wdn_/);
  assert.equal(statSync(tokens).mode & 0o777, 0o600, 'the tokens file is private');
  assert.equal(statSync(db).mode & 0o777, 0o600, 'the store is private');
  assert.match(output, /tries to delete it: deny \(critical\) — permissions\.denied/);
  assert.match(output, /tries a path traversal: deny .*permissions\.resource-not-granted/);
  assert.match(output, /runs a destructive query: deny \(critical\) — sql\.forbidden/);
  assert.match(output, /needs two approvers\): ask \(high\)/);
  assert.match(output, /needs one approver\): ask \(critical\)/);
  assert.match(
    output,
    /dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard\/ — sign in with one of these demo tokens/,
  );
  assert.match(output, /alice \(approver\) +demo_/);
  // The demo policy's loop limit stops the runaway loop before the operator has to.
  assert.match(output, /research-agent loop iteration 11: deny \(low\) — limits\.loop/);
  // A newcomer approves the payment as the two demo approvers; the demo agent then pays, once.
  const alice = output.match(/alice \(approver\) +(demo_\S+)/)?.[1] as string;
  const bob = output.match(/bob \(approver\) +(demo_\S+)/)?.[1] as string;
  const paymentId = output.match(
    /waiting for approval (apr_\S+): approve it in the dashboard/,
  )?.[1] as string;
  for (const token of [alice, bob]) {
    const r = await fetch(`${url}/v1/approvals/${paymentId}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 200);
  }
  const deadline = Date.now() + 10_000;
  while (!/finance-agent executed act_\S+ once and reported the result/.test(output)) {
    assert.ok(Date.now() < deadline, `the demo agent did not execute the approved payment:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(
    output,
    /finance-agent pays an invoice \(needs two approvers\): allowed — approved by demo:alice, demo:bob/,
  );
  const page = await fetch(`${url}/dashboard/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Warden<\/title>/);

  const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string; store: string };
  assert.deepEqual(health, { status: 'ok', store: 'sqlite', policy: 'examples/demo.yaml' });

  const exited = new Promise((resolve) => child?.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, 'SIGTERM flushes and exits 0');

  const pending = await runCli(['approvals', 'list', '--json', '--db', db]);
  const list = JSON.parse(pending.stdout) as { approvals: Array<{ agent: string; required: number }> };
  assert.deepEqual(
    list.approvals.map((a) => [a.agent, a.required]),
    [['admin-agent', 1]],
    'the delete still waits for its approver, persisted in the store after the server stopped',
  );
  const store = await openSqliteStore(db);
  const kills = await store.kills.list();
  await store.close();
  assert.deepEqual(kills, [], 'the demo leaves no agent killed behind');
  const verify = await runCli(['audit', 'verify', '--db', db]);
  assert.equal(verify.code, 0, verify.stdout);
});

test('warden serve on a host with no usable sandbox says that shell.exec and code.exec will be denied, why, and to run `warden sandbox doctor`', async () => {
  const policy = join(tmp.dir, 'no-sandbox.yaml');
  // A Docker socket that cannot exist: no backend this policy allows can run.
  writeFileSync(
    policy,
    [
      'version: 1',
      'agents:',
      '  coder:',
      '    allow: [shell.exec]',
      'sandbox:',
      '  backend: docker',
      `  docker: { socket: ${join(tmp.dir, 'no-engine.sock')} }`,
      '',
    ].join('\n'),
  );
  const server = spawnCli([
    'serve',
    '--policy',
    policy,
    '--port',
    '0',
    '--db',
    join(tmp.dir, 'no-sandbox.db'),
    '--tokens',
    join(tmp.dir, 'no-sandbox-tokens.json'),
  ]);
  let output = '';
  server.stdout.on('data', (d: Buffer) => {
    output += d;
  });
  try {
    // Under load the start alone can take several seconds.
    await waitForLine(server, /will be denied.*\n/, 60_000);
    assert.match(output, /^sandbox: none available \(docker: no Docker engine at /m);
    assert.match(
      output,
      /^ {2}shell\.exec and code\.exec will be denied \(sandbox\.unavailable\): no sandbox backend can run here .*run `warden sandbox doctor` for what is missing and how to get it/m,
    );
  } finally {
    server.kill('SIGKILL');
  }
});
