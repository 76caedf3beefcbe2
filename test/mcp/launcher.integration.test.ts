import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { call } from './mcp-helpers.js';

// `bin/warden`, the POSIX launcher users run: it starts `warden mcp`'s upstream server before
// Node and hands it over. It runs the built CLI (`bin/warden.js`), bundled here when missing.
const LAUNCHER = join(ROOT, 'bin/warden');
const SERVER = join(ROOT, 'test/fixtures/mcp-launched-server.mjs');
const tmp = tempDir('warden-launcher-');
const dir = join(tmp.dir, 'a folder with "spaces" and it\'s quotes');
mkdirSync(dir);
const clients: Client[] = [];

before(() => {
  if (existsSync(join(ROOT, 'dist/src/bundle/cli/cli.js'))) return;
  const bundled = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle-cli.mjs')], { cwd: ROOT });
  assert.equal(bundled.status, 0, `scripts/bundle-cli.mjs failed: ${bundled.stderr}`);
});
after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  tmp.remove();
});

interface Start {
  pid: number;
  stdin: 'fifo' | 'other';
  args: string[];
}

function policy(name: string, text = 'agents:\n  bot:\n    allow: [mcp.tiny.echo]\n'): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

function starts(file: string): Start[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Start);
}

function run(command: string, args: string[]) {
  return spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, WARDEN_CODE_CACHE: '0' },
  });
}

const exists = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether `pid` runs: a zombie does not (its parent, a gateway still serving, has not collected it). */
const running = (pid: number) => {
  if (!existsSync('/proc/self/stat')) return exists(pid);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !'ZX'.includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
};

/** Waits until `pid` is gone (`stopped`: or no longer running); false if it never is. */
async function gone(pid: number, stopped: (pid: number) => boolean = exists): Promise<boolean> {
  // Stopped as the gateway exits: give a loaded machine time to deliver the signals.
  for (let i = 0; i < 100 && stopped(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return !stopped(pid);
}

test('bin/warden starts the upstream server before Node, and the MCP client lists and calls its tools through it; arguments with spaces and quotes arrive as given', async () => {
  const file = join(dir, 'served starts.jsonl');
  const extra = ['it\'s "two words"', '$HOME `id`', ''];
  const client = new Client({ name: 'launcher-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: LAUNCHER,
      args: [
        ...['mcp', '--policy', policy('served'), '--db', join(dir, 'served.db'), '--server', 'tiny'],
        ...['--', process.execPath, SERVER, file, ...extra],
      ],
      cwd: ROOT,
      stderr: 'pipe',
    }),
  );
  clients.push(client);
  assert.deepEqual(
    (await client.listTools()).tools.map((t) => t.name),
    ['echo'],
  );
  assert.deepEqual((await call(client, 'echo', { message: 'through the launcher' })).content, [
    { type: 'text', text: 'through the launcher' },
  ]);
  assert.equal((await call(client, 'transfer', { amount: 5, to: 'x' })).isError, true);
  const [start, ...again] = starts(file);
  assert.deepEqual(again, [], 'started once');
  assert.equal(start?.stdin, 'fifo', 'the server the launcher started is the one serving');
  assert.deepEqual(start?.args, extra);
});

async function connected(command: string, args: string[]): Promise<Client> {
  const client = new Client({ name: 'launcher-test', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command, args, cwd: ROOT, stderr: 'pipe' }));
  clients.push(client);
  return client;
}

