import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
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
  assert.match(output, /runs a destructive query: deny \(critical\) — rules\.deny/);
  assert.match(output, /needs two approvers\): ask \(high\)/);

  const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string; store: string };
  assert.deepEqual(health, { status: 'ok', store: 'sqlite', policy: 'examples/demo.yaml' });

  const exited = new Promise((resolve) => child?.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, 'SIGTERM flushes and exits 0');

  const pending = await runCli(['approvals', 'list', '--json', '--db', db]);
  const list = JSON.parse(pending.stdout) as { approvals: Array<{ agent: string; required: number }> };
  assert.deepEqual(
    list.approvals.map((a) => [a.agent, a.required]),
    [['finance-agent', 2]],
    'the payment waits for two approvers, persisted in the store after the server stopped',
  );
  const verify = await runCli(['audit', 'verify', '--db', db]);
  assert.equal(verify.code, 0, verify.stdout);
});
