import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, spawnCli, tempDir, waitForLine } from '../helpers/cli.js';

const tmp = tempDir();
const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  tmp.remove();
});

for (const [sync, yaml] of [
  ['full', ''],
  ['normal', 'audit:\n  sync: normal\n'],
] as const) {
  test(`warden serve says which durability it writes with: audit.sync ${sync}`, async () => {
    const policy = join(tmp.dir, `${sync}.yaml`);
    writeFileSync(policy, `agents:\n  bot:\n    allow: [fs.read]\n${yaml}`);
    const child = spawnCli([
      'serve',
      '--policy',
      policy,
      '--port',
      '0',
      '--db',
      join(tmp.dir, `${sync}.db`),
      '--tokens',
      join(tmp.dir, `${sync}-tokens.json`),
    ]);
    children.push(child);
    const [line] = await waitForLine(child, /warden listening on .*\)/);
    assert.match(line, new RegExp(`store sqlite, audit\\.sync ${sync}\\)`));
    child.kill('SIGTERM');
  });
}

test('a wrong `audit.sync` is a policy error naming the field and the choices', async () => {
  const policy = join(tmp.dir, 'bad.yaml');
  writeFileSync(policy, 'agents:\n  bot:\n    allow: [fs.read]\naudit:\n  sync: off\n');
  const result = await runCli(['policy', 'validate', policy]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr + result.stdout, /bad\.yaml:5:\d+: audit\.sync: .*full.*normal/);
});