test('a policy giving the server an environment of its own gets a server started with it: the launcher’s is stopped', async () => {
  const file = join(dir, 'env starts.jsonl');
  const text =
    'agents:\n  bot:\n    allow: [mcp.tiny.echo]\nmcp:\n  servers:\n    tiny:\n      env: { A: b }\n';
  const client = await connected(LAUNCHER, [
    ...['mcp', '--policy', policy('env', text), '--db', join(dir, 'env.db')],
    ...['--', process.execPath, SERVER, file],
  ]);
  assert.deepEqual((await call(client, 'echo', { message: 'hi' })).content, [{ type: 'text', text: 'hi' }]);
  // Both start at once (the launcher's first), so either may record its start first; the
  // launcher's may even be stopped before it records its start: every process running this
  // server (found by its arguments, which name `file`) is counted instead.
  const all = starts(file);
  const spawned = all.find((s) => s.stdin === 'other');
  assert.ok(spawned, 'the serving one was started by Warden');
  assert.ok(all.length <= 2, JSON.stringify(all));
  const others = async () => {
    for (let i = 0; i < 100; i++) {
      const left = serversOf(file).filter((pid) => pid !== spawned.pid);
      if (left.length === 0) return left;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return serversOf(file).filter((pid) => pid !== spawned.pid);
  };
  assert.deepEqual(await others(), [], "the launcher's server was stopped");
  assert.ok(running(spawned.pid), 'the serving one still runs');
});

/** The pids of running processes (not zombies) that run the fixture server with `arg` (not Warden, whose own arguments name it too). */
function serversOf(arg: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
        return args[1] === SERVER && args.includes(arg);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter((pid) => pid !== process.pid && running(pid));
}

test('a handover without its FIFOs is not used: that process is stopped and Warden starts the server itself', async () => {
  const file = join(dir, 'no-fifo starts.jsonl');
  const pidFile = join(dir, 'no-fifo.pid');
  const args = ['mcp', '--policy', policy('no-fifo'), '--db', join(dir, 'no-fifo.db'), '--server', 'tiny'];
  // `--` is argument 7: what the launcher would say, without opening fds 3 and 4.
  const script = 'sleep 60 & echo $! > "$1"; shift; WARDEN_MCP_STARTED="$! 7" exec "$@"';
  const client = await connected('/bin/sh', [
    ...['-c', script, 'sh', pidFile, process.execPath, join(ROOT, 'bin/warden.js'), ...args],
    ...['--', process.execPath, SERVER, file],
  ]);
  assert.deepEqual((await call(client, 'echo', { message: 'hi' })).content, [{ type: 'text', text: 'hi' }]);
  assert.deepEqual(
    starts(file).map((s) => s.stdin),
    ['other'],
  );
  const handed = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(await gone(handed, running), 'the handed-over process was stopped');
});

test('a policy that refuses to start kills the server bin/warden started, leaving no process behind', async () => {
  const refusals = [
    { name: 'invalid', text: 'agents:\n  bot:\n    bogus: 1\n', message: /warden: invalid policy:/ },
    { name: 'no-agent', text: undefined, message: /warden: agent `nobody` is not in the policy/ },
  ];
  for (const { name, text, message } of refusals) {
    const file = join(dir, `${name}.jsonl`);
    const result = run(LAUNCHER, [
      ...['mcp', '--policy', policy(name, text), '--agent', 'nobody', '--db', join(dir, `${name}.db`)],
      ...['--server', 'tiny', '--', process.execPath, SERVER, file],
    ]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, message);
    const [start] = starts(file);
    assert.equal(start?.stdin, 'fifo', `${name}: started by the launcher`);
    assert.ok(await gone(start.pid), `${name}: server ${start.pid} still runs`);
  }
});

test('a server command bin/warden cannot start gets Warden’s own error and exit code, as through bin/warden.js', () => {
  const args = ['mcp', '--policy', policy('missing'), '--agent', 'bot', '--db', join(dir, 'missing.db')];
  const missing = ['--', 'no-such-mcp-server', 'with args'];
  const viaLauncher = run(LAUNCHER, [...args, ...missing]);
  const viaJs = run(process.execPath, [join(ROOT, 'bin/warden.js'), ...args, ...missing]);
  assert.equal(viaLauncher.status, 1, viaLauncher.stderr);
  assert.equal(viaLauncher.status, viaJs.status);
  assert.match(
    viaLauncher.stderr,
    /warden: MCP server `upstream` is unavailable: spawn no-such-mcp-server ENOENT/,
  );
  assert.doesNotMatch(viaLauncher.stderr, /not found/);
});

test('other commands behave identically through bin/warden and bin/warden.js', async () => {
  const cases = [
    ['--help'],
    ['--version'],
    ['mcp', '--help'],
    ['mcp'],
    ['mcp', '--', process.execPath, SERVER, join(dir, 'no-policy.jsonl')],
    ['check', '--policy', join(ROOT, 'examples/demo.yaml'), '--db', join(dir, 'absent.db')],
    ['no-such-command'],
  ];
  for (const args of cases) {
    const viaLauncher = run(LAUNCHER, args);
    const viaJs = run(process.execPath, [join(ROOT, 'bin/warden.js'), ...args]);
    assert.deepEqual(
      { status: viaLauncher.status, stdout: viaLauncher.stdout, stderr: viaLauncher.stderr },
      { status: viaJs.status, stdout: viaJs.stdout, stderr: viaJs.stderr },
      args.join(' '),
    );
  }
  // `mcp -- COMMAND` with no policy: the launcher's server is stopped as Warden refuses.
  const [start] = starts(join(dir, 'no-policy.jsonl'));
  assert.equal(start?.stdin, 'fifo');
  assert.ok(await gone(start.pid), `server ${start.pid} still runs`);
});

test('bin/warden leaves no FIFO folder behind', () => {
  const before = new Set(readdirSync(tmpdir()));
  run(LAUNCHER, [
    'mcp',
    '--policy',
    policy('clean'),
    '--',
    process.execPath,
    SERVER,
    join(dir, 'clean.jsonl'),
  ]);
  const left = readdirSync(tmpdir()).filter(
    (name) => !before.has(name) && existsSync(join(tmpdir(), name, 'in')),
  );
  assert.deepEqual(left, []);
});
