import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT, tempDir } from '../helpers/cli.js';

// `bin/warden` (the package's bin) run with a `node` on PATH that prints the arguments it got.
const tmp = tempDir('warden-serve-flags-');
after(() => tmp.remove());
const node = join(tmp.dir, 'node');
writeFileSync(node, '#!/bin/sh\nprintf "%s\\n" "$@"\n');
chmodSync(node, 0o755);
const FLAGS = readFileSync(join(ROOT, 'bin/serve.node-flags'), 'utf8').split('\n')[0]?.split(' ') ?? [];

function launch(args: string[], nodeOptions?: string): string[] {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${tmp.dir}:${process.env.PATH}` };
  if (nodeOptions === undefined) delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = nodeOptions;
  const run = spawnSync('sh', [join(ROOT, 'bin/warden'), ...args], { env, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim().split('\n');
}

test('warden serve starts Node with the flags of bin/serve.node-flags, a larger young generation', () => {
  assert.ok(
    FLAGS.some((f) => f.startsWith('--max-semi-space-size=')),
    FLAGS.join(' '),
  );
  assert.deepEqual(launch(['serve', '--port', '0']), [
    ...FLAGS,
    join(ROOT, 'bin/warden.js'),
    'serve',
    '--port',
    '0',
  ]);
});

test('other commands start Node without them', () => {
  assert.deepEqual(launch(['audit', 'verify']), [join(ROOT, 'bin/warden.js'), 'audit', 'verify']);
});

test('a --max-semi-space-size in NODE_OPTIONS is the user’s choice: the launcher adds none', () => {
  assert.deepEqual(launch(['serve'], '--max-semi-space-size=16'), [join(ROOT, 'bin/warden.js'), 'serve']);
});
