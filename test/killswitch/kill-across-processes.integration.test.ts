import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers/cli.js';

const tmp = tempDir();
const db = join(tmp.dir, 'warden.db');
const tokensFile = join(tmp.dir, 'tokens.json');
const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  tmp.remove();
});

async function startServer(): Promise<{ url: string; child: ChildProcessWithoutNullStreams }> {
  const child = spawnCli([
    'serve',
    '--policy',
    'examples/research-agent.yaml',
    '--db',
    db,
    '--tokens',
    tokensFile,
    '--port',
    '0',
  ]);
  children.push(child);
  const [, url] = await waitForLine(child, /listening on (http:\/\/\S+)/);
  return { url: url as string, child };
}

async function stop(child: ChildProcessWithoutNullStreams) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function effect(url: string, token: string): Promise<string> {
  const r = await fetch(`${url}/v1/check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      agent: 'research-agent',
      type: 'fs.read',
      params: { path: '/data/research/a.txt' },
    }),
  });
  return ((await r.json()) as { effect: string }).effect;
}

/** Polls until the effect changes to `want`; returns how long after `since` it took. */
async function until(url: string, token: string, want: string, since: number): Promise<number> {
  for (;;) {
    if ((await effect(url, token)) === want) return performance.now() - since;
    if (performance.now() - since > 5000) assert.fail(`still not ${want} after 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a kill from another process reaches a running server within a second and holds across a restart', async () => {
  const created = await runCli([
    'token',
    'create',
    '--role',
    'agent',
    '--agent',
    'research-agent',
    '--tokens',
    tokensFile,
  ]);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();

  const first = await startServer();
  assert.equal(await effect(first.url, token), 'allow');

  const killed = await runCli([
    'kill',
    'research-agent',
    '--reason',
    'runaway loop',
    '--by',
    'oncall',
    '--db',
    db,
  ]);
  assert.equal(killed.code, 0, killed.stderr);
  const latency = await until(first.url, token, 'deny', performance.now());
  assert.ok(latency < 1000, `the server saw the kill after ${latency.toFixed(0)} ms`);

  await stop(first.child);
  const second = await startServer();
  assert.equal(await effect(second.url, token), 'deny', 'still stopped after a restart');

  const revived = await runCli(['revive', 'research-agent', '--by', 'oncall', '--db', db]);
  assert.equal(revived.code, 0, revived.stderr);
  const back = await until(second.url, token, 'allow', performance.now());
  assert.ok(back < 1000, `the server saw the revive after ${back.toFixed(0)} ms`);

  const audit = await runCli(['audit', 'tail', '--type', 'kill', '--json', '--db', db]);
  const kill = JSON.parse(audit.stdout.trim().split('\n')[0] as string) as {
    actor: string;
    data: { reason: string };
  };
  assert.deepEqual([kill.actor, kill.data.reason], ['oncall', 'runaway loop']);
  await stop(second.child);

  const verify = await runCli(['audit', 'verify', '--db', db]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /^ok: /);
});
